"""The data commands: store, query, get, forget, stats, tags, export, import, reindex, reflect, quality."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from memory_core import Importance, Source

from .render import hit_json, memory_line, parse_ttl, parse_when, progress_bar, when
from .runner import (
    CLI_ACTOR,
    DEFAULT_TENANT,
    JsonOption,
    TenantOption,
    err,
    fail,
    open_core,
    out,
    print_json,
    run,
    with_core,
)

if TYPE_CHECKING:
    from memory_core import ExportRecord, Hit, StoreResult

__all__ = ["register"]


def store(
    text: Annotated[str, typer.Argument(help="What to remember. Use '-' to read it from stdin.")],
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="A tag (repeatable).")] = None,
    importance: Annotated[Importance, typer.Option(help="How much it matters.")] = Importance.NORMAL,
    kind: Annotated[str, typer.Option(help="note, decision, incident, ...")] = "note",
    ttl: Annotated[
        str | None, typer.Option(help="Hide it from queries after this long: 30d, 12h, 2w.")
    ] = None,
    title: Annotated[str | None, typer.Option(help="A short title.")] = None,
    author: Annotated[str | None, typer.Option(help="Who it comes from (default: cli).")] = None,
    supersedes: Annotated[
        int | None,
        typer.Option(min=1, help="The id of a memory this one replaces (it drops out of answers)."),
    ] = None,
    redact: Annotated[bool, typer.Option(help="Store credentials redacted instead of refusing.")] = False,
    tenant: TenantOption = DEFAULT_TENANT,
    as_json: JsonOption = False,
) -> None:
    """Remember something. Prints the new id, or the id it was already stored under, and any stored
    memory it may contradict (store it again with --supersedes ID to replace that one)."""
    body = sys.stdin.read() if text == "-" else text

    async def work() -> StoreResult:
        from memory_core import MemoryDraft

        draft = MemoryDraft(
            text=body,
            tags=tuple(tag or ()),
            importance=importance,
            kind=kind,
            expires_at=parse_ttl(ttl),
            title=title,
            source=Source.CLI,
            author=author or CLI_ACTOR.name,
            author_id=CLI_ACTOR.id,
            supersedes=supersedes,
        )
        async with open_core() as core:
            return await core.store(tenant, draft, redact=redact)

    result = run(work)
    if as_json:
        print_json(
            {
                "id": result.id,
                "duplicate_of": result.duplicate_of,
                "near_duplicates": list(result.near_duplicates),
                "redacted": list(result.redacted),
                "contradicts": [c.model_dump(mode="json") for c in result.contradicts],
            }
        )
        return
    if result.created:
        err.print(f"Remembered as [bold]#{result.id}[/bold].", highlight=False)
        if result.near_duplicates:
            err.print("Similar: " + ", ".join(f"#{i}" for i in result.near_duplicates), highlight=False)
        if result.redacted:
            err.print("Redacted: " + ", ".join(result.redacted), highlight=False)
    else:
        replaces = f" It replaces #{result.memory.supersedes}." if result.memory.supersedes else ""
        err.print(f"Already remembered as [bold]#{result.id}[/bold].{replaces}", highlight=False)
    for maybe in result.contradicts:
        err.print(
            f"Warning: {maybe.warning} ({maybe.reason}) — run the same store again with "
            f"--supersedes {maybe.id} to replace it.",
            highlight=False,
            markup=False,
        )


def query(
    question: Annotated[str, typer.Argument(help="What you want to know.")],
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many answers.")] = 5,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Only memories with this tag.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    source: Annotated[Source | None, typer.Option(help="Only from this front-end.")] = None,
    author: Annotated[str | None, typer.Option("--from", help="Only stored by this person.")] = None,
    since: Annotated[str | None, typer.Option(help="Only newer than: 7d, 2w or 2026-01-31.")] = None,
    until: Annotated[str | None, typer.Option(help="Only older than: a date or duration.")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, vector or keyword.")] = "hybrid",
    include_superseded: Annotated[
        bool, typer.Option(help="Also memories replaced by newer ones (shown as superseded by #N).")
    ] = False,
    tenant: TenantOption = DEFAULT_TENANT,
    as_json: JsonOption = False,
) -> None:
    """Ask the memory. Hybrid keyword + meaning search; the best answers first."""

    async def work() -> list[Hit]:
        from memory_core import QueryFilters

        filters = QueryFilters(
            tags=tuple(tag or ()),
            kind=kind,
            source=source,
            author=author,
            since=parse_when(since, option="--since"),
            until=parse_when(until, option="--until", end_of_day=True),
            include_superseded=include_superseded,
        )
        async with open_core(preload_model=mode != "keyword") as core:
            return await core.query(tenant, question, filters=filters, limit=limit, mode=mode)  # type: ignore[arg-type]

    hits = run(work)
    if as_json:
        print_json([hit_json(h) for h in hits])
        return
    if not hits:
        err.print("Nothing found. Try other words, or fewer filters.")
        return
    for hit in hits:
        out.print(memory_line(hit.memory) + f" [dim]score {hit.score:.2f}[/dim]", highlight=False)


def get(
    memory_id: Annotated[int, typer.Argument(help="The id, as in #42 (write 42).")],
    tenant: TenantOption = DEFAULT_TENANT,
    as_json: JsonOption = False,
) -> None:
    """Show one memory."""
    memory = with_core(lambda core: core.get(tenant, memory_id))
    if as_json:
        print_json(memory)
    else:
        out.print(memory_line(memory), highlight=False)


def forget(
    memory_id: Annotated[int, typer.Argument(help="The id to delete for good.")],
    tenant: TenantOption = DEFAULT_TENANT,
    as_json: JsonOption = False,
) -> None:
    """Delete a memory for real (text, vector, keyword entry); the audit log keeps who and when."""
    with_core(lambda core: core.delete(tenant, memory_id, actor=CLI_ACTOR))
    if as_json:
        print_json({"id": memory_id, "deleted": True})
    else:
        err.print(f"Forgot #{memory_id}.")


def stats(tenant: TenantOption = DEFAULT_TENANT, as_json: JsonOption = False) -> None:
    """Counts by kind, source and tag; index size; the model in use."""
    from rich.table import Table

    result = with_core(lambda core: core.stats(tenant))
    if as_json:
        print_json(result)
        return
    table = Table(title=f"teamlore · {tenant}", show_header=False)
    table.add_row("memories", str(result.memories))
    table.add_row("expired (hidden)", str(result.expired))
    table.add_row("indexed vectors", str(result.indexed_vectors))
    table.add_row("by kind", ", ".join(f"{k} {v}" for k, v in sorted(result.by_kind.items())))
    table.add_row("by source", ", ".join(f"{k} {v}" for k, v in sorted(result.by_source.items())))
    table.add_row("top tags", ", ".join(f"#{t.tag} {t.count}" for t in result.top_tags))
    table.add_row("model", f"{result.embedding_model} ({result.embedding_dim})")
    out.print(table)


def tags(tenant: TenantOption = DEFAULT_TENANT, as_json: JsonOption = False) -> None:
    """Every tag in use, most used first."""
    result = with_core(lambda core: core.list_tags(tenant))
    if as_json:
        print_json(result)
    else:
        for t in result:
            out.print(f"#{t.tag} {t.count}", highlight=False)


def export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    tenant: TenantOption = DEFAULT_TENANT,
) -> None:
    """Write every memory of the tenant as JSON lines (with vectors), for backup or moving."""

    async def work() -> int:
        count = 0
        handle = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            async with open_core() as core:
                async for record in core.export(tenant):
                    handle.write(record.model_dump_json() + "\n")
                    count += 1
        finally:
            if output:
                handle.close()
        return count

    count = run(work)
    err.print(f"Exported {count} memories.")


def _read_export(source_file: Path) -> list[ExportRecord]:
    from memory_core import ExportRecord

    lines = (
        sys.stdin.read().splitlines()
        if str(source_file) == "-"
        else source_file.read_text("utf-8").splitlines()
    )
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(ExportRecord.model_validate_json(line))
        except ValueError as exc:
            raise fail(f"line {number} is not an exported memory: {exc}") from exc
    return records


def import_command(
    source_file: Annotated[Path, typer.Argument(help="A JSONL file from `teamlore export` ('-' for stdin).")],
    tenant: TenantOption = DEFAULT_TENANT,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Force the bar on or off.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Import memories exported by `teamlore export`; re-embeds when the model differs."""
    records = _read_export(source_file)

    async def work() -> list[StoreResult]:
        async with open_core() as core:
            with progress_bar("importing", enabled=progress) as update:
                return await core.import_(tenant, records, on_progress=update)

    results = run(work)
    created = sum(r.created for r in results)
    if as_json:
        print_json({"imported": created, "duplicates": len(results) - created})
    else:
        err.print(f"Imported {created} memories ({len(results) - created} already there).")


