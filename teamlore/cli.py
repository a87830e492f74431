"""The `teamlore` command line (typer + rich): data commands, `serve`, `shell`, `mcp` and admin tools."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bots.grammar import parse_duration, parse_time
from memory_core import (
    DEFAULT_TENANT,
    Actor,
    ExportRecord,
    Hit,
    Importance,
    Memory,
    MemoryCore,
    MemoryDraft,
    QueryFilters,
    Source,
    StoreResult,
    TeamloreError,
    new_reference,
)

from .logconfig import configure_logging
from .settings import Settings, load_settings

__all__ = ["app", "main"]

logger = logging.getLogger("teamlore.cli")

app = typer.Typer(
    name="teamlore",
    help="A team's shared memory: store, query and reflect from the terminal, chat, mail and MCP clients.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Human output and errors go to stderr; stdout carries only what was asked for (--json, export).
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

CLI_ACTOR = Actor(id="cli:local", name="cli", is_admin=True)

TenantOption = Annotated[str, typer.Option("--tenant", help="Tenant to act in.", envvar="TEAMLORE_TENANT")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]

T = TypeVar("T")


# --- plumbing -------------------------------------------------------------------------------------------


def _settings() -> Settings:
    try:
        return load_settings()
    except TeamloreError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from exc


@asynccontextmanager
async def open_core(settings: Settings, *, allow_model_mismatch: bool = False) -> AsyncIterator[MemoryCore]:
    """Open the core the settings describe (the CLI's one way in)."""
    core = await MemoryCore.open(settings.core_settings(), allow_model_mismatch=allow_model_mismatch)
    try:
        yield core
    finally:
        await core.aclose()


def run(work: Callable[[Settings], Awaitable[T]]) -> T:
    """Run one command: settings, logging, the event loop, and the one place CLI errors are rendered."""
    settings = _settings()
    configure_logging(
        settings.log.model_copy(update={"level": "WARNING"}) if settings.log.level == "INFO" else settings.log
    )
    try:
        return anyio.run(work, settings)
    except TeamloreError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    except ValidationError as exc:
        # A value an option allowed but a core value type refused (e.g. --kind "Not A Kind"): bad input.
        reasons = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        err.print(f"[red]error:[/red] {reasons}", highlight=False)
        raise typer.Exit(1) from exc
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        reference = new_reference()
        logger.exception("unexpected error (ref %s)", reference)
        err.print(f"[red]error:[/red] something went wrong (ref {reference})", highlight=False)
        raise typer.Exit(1) from exc


def with_core(call: Callable[[MemoryCore], Awaitable[T]]) -> T:
    """Run one command's work on an opened core, with `run`'s settings, logging and error handling."""

    async def work(settings: Settings) -> T:
        async with open_core(settings) as core:
            return await call(core)

    return run(work)


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(_dump(value), ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def parse_when(value: str | None, *, option: str, end_of_day: bool = False) -> datetime | None:
    """`7d`, `12h`, `2w`, `90m` (that long ago) or a date: the chat grammar's rules (bots.grammar)."""
    if value is None:
        return None
    return parse_time(value, now=datetime.now(UTC), name=option, end_of_day=end_of_day)


def parse_ttl(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.now(UTC) + parse_duration(value, name="--ttl")


@contextmanager
def progress_bar(description: str, *, enabled: bool | None) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr when it is a terminal (or when forced), else nothing."""
    show = err.is_terminal if enabled is None else enabled
    if not show:
        yield lambda done, total: None
        return
    console = err if err.is_terminal else Console(stderr=True, force_terminal=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _when(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def memory_line(memory: Memory) -> str:
    tags = " ".join(f"#{t}" for t in memory.tags)
    who = memory.author or "someone"
    origin = f" via {memory.source.value}"
    if memory.source_ref:
        origin += f" ({memory.source_ref})"
    detail = f"{who}, {_when(memory.created_at)}{origin} {tags}"
    if memory.superseded_by is not None:
        detail += f" · superseded by #{memory.superseded_by}"
    return f"[bold]#{memory.id}[/bold] {memory.text}\n    [dim]{detail}[/dim]"


def hit_json(hit: Hit) -> dict[str, Any]:
    m = hit.memory
    return {
        "id": m.id,
        "text": m.text,
        "score": hit.score,
        "tags": list(m.tags),
        "kind": m.kind,
        "importance": m.importance.value,
        "source": m.source.value,
        "source_ref": m.source_ref,
        "title": m.title,
        "author": m.author,
        "created_at": m.created_at.isoformat(),
        "expires_at": m.expires_at.isoformat() if m.expires_at else None,
        "superseded_by": m.superseded_by,
        "breakdown": hit.breakdown.model_dump(mode="json"),
    }


# --- data commands ----------------------------------------------------------------------------------------


@app.command()
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

    async def work(settings: Settings) -> StoreResult:
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
        async with open_core(settings) as core:
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


@app.command()
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

    async def work(settings: Settings) -> list[Hit]:
        filters = QueryFilters(
            tags=tuple(tag or ()),
            kind=kind,
            source=source,
            author=author,
            since=parse_when(since, option="--since"),
            until=parse_when(until, option="--until", end_of_day=True),
            include_superseded=include_superseded,
        )
        async with open_core(settings) as core:
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


@app.command()
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


@app.command()
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


@app.command()
def stats(tenant: TenantOption = DEFAULT_TENANT, as_json: JsonOption = False) -> None:
    """Counts by kind, source and tag; index size; the model in use."""

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


@app.command()
def tags(tenant: TenantOption = DEFAULT_TENANT, as_json: JsonOption = False) -> None:
    """Every tag in use, most used first."""

    result = with_core(lambda core: core.list_tags(tenant))
    if as_json:
        print_json(result)
    else:
        for t in result:
            out.print(f"#{t.tag} {t.count}", highlight=False)


@app.command()
def export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    tenant: TenantOption = DEFAULT_TENANT,
) -> None:
    """Write every memory of the tenant as JSON lines (with vectors), for backup or moving."""

    async def work(settings: Settings) -> int:
        count = 0
        handle = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            async with open_core(settings) as core:
                async for record in core.export(tenant):
                    handle.write(record.model_dump_json() + "\n")
                    count += 1
        finally:
            if output:
                handle.close()
        return count

    count = run(work)
    err.print(f"Exported {count} memories.")


@app.command("import")
def import_command(
    source_file: Annotated[Path, typer.Argument(help="A JSONL file from `teamlore export` ('-' for stdin).")],
    tenant: TenantOption = DEFAULT_TENANT,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Force the bar on or off.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Import memories exported by `teamlore export`; re-embeds when the model differs."""
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
            err.print(f"[red]error:[/red] line {number} is not an exported memory: {exc}", highlight=False)
            raise typer.Exit(1) from exc

    async def work(settings: Settings) -> list[StoreResult]:
        async with open_core(settings) as core:
            with progress_bar("importing", enabled=progress) as update:
                return await core.import_(tenant, records, on_progress=update)

    results = run(work)
    created = sum(r.created for r in results)
    if as_json:
        print_json({"imported": created, "duplicates": len(results) - created})
    else:
        err.print(f"Imported {created} memories ({len(results) - created} already there).")


@app.command()
def reindex(
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Force the bar on or off.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Re-embed every memory with the configured model (after changing models) and rebuild the index."""

    async def work(settings: Settings) -> int:
        async with open_core(settings, allow_model_mismatch=True) as core:
            with progress_bar("re-embedding", enabled=progress) as update:
                return await core.reindex(on_progress=update)

    count = run(work)
    if as_json:
        print_json({"reindexed": count})
    else:
        err.print(f"Re-embedded {count} memories; the index is rebuilt.")


@app.command()
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

    async def work(settings: Settings) -> Any:
        filters = QueryFilters(
            tags=tuple(tag or ()),
            since=parse_when(since, option="--since"),
            until=parse_when(until, option="--until", end_of_day=True),
        )
        async with open_core(settings) as core:
            return await core.reflect(tenant, topic, filters=filters, dry_run=dry_run, actor=CLI_ACTOR)

    result = run(work)
    if as_json:
        print_json(result)
        return
    out.print(
        f"[bold]Reflection{f' on {result.topic}' if result.topic else ''}[/bold]"
        + (f" (saved as #{result.id})" if result.id else ""),
        highlight=False,
    )
    out.print(result.summary, highlight=False)
    for point in result.points:
        out.print(f"  • {point.text} [dim]{' '.join(f'#{i}' for i in point.sources)}[/dim]", highlight=False)
    if result.timeline:
        out.print("[bold]Timeline[/bold]")
        for entry in result.timeline:
            out.print(f"  {_when(entry.when)}  #{entry.id} {entry.text}", highlight=False)
    for group in result.duplicates:
        out.print("[yellow]Duplicates:[/yellow] " + ", ".join(f"#{i}" for i in group), highlight=False)
    for conflict in result.conflicts:
        out.print(
            f"[red]Possible conflict:[/red] {', '.join(f'#{i}' for i in conflict.ids)}: {conflict.reason}",
            highlight=False,
        )
    if result.notice:
        err.print(f"[dim]{result.notice}[/dim]", highlight=False)


@app.command()
def quality(tenant: TenantOption = DEFAULT_TENANT, as_json: JsonOption = False) -> None:
    """Score the memory's health 0-100 and list what to fix; the report is kept for the trend."""

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
            f"  [{finding.severity.value}] {finding.kind}: {finding.message} {ids}\n"
            f"    [dim]fix: {finding.hint}[/dim]",
            highlight=False,
        )


@app.command()
def serve(
    only: Annotated[
        str | None,
        typer.Option(help="Run only these parts, comma-separated: web, discord, mail, scheduler."),
    ] = None,
    host: Annotated[str | None, typer.Option(help="Override TEAMLORE_HTTP__HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Override TEAMLORE_HTTP__PORT.")] = None,
) -> None:
    """Run teamlore: the web app and every front-end whose credentials are set, in one process."""
    from .runtime import parse_only
    from .runtime import serve as serve_forever

    settings = _settings()
    if host is not None or port is not None:
        http = settings.http.model_copy(
            update={k: v for k, v in (("host", host), ("port", port)) if v is not None}
        )
        settings = settings.model_copy(update={"http": http})
    configure_logging(settings.log)
    try:
        parts = parse_only(only)
        anyio.run(serve_forever, settings, parts)
    except TeamloreError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc


@app.command()
def check(as_json: JsonOption = False) -> None:
    """Validate the settings and connectivity; say what is enabled and why."""
    from .runtime import check as run_check

    settings = _settings()
    configure_logging(settings.log.model_copy(update={"level": "WARNING"}))
    report = anyio.run(run_check, settings)
    if as_json:
        print_json(report)
    else:
        for item in report["checks"]:
            mark = "[green]ok[/green]" if item["ok"] else "[red]FAIL[/red]"
            mark = "[yellow]warn[/yellow]" if item.get("warn") else mark
            out.print(f"{mark:>20}  {item['name']}: {item['detail']}", highlight=False)
        for part in report["frontends"]:
            state = "[green]enabled[/green]" if part["enabled"] else "[dim]off[/dim]"
            out.print(f"{state:>24}  {part['name']}: {part['why']}", highlight=False)
    if not report["ok"]:
        raise typer.Exit(1)


@app.command()
def shell(tenant: TenantOption = DEFAULT_TENANT) -> None:
    """A prompt that takes /store, /query, /reflect, /forget and /lore help exactly as chat does."""
    import getpass

    from .shell import run_shell

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "local"
    actor = Actor(id=f"cli:{user}", name=user, is_admin=True)

    with_core(lambda core: run_shell(core, tenant, actor))


@app.command()
def mcp(tenant: TenantOption = DEFAULT_TENANT) -> None:
    """MCP over stdio for Claude Desktop, Cursor and Claude Code: protocol on stdout, logs to stderr."""
    from mcp_server.stdio import run_stdio

    settings = _settings()
    # Before the SDK is imported into use: it calls logging.basicConfig, a no-op once logging is set.
    configure_logging(settings.log)

    async def work(settings: Settings) -> None:
        async with open_core(settings) as core:
            await run_stdio(core, tenant, settings=settings.mcp)

    try:
        anyio.run(work, settings)
    except TeamloreError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc


discord_app = typer.Typer(help="The Discord bot.", no_args_is_help=True)


@discord_app.command("invite")
def discord_invite() -> None:
    """Print the OAuth2 invite URL with exactly the scopes and permissions the bot needs."""
    from bots.discord.bot import invite_url

    settings = _settings()
    if settings.discord.application_id is None:
        err.print(
            "[red]error:[/red] set TEAMLORE_DISCORD__APPLICATION_ID (Developer Portal > General Information)",
            highlight=False,
        )
        raise typer.Exit(2)
    sys.stdout.write(invite_url(settings.discord.application_id) + "\n")


def _public_url() -> str:
    http = _settings().http
    return http.public_url or f"http://{http.host}:{http.port}"


def _register_subcommands() -> None:
    from .cli_alerts import build_alerts_app
    from .cli_keys import build_keys_app
    from .cli_web import build_web_app
    from .cli_webhooks import build_webhooks_app

    app.add_typer(
        build_keys_app(lambda: open_core(_settings())),
        name="keys",
        help="API keys for MCP over HTTP and REST.",
    )
    app.add_typer(
        build_alerts_app(lambda: open_core(_settings()), lambda: _settings().alerts),
        name="alerts",
        help="Quality alerts and the scheduler's jobs.",
    )
    app.add_typer(discord_app, name="discord")
    app.add_typer(
        build_webhooks_app(lambda: open_core(_settings()), lambda: _settings().webhook_key()), name="webhooks"
    )
    app.add_typer(
        build_web_app(lambda: open_core(_settings()), _public_url, lambda: _settings().web), name="web"
    )


_register_subcommands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
