"""Reflection: gather the memories on a topic or in a period, group them, write a synthesis that cites them.

Gathering (topic given): one hybrid search proposes up to 100 candidates. The first `reflection.seeds`
hits that share words with the topic and are close in meaning (`reflection.seed_similarity_with_words`),
or are very close in meaning alone (`reflection.seed_similarity`), anchor the topic. The reflection then
grows from them: a candidate joins when its affinity — cosine, plus shared tags and closeness in time
(see `_analysis.affinity_matrix`) — to a memory already gathered reaches `reflection.affinity`, nearest
first, up to `limit`. So the notes of one incident come together even when their words differ, and a
lookalike incident from another month stays out. Without a topic, everything in the window (and/or with
the tags) is gathered, up to `reflection.window_limit`. Either way the memory an item supersedes or is
superseded by comes along, so an old decision and its replacement are read together. Reflections are
never sources of reflections.

Synthesis (offline, extractive): key points are chosen by maximal marginal relevance over the real
embeddings (relevant to the topic and the group's centre, not redundant with each other); each point is
the most central sentence of its memory and cites every gathered memory closer to it than to any other
point; the points are listed in time order. The summary states the scope, the two most representative
sentences and the latest development.
With `llm` configured, an OpenAI-compatible model writes the summary and points instead (see `_llm.py`);
on failure the extractive synthesis is used and `Reflection.notice` says why.

Saving: a memory of kind `reflection`, `links` = its sources, `source_ref` = `reflect:<topic words>[ #tag…]`;
the latest reflection with the same key is superseded by the new one.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import anyio.to_thread
import numpy as np
import sqlalchemy as sa

from ._analysis import (
    FoundConflict,
    Matrix,
    affinity_matrix,
    analyse_pairs,
    headline,
    mmr,
    split_sentences,
    word_key,
)
from ._db import Database, utcnow
from ._llm import LLMFailed, synthesise
from ._rows import stored_vectors
from ._schema import memory_table
from .config import CoreSettings
from .embedding import MicroBatcher
from .errors import InvalidInput
from .tenancy import check_tenant
from .types import (
    Actor,
    Conflict,
    Hit,
    Importance,
    Memory,
    MemoryDraft,
    QueryFilters,
    Reflection,
    ReflectionPoint,
    Source,
    StoreResult,
    TimelineEntry,
)

__all__ = ["Memories", "ReflectContext", "reflect"]

logger = logging.getLogger(__name__)

_POOL = 100
_SUPPORT = 0.5  # a gathered memory supports the nearest key point from this cosine
_POINT_CHARS = 240
_IMPORTANCE_BONUS = {
    Importance.LOW: -0.05,
    Importance.NORMAL: 0.0,
    Importance.HIGH: 0.05,
    Importance.CRITICAL: 0.1,
}


class Memories(Protocol):
    """What reflection reads and writes through the core's public API (`MemoryCore` is one)."""

    async def query(
        self,
        tenant: str,
        text: str,
        *,
        filters: QueryFilters | None = ...,
        limit: int = ...,
        record: bool = ...,
    ) -> list[Hit]: ...

    async def recent(
        self, tenant: str, *, limit: int = ..., filters: QueryFilters | None = ...
    ) -> list[Memory]: ...

    async def get_many(self, tenant: str, memory_ids: Iterable[int]) -> list[Memory]: ...

    async def store(self, tenant: str, draft: MemoryDraft, *, redact: bool = ...) -> StoreResult: ...


@dataclass(frozen=True)
class ReflectContext:
    """What a reflection needs, handed in by the core."""

    memories: Memories
    settings: CoreSettings
    db: Database
    batcher: MicroBatcher
    model_id: str
    dim: int