def reindex(
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Force the bar on or off.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Re-embed every memory with the configured model (after changing models) and rebuild the index."""

    async def work() -> int:
        async with open_core(allow_model_mismatch=True) as core:
            with progress_bar("re-embedding", enabled=progress) as update:
                return await core.reindex(on_progress=update)

    count = run(work)
    if as_json:
        print_json({"reindexed": count})
    else:
        err.print(f"Re-embedded {count} memories; the index is rebuilt.")


def reflect(
    topic: Annotated[
        str | None, typer.Argument(help="What to reflect on (omit with --since for a time window).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Window start: 30d, 2w or a date.")] = None,
    until: Annotated[str | None, typer.Option(help="Window end: a date or duration.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Only memories with this tag.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Do not save the reflection.")] = False,
    tenant: TenantOption = DEFAULT_TENANT,
    as_json: JsonOption = False,
) -> None:
    """Synthesise what the memory knows about a topic: summary, cited points, timeline, conflicts."""
    from rich.markup import escape

    async def work() -> Any:
        from memory_core import QueryFilters

        filters = QueryFilters(
            tags=tuple(tag or ()),
            since=parse_when(since, option="--since"),
            until=parse_when(until, option="--until", end_of_day=True),
        )
        async with open_core() as core:
            return await core.reflect(tenant, topic, filters=filters, dry_run=dry_run, actor=CLI_ACTOR)

    result = run(work)
    if as_json:
        print_json(result)
        return
    out.print(
        f"[bold]Reflection{f' on {escape(result.topic)}' if result.topic else ''}[/bold]"
        + (f" (saved as #{result.id})" if result.id else ""),
        highlight=False,
    )
    out.print(result.summary, highlight=False, markup=False)
    for point in result.points:
        out.print(
            f"  • {escape(point.text)} [dim]{' '.join(f'#{i}' for i in point.sources)}[/dim]", highlight=False
        )
    if result.timeline:
        out.print("[bold]Timeline[/bold]")
        for entry in result.timeline:
            out.print(f"  {when(entry.when)}  #{entry.id} {entry.text}", highlight=False, markup=False)
    for group in result.duplicates:
        out.print("[yellow]Duplicates:[/yellow] " + ", ".join(f"#{i}" for i in group), highlight=False)
    for conflict in result.conflicts:
        out.print(
            f"[red]Possible conflict:[/red] {', '.join(f'#{i}' for i in conflict.ids)}: "
            f"{escape(conflict.reason)}",
            highlight=False,
        )
    if result.notice:
        err.print(f"[dim]{escape(result.notice)}[/dim]", highlight=False)


def quality(tenant: TenantOption = DEFAULT_TENANT, as_json: JsonOption = False) -> None:
    """Score the memory's health 0-100 and list what to fix; the report is kept for the trend."""
    from rich.markup import escape

    report = with_core(lambda core: core.quality_report(tenant))
    if as_json:
        print_json(
            {
                "score": report.score,
                "findings": [f.model_dump(mode="json") for f in report.findings],
                "trend": [t.model_dump(mode="json") for t in report.trend],
                "id": report.id,
                "created_at": report.created_at.isoformat(),
            }
        )
        return
    trend = " → ".join(str(t.score) for t in report.trend[-6:])
    out.print(
        f"[bold]Memory quality: {report.score}/100[/bold]"
        + (f"  [dim](trend {trend})[/dim]" if trend else "")
    )
    if not report.findings:
        out.print("No problems found.")
    for finding in report.findings:
        ids = " ".join(f"#{i}" for i in finding.memory_ids[:12])
        out.print(
            f"  \\[{finding.severity.value}] {finding.kind}: {escape(finding.message)} {ids}\n"
            f"    [dim]fix: {escape(finding.hint)}[/dim]",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add the data commands to the top-level app, in the order `--help` lists them."""
    commands: list[tuple[str, Callable[..., None]]] = [
        ("store", store),
        ("query", query),
        ("get", get),
        ("forget", forget),
        ("stats", stats),
        ("tags", tags),
        ("export", export),
        ("import", import_command),
        ("reindex", reindex),
        ("reflect", reflect),
        ("quality", quality),
    ]
    for name, command in commands:
        app.command(name)(command)
