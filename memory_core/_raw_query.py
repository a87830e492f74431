"""A query's SQLite read phase in one worker thread, its keyword search overlapping the question's embedding.

The keyword side of a hybrid query does not need the question's vector. ONNX Runtime embeds a question
on one thread and this machine class has two cores, so once the model call has begun (started together,
the reader often took the GIL first and ran its whole keyword search before the model began), the read
thread opens the query's read transaction, runs the keyword search (which also reads the ranking facts
of its hits), parses the question's dates and then waits for the vector, which the model's thread hands
over itself; FAISS, fusion and the rest follow in the same thread and the same transaction. The reader
runs its keyword side off the CPU the model call runs on (memory_core/_affinity.py: Linux tended to wake
it there). Both phases read one snapshot of the database: the snapshot starts at the keyword search's
first statement, before the embedding ends, and holds until the hits are built. A memory written or
deleted meanwhile is seen as it was when the query began reading, in every part of the answer (and a
delete's WAL checkpoint waits for the query, as for any open reader).

The overlap runs only while the micro-batcher is idle (a lone question): under load every core is busy
already, and a read thread waiting for a batch would only hold a reader slot (`SqliteReads.limiter`) that
another query could use; there the read phase starts once the vector is known, as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
import anyio.to_thread

from ._affinity import away_from, current_cpu
from ._index import TenantIndex, Vectors
from ._keyword import KeywordHits, SqliteKeywordIndex, query_terms
from ._rerank import refine_raw
from ._rows import chunks, load_memories_raw
from ._search import CandidateFacts, Ranked, SearchMode, above_floor, fuse, rank
from ._sqlite_reads import FACTS_SQL, SqliteReads, fact_row, placeholders, visible_sql
from ._trace import QueryTrace
from ._when import question_windows
from .config import SearchSettings
from .embedding import MicroBatcher
from .types import Memory, QueryFilters

__all__ = ["RawQuery", "read_sqlite"]


@dataclass(frozen=True)
class RawQuery:
    """What the raw read phase of one query needs to know."""

    tenant: str
    text: str
    filters: QueryFilters
    now: datetime
    mode: SearchMode
    proposals: int
    limit: int
    search: SearchSettings
    trace: QueryTrace | None

    def stage(self, name: str) -> AbstractContextManager[None]:
        return self.trace.stage(name) if self.trace is not None else nullcontext()


class _Abandoned(Exception):
    """The query stopped (cancelled, or its embedding failed) before its vector was handed over."""


class _VectorHandoff:
    """The question's vector, passed from the model's thread to the read thread that waits for it.

    The model's thread hands it over itself (`embed_one(finished=...)`), so the reader goes on while
    the result is still on its way back to the event loop; that moment ends the "question embedding"
    stage, recorded before the reader can record the stages that follow it.
    """

    def __init__(self, trace: QueryTrace | None) -> None:
        self._started = threading.Event()
        self._ready = threading.Event()
        self._vector: Vectors | None = None
        self._trace = trace
        self._began = time.perf_counter()
        self.model_cpu: int | None = None
        self.before_waiting: Callable[[], object] = lambda: None

    def model_started(self) -> None:
        self.model_cpu = current_cpu()  # before the reader is woken: it keeps off this CPU
        self._started.set()

    def put(self, vector: Vectors) -> None:
        if self._trace is not None:
            self._trace.stages["question embedding"] = time.perf_counter() - self._began
        self._vector = vector
        self._ready.set()

    def abandon(self) -> None:
        self._started.set()
        self._ready.set()  # the vector stays None: the waiting thread gives up

    def wait_for_the_model(self) -> None:
        """Until the model call has begun (or the query gave up): the reader then takes the other core."""
        self._started.wait()
        if self._ready.is_set() and self._vector is None:
            raise _Abandoned

    def wait(self) -> Vectors:
        self.before_waiting()
        self._ready.wait()
        if self._vector is None:
            raise _Abandoned
        return self._vector


async def read_sqlite(
    reads: SqliteReads,
    keyword_index: SqliteKeywordIndex,
    batcher: MicroBatcher,
    tenant_index: TenantIndex | None,
    q: RawQuery,
) -> tuple[list[Ranked], dict[int, Memory]]:
    """The ranked candidates and hit rows of `q` on SQLite, embedding the question unless in keyword mode."""
    if q.mode == "keyword":
        return await anyio.to_thread.run_sync(
            _read, reads, keyword_index, q, lambda: [], limiter=reads.limiter
        )
    if q.mode == "vector" or batcher.busy:
        with q.stage("question embedding"):
            vector = await batcher.embed_one(q.text)
        return await anyio.to_thread.run_sync(
            _read, reads, keyword_index, q, _searcher(tenant_index, vector, q), limiter=reads.limiter
        )
    return await _overlapped(reads, keyword_index, batcher, tenant_index, q)


def _searcher(
    tenant_index: TenantIndex | None, vector: Vectors | _VectorHandoff, q: RawQuery
) -> Callable[[], list[tuple[int, float]]]:
    """The vector hits, for the read thread to call once the keyword side is done (waiting for a handoff)."""

    def search() -> list[tuple[int, float]]:
        query_vector = vector.wait() if isinstance(vector, _VectorHandoff) else vector
        if tenant_index is None:
            return []
        with q.stage("vector search (FAISS)"):
            return above_floor(tenant_index.search(query_vector, q.proposals), q.search)

    return search


async def _overlapped(
    reads: SqliteReads,
    keyword_index: SqliteKeywordIndex,
    batcher: MicroBatcher,
    tenant_index: TenantIndex | None,
    q: RawQuery,
) -> tuple[list[Ranked], dict[int, Memory]]:
    """`_read` in a worker thread started before the question's embedding, which it waits for."""
    handoff = _VectorHandoff(q.trace)
    found: list[tuple[list[Ranked], dict[int, Memory]]] = []
    failed: list[Exception] = []

    async def read() -> None:
        # Errors are kept, not raised here: a task group would wrap them in an ExceptionGroup, and a
        # query's caller expects the error itself (its embedding's, or the database's).
        try:
            found.append(
                await anyio.to_thread.run_sync(
                    _read_beside,
                    reads,
                    keyword_index,
                    q,
                    handoff,
                    _searcher(tenant_index, handoff, q),
                    limiter=reads.limiter,
                )
            )
        except _Abandoned:
            pass
        except Exception as exc:
            failed.append(exc)

    async with anyio.create_task_group() as group:
        group.start_soon(read)
        try:
            await batcher.embed_one(q.text, started=handoff.model_started, finished=handoff.put)
        except Exception as exc:
            failed.insert(0, exc)  # the embedding's error is the cause; the reader only gave up
        finally:
            handoff.abandon()  # no-op once the vector is there; else the thread must not wait forever
    if failed:
        raise failed[0]
    if q.trace is not None:
        q.trace.overlapped.add("keyword search")
    return found[0]


