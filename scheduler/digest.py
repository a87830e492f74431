"""The digest: what the team stored in a period, its tags, its reflections and the quality trend."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from memory_core import Memory, MemoryCore, QueryFilters, TagCount, TeamloreError, TrendPoint

from .alerts import sparkline
from .message import Notification, Section

__all__ = ["Digest", "digest_notification", "gather_digest"]

logger = logging.getLogger(__name__)

FETCH_LIMIT = 1000
"""New memories read per digest; beyond this the digest says "1000+"."""

_HEADLINE_MAX = 100
_TAGS_SHOWN = 5


@dataclass(frozen=True)
class Digest:
    tenant: str
    since: datetime
    until: datetime
    new: tuple[Memory, ...]
    """New memories of the period (reflections excluded), newest first."""
    more: bool
    """True when the period holds more than FETCH_LIMIT memories."""
    reflections: tuple[Memory, ...]
    period_tags: tuple[TagCount, ...]
    top_tags: tuple[TagCount, ...]
    score: int | None
    """The current quality score (None when no report could be made)."""
    trend: tuple[TrendPoint, ...]
    """Saved reports of the period, oldest first."""

    @property
    def empty(self) -> bool:
        return not self.new and not self.reflections

    @property
    def new_count(self) -> str:
        return f"{len(self.new)}+" if self.more else str(len(self.new))


def _period_tags(memories: Sequence[Memory]) -> tuple[TagCount, ...]:
    counts = Counter(tag for m in memories for tag in m.tags)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(TagCount(tag=tag, count=count) for tag, count in ranked)


async def gather_digest(
    core: MemoryCore, tenant: str, *, since: datetime, until: datetime, max_items: int
) -> Digest:
    """Read the period's memories, reflections, tags and quality trend from the core."""
    window = QueryFilters(since=since, until=until)
    fetched = await core.recent(tenant, limit=FETCH_LIMIT, filters=window)
    new = tuple(m for m in fetched if m.kind != "reflection")
    reflections = await core.recent(
        tenant, limit=max_items, filters=QueryFilters(kind="reflection", since=since, until=until)
    )
    top_tags = await core.list_tags(tenant)
    score: int | None = None
    trend: tuple[TrendPoint, ...] = ()
    try:
        report = await core.quality_report(tenant, save=False)
    except NotImplementedError:
        logger.info("digest of %s without a quality trend: the quality report is not available", tenant)
    except TeamloreError as exc:
        logger.warning("digest of %s without a quality trend: %s", tenant, exc)
    else:
        score = report.score
        trend = tuple(p for p in report.trend if since <= p.at <= until and p.at < report.created_at)
    return Digest(
        tenant=tenant,
        since=since,
        until=until,
        new=new,
        more=len(fetched) >= FETCH_LIMIT,
        reflections=tuple(reflections),
        period_tags=_period_tags(new),
        top_tags=tuple(top_tags[:_TAGS_SHOWN]),
        score=score,
        trend=trend,
    )


def _headline(memory: Memory) -> str:
    first_line = next((line for line in memory.text.splitlines() if line.strip()), "")
    text = " ".join((memory.title or first_line).split())
    return text if len(text) <= _HEADLINE_MAX else text[: _HEADLINE_MAX - 1].rstrip() + "…"


def _memory_line(memory: Memory, zone: tzinfo) -> str:
    who = memory.author or "someone"
    tags = "".join(f" #{t}" for t in memory.tags)
    return f"{memory.ref} {_headline(memory)} — {who}, {memory.created_at.astimezone(zone):%d %b}{tags}"


def _tag_line(tags: Sequence[TagCount]) -> str:
    return ", ".join(f"#{t.tag} ×{t.count}" for t in tags[:_TAGS_SHOWN])


def _memory_data(memory: Memory) -> dict[str, Any]:
    return {
        "id": memory.id,
        "kind": memory.kind,
        "headline": _headline(memory),
        "author": memory.author,
        "tags": list(memory.tags),
        "created_at": memory.created_at.isoformat(),
        "source_ref": memory.source_ref,
    }


def digest_notification(digest: Digest, *, max_items: int, zone: tzinfo) -> Notification:
    since, until = digest.since.astimezone(zone), digest.until.astimezone(zone)
    sections: list[Section] = []
    lines = [_memory_line(m, zone) for m in digest.new[:max_items]]
    if len(digest.new) > max_items:
        extra = f"{len(digest.new) - max_items}{'+' if digest.more else ''}"
        lines.append(f"… and {extra} more: `teamlore query` or /query to find them.")
    lines = lines or ["Nothing new was stored."]
    sections.append(Section(f"New memories ({digest.new_count})", tuple(lines)))
    tag_lines = []
    if digest.period_tags:
        tag_lines.append(f"This period: {_tag_line(digest.period_tags)}")
    if digest.top_tags:
        tag_lines.append(f"All time: {_tag_line(digest.top_tags)}")
    if tag_lines:
        sections.append(Section("Top tags", tuple(tag_lines)))
    if digest.reflections:
        sections.append(
            Section(
                f"Reflections ({len(digest.reflections)})",
                tuple(f"{m.ref} {_headline(m)}" for m in digest.reflections[:max_items]),
            )
        )
    if digest.score is not None:
        scores = [p.score for p in digest.trend] + [digest.score]
        line = f"{digest.score}/100"
        if len(scores) > 1:
            line += f", {sparkline(scores[-12:])} {scores[0]} → {digest.score} this period"
        sections.append(Section("Quality", (line,)))
    return Notification(
        event="digest",
        tenant=digest.tenant,
        title=f"teamlore digest for {digest.tenant}: {since:%d %b} – {until:%d %b %Y}",
        level="info",
        sections=tuple(sections),
        data={
            "since": digest.since.isoformat(),
            "until": digest.until.isoformat(),
            "new_count": len(digest.new),
            "more": digest.more,
            "new": [_memory_data(m) for m in digest.new[:max_items]],
            "reflections": [_memory_data(m) for m in digest.reflections[:max_items]],
            "period_tags": [t.model_dump() for t in digest.period_tags[:_TAGS_SHOWN]],
            "top_tags": [t.model_dump() for t in digest.top_tags],
            "score": digest.score,
            "trend": [{"at": p.at.isoformat(), "score": p.score} for p in digest.trend],
        },
    )
