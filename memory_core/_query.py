"""The query pipeline: filters to SQL, keyword and vector retrieval, fusion, re-ranking."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import anyio.to_thread
import sqlalchemy as sa

from ._db import Database, from_db_time, to_db_time, utcnow
from ._index import Vectors
from ._index_sync import IndexSync
from ._keyword import KeywordHits, KeywordIndex, SqliteKeywordIndex, query_terms
from ._rerank import refine, refine_raw
from ._rows import FACT_COLUMNS, chunks, load_memories, load_memories_raw
from ._schema import memory_table, memory_tag_table
from ._search import Candidate, CandidateFacts, boosts, breakdown, final_score, fuse
from ._sqlite_reads import SqliteReads, parse_db_time, placeholders, visible_sql
from .config import CoreSettings, SearchSettings
from .embedding import MicroBatcher
from .types import Hit, Importance, Memory, QueryFilters

__all__ = ["QueryTrace", "SearchMode", "conditions", "run_query"]

logger = logging.getLogger(__name__)

SearchMode = Literal["hybrid", "vector", "keyword"]


class QueryTrace:
    """Where one query's time went: pass one to `MemoryCore.query(..., trace=trace)`, then read `stages`.

    `stages` maps each stage to the seconds it took, in the order the stages ran:
    "index catch-up (sync)", "question embedding" (not in keyword mode), "vector search (FAISS)" (not in
    keyword mode, nor when the filters allow no memory), "keyword search" (not in vector mode), "fusion",
    "candidate facts", "dates and context", "ranking and rows". A stage that did not run is absent; the
    rest of a query's time (the query log, transactions) is not attributed to any stage.
    """

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - started


def _untimed(_name: str) -> AbstractContextManager[None]:
    return nullcontext()


def conditions(tenant: str, filters: QueryFilters, now: datetime) -> list[sa.ColumnElement[bool]]:
    """The SQL conditions of `filters` in `tenant` (expired and superseded memories out unless asked)."""
    m = memory_table.c
    found: list[sa.ColumnElement[bool]] = [m.tenant == tenant]
    for tag in filters.tags:
        found.append(
            m.id.in_(
                sa.select(memory_tag_table.c.memory_id).where(
                    memory_tag_table.c.tenant == tenant, memory_tag_table.c.tag == tag
                )
            )
        )
    if filters.kind:
        found.append(m.kind == filters.kind.lower())
    if filters.source:
        found.append(m.source == filters.source.value)
    if filters.author:
        who = filters.author.strip().lstrip("@").lower()
        found.append(sa.or_(sa.func.lower(m.author) == who, sa.func.lower(m.author_id) == who))
    if filters.since:
        found.append(m.created_at >= to_db_time(filters.since))
    if filters.until:
        found.append(m.created_at <= to_db_time(filters.until))
    if not filters.include_expired:
        found.append(sa.or_(m.expires_at.is_(None), m.expires_at > to_db_time(now)))
    if not filters.include_superseded:
        found.append(m.superseded_by.is_(None))
    return found


def _is_narrowing(filters: QueryFilters) -> bool:
    # Hiding expired or superseded memories (the defaults) narrows too little to be worth listing every
    # allowed id before the vector search: they are dropped with the candidates, like any filter.
    return bool(
        filters.tags or filters.kind or filters.source or filters.author or filters.since or filters.until
    )


async def run_query(
    settings: CoreSettings,
    db: Database,
    keyword_index: KeywordIndex,
    batcher: MicroBatcher,
    index: IndexSync,
    tenant: str,
    text: str,
    filters: QueryFilters,
    limit: int,
    mode: SearchMode,
    trace: QueryTrace | None,
) -> tuple[list[Hit], datetime]:
    """The hits for a checked question, best first, and the time the query was answered at."""
    stage = trace.stage if trace is not None else _untimed
    now = utcnow()
    search = settings.search
    proposals = max(search.candidates, limit)  # each retriever proposes at least `limit` hits
    with stage("index catch-up (sync)"):
        await index.sync()
    query_vector = None
    if mode != "keyword":
        with stage("question embedding"):
            query_vector = await batcher.embed_one(text)
    reads = db.sqlite_reads
    if reads is not None and isinstance(keyword_index, SqliteKeywordIndex) and not _is_narrowing(filters):
        # The common case on SQLite: FAISS and every read of the query in one worker-thread call.
        tenant_index = index.indexes.tenants.get(tenant) if query_vector is not None else None
        sqlite_keyword = keyword_index

        def read() -> tuple[list[_Ranked], dict[int, Memory]]:
            vector_hits: list[tuple[int, float]] = []
            if tenant_index is not None and query_vector is not None:
                with stage("vector search (FAISS)"):
                    vector_hits = _above_floor(tenant_index.search(query_vector, proposals), search)
            query = _Raw(tenant, text, filters, now, mode, proposals, limit, search, stage)
            return _read_raw(reads, sqlite_keyword, query, vector_hits)

        ranked, memories = await anyio.to_thread.run_sync(read, limiter=reads.limiter)
    else:
        ranked, memories = await _read(
            db,
            keyword_index,
            index,
            tenant,
            text,
            filters,
            now,
            mode,
            proposals,
            limit,
            search,
            stage,
            query_vector,
        )
    hits: list[Hit] = []
    for _final, candidate, importance, recency in ranked:
        memory = memories.get(candidate.memory_id)
        if memory is None:  # deleted by another process a moment ago (PostgreSQL reads committed)
            continue
        detail = breakdown(candidate, importance, recency)
        hits.append(Hit(memory=memory, score=detail.final, breakdown=detail))
    return hits, now


_Ranked = tuple[float, Candidate, float, float]  # final score, candidate, importance and recency boosts
_Stage = Callable[[str], AbstractContextManager[None]]


def _above_floor(hits: list[tuple[int, float]], search: SearchSettings) -> list[tuple[int, float]]:
    # Unrelated texts still have *a* nearest neighbour; a floor keeps them out of the fusion.
    return [(m, sim) for m, sim in hits if sim >= search.min_similarity]


def _rank(
    candidates: list[Candidate],
    facts: dict[int, CandidateFacts],
    now: datetime,
    search: SearchSettings,
    limit: int,
) -> list[_Ranked]:
    """The best `limit` candidates by final score (importance and recency boosts applied)."""
    ranked = []
    for candidate in candidates:
        fact = facts.get(candidate.memory_id)
        if fact is None:
            continue
        importance, recency = boosts(fact, now, search)
        ranked.append((final_score(candidate, importance, recency), candidate, importance, recency))
    ranked.sort(key=lambda r: (-r[0], r[1].memory_id))
    return ranked[:limit]


async def _read(
    db: Database,
    keyword_index: KeywordIndex,
    index: IndexSync,
    tenant: str,
    text: str,
    filters: QueryFilters,
    now: datetime,
    mode: SearchMode,
    proposals: int,
    limit: int,
    search: SearchSettings,
    stage: _Stage,
    query_vector: Vectors | None,
) -> tuple[list[_Ranked], dict[int, Memory]]:
    """The reads of a query through the async engine (PostgreSQL, narrowing filters)."""
    where = conditions(tenant, filters, now)
    vector_hits: list[tuple[int, float]] = []
    keyword = KeywordHits()
    # One read transaction from the keyword search to the hits: one snapshot of the data, and
    # fewer round trips to the database thread.
    async with db.read() as conn:
        allowed: set[int] | None = None
        if _is_narrowing(filters):
            allowed = set((await conn.execute(sa.select(memory_table.c.id).where(*where))).scalars())
        if query_vector is not None and tenant in index.indexes.tenants and (allowed is None or allowed):
            with stage("vector search (FAISS)"):
                vector_hits = _above_floor(
                    await index.search(tenant, query_vector, proposals, allowed), search
                )
        if mode != "vector":
            with stage("keyword search"):
                keyword = await keyword_index.search(conn, query_terms(text), where, proposals)
        with stage("fusion"):
            candidates = fuse(vector_hits, keyword.hits, search, keyword.full_match)
        # Ranking reads a few columns of every candidate, through the filters (which drop expired
        # or filtered-out vectors); whole memories are loaded for the hits returned only.
        facts: dict[int, CandidateFacts] = {}
        with stage("candidate facts"):
            for chunk in chunks([c.memory_id for c in candidates]):
                rows = await conn.execute(
                    sa.select(*FACT_COLUMNS).where(memory_table.c.id.in_(chunk), *where)
                )
                for memory_id, created_at, importance, author, author_id in rows:
                    written = from_db_time(created_at)
                    assert written is not None  # a NOT NULL column
                    facts[memory_id] = CandidateFacts(written, Importance(importance), author, author_id)
        # Second stage (memory_core/_rerank.py): dates named in the question, conversation context.
        with stage("dates and context"):
            candidates = await refine(conn, tenant, text, now, candidates, facts, search)
        with stage("ranking and rows"):
            ranked = _rank(candidates, facts, now, search, limit)
            memories = await load_memories(conn, [r[1].memory_id for r in ranked], [])
    return ranked, memories


@dataclass(frozen=True)
class _Raw:
    """What the raw read phase of one query needs to know."""

    tenant: str
    text: str
    filters: QueryFilters
    now: datetime
    mode: SearchMode
    proposals: int
    limit: int
    search: SearchSettings
    stage: _Stage


_FACTS_SQL = (
    "SELECT id, created_at, importance, author, author_id FROM memory WHERE id IN ({ids}) AND {where}"
)


def _read_raw(
    reads: SqliteReads, keyword_index: SqliteKeywordIndex, q: _Raw, vector_hits: list[tuple[int, float]]
) -> tuple[list[_Ranked], dict[int, Memory]]:
    """`_read` on SQLite in one worker thread: the same statements as plain SQL on one DB-API cursor."""
    where_sql, params = visible_sql(q.tenant, q.filters, q.now)
    keyword = KeywordHits()
    with reads.transaction() as cursor:
        if q.mode != "vector":
            with q.stage("keyword search"):
                keyword = keyword_index.search_raw(
                    cursor, query_terms(q.text), where_sql, params, q.proposals
                )
        with q.stage("fusion"):
            candidates = fuse(vector_hits, keyword.hits, q.search, keyword.full_match)
        facts: dict[int, CandidateFacts] = {}
        with q.stage("candidate facts"):
            for chunk in chunks([c.memory_id for c in candidates]):
                sql = _FACTS_SQL.format(ids=placeholders(len(chunk)), where=where_sql)
                for memory_id, created_at, importance, author, author_id in cursor.execute(
                    sql, (*chunk, *params)
                ):
                    written = parse_db_time(created_at)
                    assert written is not None  # a NOT NULL column
                    facts[memory_id] = CandidateFacts(written, Importance(importance), author, author_id)
        with q.stage("dates and context"):
            candidates = refine_raw(cursor, q.tenant, q.text, q.now, candidates, facts, q.search)
        with q.stage("ranking and rows"):
            ranked = _rank(candidates, facts, q.now, q.search, q.limit)
            memories = load_memories_raw(cursor, [r[1].memory_id for r in ranked])
    return ranked, memories
