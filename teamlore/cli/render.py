"""How the CLI shows memories and hits, parses its time options, and draws progress on a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .runner import err

if TYPE_CHECKING:
    from memory_core import Hit, Memory

__all__ = ["hit_json", "memory_line", "parse_ttl", "parse_when", "progress_bar", "when"]


def parse_when(value: str | None, *, option: str, end_of_day: bool = False) -> datetime | None:
    """`7d`, `12h`, `2w`, `90m` (that long ago) or a date: the chat grammar's rules (bots.grammar)."""
    if value is None:
        return None
    from bots.grammar import parse_time

    return parse_time(value, now=datetime.now(UTC), name=option, end_of_day=end_of_day)


def parse_ttl(value: str | None) -> datetime | None:
    if value is None:
        return None
    from bots.grammar import parse_duration

    return datetime.now(UTC) + parse_duration(value, name="--ttl")


@contextmanager
def progress_bar(description: str, *, enabled: bool | None) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr when it is a terminal (or when forced), else nothing."""
    show = err.is_terminal if enabled is None else enabled
    if not show:
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

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


def when(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def memory_line(memory: Memory) -> str:
    from rich.markup import escape

    tags = " ".join(f"#{t}" for t in memory.tags)
    who = memory.author or "someone"
    origin = f" via {memory.source.value}"
    if memory.source_ref:
        origin += f" ({memory.source_ref})"
    detail = escape(f"{who}, {when(memory.created_at)}{origin} {tags}")
    if memory.superseded_by is not None:
        detail += f" · superseded by #{memory.superseded_by}"
    return f"[bold]#{memory.id}[/bold] {escape(memory.text)}\n    [dim]{detail}[/dim]"


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