def _read_beside(
    reads: SqliteReads,
    keyword_index: SqliteKeywordIndex,
    q: RawQuery,
    handoff: _VectorHandoff,
    vector_hits: Callable[[], list[tuple[int, float]]],
) -> tuple[list[Ranked], dict[int, Memory]]:
    """`_read` once the model call it runs beside has begun, its keyword side off the model's CPU.

    The reader gets every CPU back before it waits for the vector: once the model is done its CPU is
    free, and beside a busy process (on the one CPU left) the rest of the query need not share a core.
    """
    handoff.wait_for_the_model()
    with ExitStack() as away:
        away.enter_context(away_from(handoff.model_cpu))
        handoff.before_waiting = away.close
        return _read(reads, keyword_index, q, vector_hits)


def _read(
    reads: SqliteReads,
    keyword_index: SqliteKeywordIndex,
    q: RawQuery,
    vector_hits: Callable[[], list[tuple[int, float]]],
) -> tuple[list[Ranked], dict[int, Memory]]:
    """The reads of one query on one DB-API cursor, in one read transaction; blocking (a worker thread)."""
    where_sql, params = visible_sql(q.tenant, q.filters, q.now)
    keyword = KeywordHits()
    facts: dict[int, CandidateFacts] = {}
    with reads.transaction() as cursor:
        if q.mode != "vector":
            with q.stage("keyword search"):
                keyword = keyword_index.search_raw(
                    cursor, query_terms(q.text), where_sql, params, q.proposals, facts=facts
                )
        windows = question_windows(q.text, q.now)  # needs no vector either
        found = vector_hits()  # may wait for the question's vector (see the module docstring)
        with q.stage("fusion"):
            candidates = fuse(found, keyword.hits, q.search, keyword.full_match)
        with q.stage("candidate facts"):
            # The keyword search read its hits' facts already; only vector-only candidates are left.
            facts.update(
                _facts(
                    cursor, [c.memory_id for c in candidates if c.memory_id not in facts], where_sql, params
                )
            )
            wanted = {c.memory_id for c in candidates}
            facts = {i: f for i, f in facts.items() if i in wanted}
        with q.stage("dates and context"):
            candidates = refine_raw(cursor, q.tenant, q.text, q.now, candidates, facts, q.search, windows)
        with q.stage("ranking and rows"):
            ranked = rank(candidates, facts, q.now, q.search, q.limit)
            memories = load_memories_raw(cursor, [r[1].memory_id for r in ranked])
    return ranked, memories


def _facts(
    cursor: Any, memory_ids: list[int], where_sql: str, params: list[Any]
) -> dict[int, CandidateFacts]:
    """The ranking facts of those of `memory_ids` that pass the query's filters."""
    facts: dict[int, CandidateFacts] = {}
    for chunk in chunks(memory_ids):
        sql = FACTS_SQL.format(ids=placeholders(len(chunk)), where=where_sql)
        for row in cursor.execute(sql, (*chunk, *params)):
            facts[row[0]] = fact_row(row)
    return facts