async def reflect(
    ctx: ReflectContext,
    tenant: str,
    topic: str | None,
    *,
    filters: QueryFilters | None,
    limit: int,
    dry_run: bool,
    actor: Actor | None,
) -> Reflection:
    """See `MemoryCore.reflect`."""
    check_tenant(tenant)
    topic = " ".join((topic or "").split()) or None
    filters = filters or QueryFilters()
    if topic is None and not (filters.since or filters.until or filters.tags):
        raise InvalidInput("say what to reflect on: a topic, a time window (since:30d) or a #tag")
    if not 1 <= limit <= 100:
        raise InvalidInput("limit must be between 1 and 100")
    members = await _gather(ctx, tenant, topic, filters, limit)
    if not members:
        logger.info("reflection on %r in %s: nothing to reflect on", topic, tenant)
        return Reflection(
            id=None,
            topic=topic,
            summary=_nothing(topic),
            points=(),
            timeline=(),
            duplicates=(),
            conflicts=(),
            sources=(),
            notice="nothing in memory matched, so no reflection was saved",
        )
    vectors = await _vectors(ctx, tenant, members)
    pairs = await anyio.to_thread.run_sync(
        lambda: analyse_pairs(
            members,
            vectors,
            near_duplicate=ctx.settings.near_duplicate_threshold,
            settings=ctx.settings.quality,
            report_replacements=True,
        )
    )
    duplicates = tuple(pairs.duplicates) + tuple(group for group, _sim in pairs.near_duplicates)
    conflicts = _positions(members, pairs.conflicts)
    centre = await _centre(ctx, topic, vectors)
    points, picked = await _points(ctx, members, vectors, centre, duplicates, conflicts)
    summary = _summary(topic, members, points, picked, conflicts, duplicates)
    # The summary leads with the most representative points; the list tells the story in time order.
    when = {m.id: (m.created_at, m.id) for m in members}
    points = tuple(p for _, p in sorted(zip(picked, points, strict=True), key=lambda pair: when[pair[0]]))
    synthesis, notice = "extractive", None
    llm = ctx.settings.llm
    if llm.enabled:
        try:
            written = await synthesise(llm, topic, members, max_points=ctx.settings.reflection.max_points)
        except LLMFailed as exc:
            logger.warning("LLM synthesis failed, using the extractive one: %s", exc)
            notice = f"{exc}; the summary is extractive"
        else:
            summary, points, synthesis = written.summary, written.points, "llm"
            if written.dropped_ids:
                cited = ", ".join(f"#{i}" for i in written.dropped_ids)
                notice = f"the model cited ids that are not among the sources ({cited}); they were dropped"
    reflection = Reflection(
        id=None,
        topic=topic,
        summary=summary,
        points=points,
        timeline=tuple(TimelineEntry(when=m.created_at, text=headline(m), id=m.id) for m in members),
        duplicates=duplicates,
        conflicts=conflicts,
        sources=tuple(m.id for m in members),
        synthesis=synthesis,
        notice=notice,
    )
    if not dry_run:
        reflection = reflection.model_copy(
            update={"id": await _save(ctx, tenant, reflection, filters, actor)}
        )
    logger.info(
        "reflection on %r in %s: %d sources, %d conflicts, %s synthesis, saved as %s",
        topic,
        tenant,
        len(members),
        len(conflicts),
        synthesis,
        reflection.id,
    )
    return reflection


def _nothing(topic: str | None) -> str:
    return f"Nothing in memory matches “{topic}”." if topic else "Nothing in memory for that period."


# --- gathering ---------------------------------------------------------------------------------------------


async def _gather(
    ctx: ReflectContext, tenant: str, topic: str | None, filters: QueryFilters, limit: int
) -> list[Memory]:
    settings = ctx.settings.reflection
    if topic is None:
        recent = await ctx.memories.recent(tenant, limit=settings.window_limit, filters=filters)
        members = [m for m in recent if m.kind != "reflection"]
    else:
        hits = await ctx.memories.query(tenant, topic, filters=filters, limit=_POOL, record=False)
        members = await _grow(ctx, tenant, [h for h in hits if h.memory.kind != "reflection"], limit)
    members = await _with_replacements(ctx, tenant, members)
    return sorted(members, key=lambda m: (m.created_at, m.id))


def _is_seed(hit: Hit, alone: float, with_words: float) -> bool:
    b = hit.breakdown
    similarity = b.vector_similarity or 0.0
    return similarity >= alone or (b.keyword_rank is not None and similarity >= with_words)


