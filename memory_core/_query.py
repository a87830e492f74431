"""The query pipeline: filters to SQL, keyword and vector retrieval, fusion, re-ranking."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime

import sqlalchemy as sa

from ._db import Database, from_db_time, to_db_time, utcnow
from ._index import Vectors
from ._index_sync import IndexSync
from ._keyword import KeywordHits, KeywordIndex, SqliteKeywordIndex, query_terms
from ._raw_query import RawQuery, read_sqlite
from ._rerank import refine
from ._rows import FACT_COLUMNS, chunks, load_memories
from ._schema import memory_table, memory_tag_table
from ._search import CandidateFacts, Ranked, SearchMode, above_floor, breakdown, fuse, rank
from ._trace import QueryTrace
from .config import CoreSettings, SearchSettings
from .embedding import MicroBatcher
from .types import Hit, Importance, Memory, QueryFilters

__all__ = ["QueryTrace", "SearchMode", "conditions", "run_query"]

logger = logging.getLogger(__name__)


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
    reads = db.sqlite_reads
    if reads is not None and isinstance(keyword_index, SqliteKeywordIndex) and not _is_narrowing(filters):
        # The common case on SQLite: every read of the query in one worker-thread call, its keyword
        # search overlapping the question's embedding (memory_core/_raw_query.py).
        raw = RawQuery(tenant, text, filters, now, mode, proposals, limit, search, trace)
        ranked, memories = await read_sqlite(
            reads, keyword_index, batcher, index.indexes.tenants.get(tenant), raw
        )
    else:
        query_vector = None
        if mode != "keyword":
            with stage("question embedding"):
                query_vector = await batcher.embed_one(text)
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


_Stage = Callable[[str], AbstractContextManager[None]]


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
) -> tuple[list[Ranked], dict[int, Memory]]:
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
                vector_hits = above_floor(
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
            ranked = rank(candidates, facts, now, search, limit)
            memories = await load_memories(conn, [r[1].memory_id for r in ranked], [])
    return ranked, memories
