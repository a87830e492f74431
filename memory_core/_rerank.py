"""The second ranking stage over loaded candidates: times the question names, then conversation context."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ._schema import memory_table
from ._search import Candidate, RankingFacts, apply_context, apply_dates
from ._sqlite_reads import placeholders
from ._when import question_windows
from .config import SearchSettings

__all__ = ["neighbours", "neighbours_raw", "refine", "refine_raw"]


_m = memory_table.alias("m")
_other = memory_table.alias("other")
# Built once: making the two aliases and their column collections cost more than running the query.
_NEIGHBOURS = sa.select(
    _m.c.id,
    sa.select(sa.func.max(_other.c.id))
    .where(_other.c.tenant == sa.bindparam("tenant"), _other.c.id < _m.c.id)
    .scalar_subquery(),
    sa.select(sa.func.min(_other.c.id))
    .where(_other.c.tenant == sa.bindparam("tenant"), _other.c.id > _m.c.id)
    .scalar_subquery(),
).where(_m.c.tenant == sa.bindparam("tenant"), _m.c.id.in_(sa.bindparam("ids", expanding=True)))


async def neighbours(conn: AsyncConnection, tenant: str, memory_ids: Sequence[int]) -> dict[int, list[int]]:
    """For each id, the ids stored right before and right after it in the same tenant (if any)."""
    if not memory_ids:
        return {}
    rows = await conn.execute(_NEIGHBOURS, {"tenant": tenant, "ids": list(memory_ids)})
    return {int(row[0]): [int(n) for n in row[1:] if n is not None] for row in rows}


_NEIGHBOURS_SQL = (
    "SELECT m.id, (SELECT max(o.id) FROM memory AS o WHERE o.tenant = ? AND o.id < m.id), "
    "(SELECT min(o.id) FROM memory AS o WHERE o.tenant = ? AND o.id > m.id) "
    "FROM memory AS m WHERE m.tenant = ? AND m.id IN ({ids})"
)


def neighbours_raw(cursor: Any, tenant: str, memory_ids: Sequence[int]) -> dict[int, list[int]]:
    """`neighbours` on a DB-API cursor (memory_core/_sqlite_reads.py)."""
    if not memory_ids:
        return {}
    sql = _NEIGHBOURS_SQL.format(ids=placeholders(len(memory_ids)))
    rows = cursor.execute(sql, (tenant, tenant, tenant, *memory_ids))
    return {int(row[0]): [int(n) for n in row[1:] if n is not None] for row in rows}


async def refine(
    conn: AsyncConnection,
    tenant: str,
    question: str,
    now: datetime,
    candidates: list[Candidate],
    memories: Mapping[int, RankingFacts],
    settings: SearchSettings,
) -> list[Candidate]:
    """Candidates re-ranked by the dates the question names and by conversation context.

    Only candidates whose memory is in `memories` (loaded through the query's filters) take part.
    """
    visible, lenders = _dated(question, now, candidates, memories, settings)
    if not lenders:
        return visible
    return apply_context(visible, memories, await neighbours(conn, tenant, lenders), settings)


def refine_raw(
    cursor: Any,
    tenant: str,
    question: str,
    now: datetime,
    candidates: list[Candidate],
    memories: Mapping[int, RankingFacts],
    settings: SearchSettings,
    windows: Sequence[tuple[datetime, datetime]] | None = None,
) -> list[Candidate]:
    """`refine` on a DB-API cursor (memory_core/_sqlite_reads.py); `windows`: the question's, if known."""
    visible, lenders = _dated(question, now, candidates, memories, settings, windows)
    if not lenders:
        return visible
    return apply_context(visible, memories, neighbours_raw(cursor, tenant, lenders), settings)


def _dated(
    question: str,
    now: datetime,
    candidates: list[Candidate],
    memories: Mapping[int, RankingFacts],
    settings: SearchSettings,
    windows: Sequence[tuple[datetime, datetime]] | None = None,
) -> tuple[list[Candidate], list[int]]:
    """The visible candidates re-ranked by the question's dates, and the ids that may lend context."""
    visible = [c for c in candidates if c.memory_id in memories]
    if windows is None:
        windows = question_windows(question, now)
    if windows:
        visible = apply_dates(visible, {i: m.created_at for i, m in memories.items()}, windows, settings)
    if settings.context_weight > 0 and visible:
        return visible, [c.memory_id for c in visible[: settings.context_lenders]]
    return visible, []