async def _grow(ctx: ReflectContext, tenant: str, hits: list[Hit], limit: int) -> list[Memory]:
    settings = ctx.settings.reflection
    seeds = [
        i
        for i, h in enumerate(hits)
        if _is_seed(h, settings.seed_similarity, settings.seed_similarity_with_words)
    ][: settings.seeds]
    if not seeds:
        return []
    pool = [h.memory for h in hits]
    vectors = await _vectors(ctx, tenant, pool)
    affinity = await anyio.to_thread.run_sync(affinity_matrix, pool, vectors)
    chosen = np.zeros(len(pool), dtype=bool)
    chosen[seeds[:limit]] = True
    best = affinity[:, chosen].max(axis=1)
    while chosen.sum() < limit:
        open_best = np.where(chosen, -np.inf, best)
        pick = int(np.argmax(open_best))
        if open_best[pick] < settings.affinity:
            break
        chosen[pick] = True
        best = np.maximum(best, affinity[:, pick])
    return [m for m, keep in zip(pool, chosen.tolist(), strict=True) if keep]


async def _with_replacements(ctx: ReflectContext, tenant: str, members: list[Memory]) -> list[Memory]:
    """Add what the gathered memories supersede or are superseded by (one hop), if still current."""
    have = {m.id for m in members}
    wanted = {i for m in members for i in (m.supersedes, m.superseded_by) if i is not None and i not in have}
    # Queries hide superseded memories; what a gathered memory replaced (linked from the old side only,
    # as `update(superseded_by=...)` does) is read together with it.
    m = memory_table.c
    async with ctx.db.read() as conn:
        rows = await conn.execute(
            sa.select(m.id).where(m.tenant == tenant, m.superseded_by.in_(sorted(have)))
        )
        wanted |= {i for i in rows.scalars() if i not in have}
    if not wanted:
        return members
    now = utcnow()
    extra = [
        m
        for m in await ctx.memories.get_many(tenant, sorted(wanted))
        if m.kind != "reflection" and not m.is_expired(now)
    ]
    return members + extra


async def _vectors(ctx: ReflectContext, tenant: str, memories: Sequence[Memory]) -> Matrix:
    """The vectors of `memories` (rows aligned); re-embedded where stored with another model."""
    return await stored_vectors(ctx.db, ctx.batcher.embed_many, tenant, memories, ctx.model_id, ctx.dim)


# --- synthesis ---------------------------------------------------------------------------------------------


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


async def _centre(ctx: ReflectContext, topic: str | None, vectors: Matrix) -> np.ndarray:
    """What the reflection is about: the group's mean direction, pulled toward the topic when there is one."""
    centre = _unit(vectors.mean(axis=0))
    if topic:
        centre = _unit(centre + await ctx.batcher.embed_one(topic))
    return centre.astype(np.float32)


def _positions(members: Sequence[Memory], found: Sequence[FoundConflict]) -> tuple[Conflict, ...]:
    """Conflict entries that say which memory is newer and which states the current position.

    The newer memory of a pair is the current position, unless a still later memory contradicts it
    without contradicting the older one (the first position was restated after the change).
    """
    by_id = {m.id: m for m in members}
    against: dict[int, set[int]] = {}
    for c in found:
        against.setdefault(c.older, set()).add(c.newer)
        against.setdefault(c.newer, set()).add(c.older)
    when = {m.id: (m.created_at, m.id) for m in members}
    out = []
    for c in found:
        current = c.newer
        later = [
            r for r in against.get(c.newer, set()) if when[r] > when[c.newer] and r not in against[c.older]
        ]
        if c.rule != "replaced" and later:
            current = max(later, key=when.__getitem__)
        out.append(
            Conflict(
                ids=c.ids,
                reason=c.reason,
                newer=c.newer,
                current=current,
                position=headline(by_id[current]),
            )
        )
    return tuple(out)


def _outdated(conflicts: Sequence[Conflict]) -> set[int]:
    """Memories whose position a conflict entry says is no longer current."""
    return {i for c in conflicts for i in c.ids if c.current is not None and i != c.current}


