"""`QueryTrace`: where one query's time went, stage by stage (the public hook benchmarks time with)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["QueryTrace"]


class QueryTrace:
    """Where one query's time went: pass one to `MemoryCore.query(..., trace=trace)`, then read `stages`.

    `stages` maps each stage to the seconds it took, in the order the stages finished:
    "index catch-up (sync)", "question embedding" (not in keyword mode), "vector search (FAISS)" (not in
    keyword mode, nor when the filters allow no memory), "keyword search" (not in vector mode), "fusion",
    "candidate facts", "dates and context", "ranking and rows". A stage that did not run is absent; the
    rest of a query's time (thread hand-offs, the query log, transactions) is not attributed to any stage.

    Stages can overlap, so they need not add up to the query's time. On SQLite, while the micro-batcher
    is idle (a lone question), a hybrid query's "keyword search" runs in a worker thread *while* the
    question is being embedded (memory_core/_raw_query.py), and also reads the ranking facts of its own
    hits, which "candidate facts" then no longer includes; `overlapped` names the stages that ran beside
    the embedding that way. A query's time less its "question embedding" is then what it costs beside the
    embedding *on its critical path*: the overlapped keyword search is hidden in the embedding's time and
    counts only for what it outlasts the embedding.
    """

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self.overlapped: set[str] = set()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - started