async def _points(
    ctx: ReflectContext,
    members: Sequence[Memory],
    vectors: Matrix,
    centre: np.ndarray,
    duplicates: Sequence[tuple[int, ...]],
    conflicts: Sequence[Conflict] = (),
) -> tuple[tuple[ReflectionPoint, ...], list[int]]:
    """Key points (MMR over the embeddings) and, for each, the id of the memory it quotes.

    A point never cites both sides of a conflict: a memory that contradicts the point's own memory does
    not support it, and an outdated side of a conflict is not offered as a point (the conflict entry
    states both sides and the current one).
    """
    settings = ctx.settings.reflection
    # A duplicate group offers only its oldest memory as a point; the others still support it.
    later_copies = {i for group in duplicates for i in group[1:]}
    outdated = _outdated(conflicts)
    candidates = [i for i, m in enumerate(members) if m.id not in later_copies and m.id not in outdated]
    if not candidates:
        candidates = [i for i, m in enumerate(members) if m.id not in later_copies]
    contra = {frozenset(c.ids) for c in conflicts}
    relevance = [float(vectors[i] @ centre) + _IMPORTANCE_BONUS[members[i].importance] for i in candidates]
    k = min(settings.max_points, max(1, math.ceil(len(members) / 2)))
    picks = [candidates[p] for p in mmr(relevance, vectors[candidates], k, settings.diversity)]
    sentences = await _best_sentences(ctx, [members[i] for i in picks], centre)
    nearest = np.argmax(vectors @ vectors[picks].T, axis=1)
    strength = (vectors @ vectors[picks].T).max(axis=1)
    points: list[ReflectionPoint] = []
    for slot, i in enumerate(picks):
        support: list[Memory] = []
        for j in range(len(members)):
            if j != i and (nearest[j] != slot or strength[j] < _SUPPORT or j in picks):
                continue
            if any(frozenset((members[j].id, s.id)) in contra for s in support):
                continue
            if j != i and frozenset((members[j].id, members[i].id)) in contra:
                continue
            support.append(members[j])
        support.sort(key=lambda m: (m.created_at, m.id))
        points.append(ReflectionPoint(text=sentences[slot], sources=tuple(m.id for m in support)))
    return tuple(points), [members[i].id for i in picks]


async def _best_sentences(ctx: ReflectContext, memories: Sequence[Memory], centre: np.ndarray) -> list[str]:
    """Each memory's most central sentence (by embedding), shortened; single sentences as they are."""
    split = [split_sentences(m.text) or [m.text] for m in memories]
    several = [(slot, s) for slot, parts in enumerate(split) if len(parts) > 1 for s in parts]
    best = [parts[0] for parts in split]
    if several:
        vectors = await ctx.batcher.embed_many([s for _slot, s in several])
        scores = vectors @ centre
        top: dict[int, float] = {}
        for (slot, sentence), score in zip(several, scores.tolist(), strict=True):
            if score > top.get(slot, -math.inf):
                top[slot], best[slot] = score, sentence
    return [_shorten(s) for s in best]


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _POINT_CHARS else text[: _POINT_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _day(when: datetime) -> str:
    return when.strftime("%d %b %Y").lstrip("0")


def _span(members: Sequence[Memory]) -> str:
    first, last = members[0].created_at, members[-1].created_at
    if first.date() == last.date():
        return f"on {_day(first)}"
    start = first.strftime("%d %b").lstrip("0") if first.year == last.year else _day(first)
    return f"between {start} and {_day(last)}"


def _people(members: Sequence[Memory]) -> str:
    names = list(dict.fromkeys(m.author for m in members if m.author))
    if not names:
        return ""
    if len(names) > 5:
        names = [*names[:4], f"{len(names) - 4} others"]
    return " from " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])


def _summary(
    topic: str | None,
    members: Sequence[Memory],
    points: Sequence[ReflectionPoint],
    picked: Sequence[int],
    conflicts: Sequence[Conflict],
    duplicates: Sequence[tuple[int, ...]],
) -> str:
    count = f"{len(members)} memor{'y' if len(members) == 1 else 'ies'}"
    about = f" on “{topic}”" if topic else ""
    parts = [f"{count}{about} {_span(members)}{_people(members)}."]
    parts.extend(p.text if p.text.endswith((".", "!", "?", "…")) else p.text + "." for p in points[:2])
    latest = members[-1]
    if latest.id not in picked[:2]:
        parts.append(f"Latest ({_day(latest.created_at)}, #{latest.id}): {headline(latest)}")
    if conflicts:
        parts.append(f"{len(conflicts)} possible contradiction{'s' if len(conflicts) > 1 else ''} to check.")
        for c in conflicts[:2]:
            if c.current is not None:
                parts.append(f"Current position (#{c.current}): {c.position}")
    if duplicates:
        parts.append(f"{len(duplicates)} group{'s' if len(duplicates) > 1 else ''} of duplicates.")
    return " ".join(parts)


# --- saving ------------------------------------------------------------------------------------------------


def _key(topic: str | None, filters: QueryFilters) -> str:
    key = "reflect:" + (word_key(topic) if topic else "(period)")
    if filters.tags:
        key += " " + " ".join(f"#{t}" for t in sorted(filters.tags))
    return key[:1000]


def render(reflection: Reflection, limit: int) -> str:
    """The reflection as the text of its memory (searchable, readable in any front-end), within `limit`."""
    title = f"Reflection on “{reflection.topic}”" if reflection.topic else "Reflection on the period"
    head = [f"{title} ({len(reflection.sources)} memories)", "", reflection.summary, "", "Key points:"]
    head += [f"- {p.text} ({', '.join(f'#{i}' for i in p.sources)})" for p in reflection.points]
    tail: list[str] = []
    if reflection.conflicts:
        tail += ["", "Possible conflicts:"] + [
            f"- {', '.join(f'#{i}' for i in c.ids)}: {c.reason}"
            + (f"; current: #{c.current}" if c.current is not None else "")
            for c in reflection.conflicts
        ]
    if reflection.duplicates:
        tail += [
            "",
            "Duplicates: " + "; ".join(" = ".join(f"#{i}" for i in g) for g in reflection.duplicates),
        ]
    lines = [*head, "", "Timeline:"]
    budget = limit - sum(len(x) + 1 for x in (*head, *tail)) - 40
    for shown, entry in enumerate(reflection.timeline):
        line = f"- {entry.when:%Y-%m-%d} #{entry.id} {entry.text}"
        if budget - len(line) - 1 < 0:
            lines.append(f"- … and {len(reflection.timeline) - shown} more")
            break
        budget -= len(line) + 1
        lines.append(line)
    return "\n".join([*lines, *tail])[:limit]


async def _previous(ctx: ReflectContext, tenant: str, key: str) -> int | None:
    m = memory_table.c
    async with ctx.db.read() as conn:
        return (
            await conn.execute(
                sa.select(m.id)
                .where(
                    m.tenant == tenant, m.kind == "reflection", m.source_ref == key, m.superseded_by.is_(None)
                )
                .order_by(m.created_at.desc(), m.id.desc())
                .limit(1)
            )
        ).scalar()


async def _save(
    ctx: ReflectContext, tenant: str, reflection: Reflection, filters: QueryFilters, actor: Actor | None
) -> int:
    key = _key(reflection.topic, filters)
    previous = await _previous(ctx, tenant, key)
    draft = MemoryDraft(
        text=render(reflection, ctx.settings.max_text_chars),
        kind="reflection",
        tags=("reflection", *filters.tags),
        source=Source.CORE,
        source_ref=key,
        title=f"Reflection: {reflection.topic or 'the period'}"[:500],
        author=actor.display if actor else "teamlore",
        author_id=actor.id if actor else None,
        links=reflection.sources,
        supersedes=previous,
    )
    # The summary may quote a model's words: redact rather than refuse anything that looks like a secret.
    result = await ctx.memories.store(tenant, draft, redact=True)
    return result.id
