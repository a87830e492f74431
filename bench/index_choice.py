"""Exact or HNSW by tenant size: what one question's vector search costs each way, and HNSW's recall.

This is the measurement behind the default `TEAMLORE_CORE__SEARCH__APPROXIMATE_ABOVE`. For each tenant
size it fills the core's own `TenantIndex` (internal, on purpose: the choice is the index's) once
exact and once HNSW with the first n vectors of a corpus, then times one question at a time over the
same questions, as a query does (`TenantIndex.search`, one FAISS thread), twice:

* warm: the questions back to back, the index in the CPU caches;
* cold: a 240 MB array read between two questions, as the model and the other requests of a busy
  server push the index out of the caches (an exact search reads every vector: 15 MB at 10k);

and counts HNSW's recall@10 against the exact index (a hit counts when it is as close as the 10th
exact neighbour). The HNSW build time is the background build's work, off every caller's path.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from memory_core._index import TenantIndex, Vectors

__all__ = ["SIZES", "index_choice", "index_choice_lines", "recall_at_10"]

SIZES = (2_000, 5_000, 10_000, 20_000, 50_000)
_K = 10
_FETCH = 50  # a query's vector proposals (SearchSettings.proposals' order of magnitude)


def _timed(index: TenantIndex, questions: Vectors, flush: np.ndarray | None) -> float:
    """p50 ms of one search per question; `flush` is read between two questions when given."""
    seconds = []
    for q in questions:
        if flush is not None:
            flush.sum()
        started = time.perf_counter()
        index.search(q, _FETCH)
        seconds.append(time.perf_counter() - started)
    return round(statistics.median(seconds) * 1000, 3)


def recall_at_10(exact: TenantIndex, other: TenantIndex, questions: Vectors) -> float:
    """Mean share of `other`'s 10 hits as close as the 10th exact neighbour (ties are not misses)."""
    recalls = []
    for q in questions:
        truth = exact.search(q, _K)
        kth = truth[-1][1]
        recalls.append(sum(score >= kth - 1e-6 for _, score in other.search(q, _K)) / _K)
    return round(float(np.mean(recalls)), 4)


def index_choice(
    ids: Sequence[int],
    vectors: Vectors,
    questions: Vectors,
    sizes: Sequence[int] = SIZES,
    *,
    flush_mb: int = 240,
) -> list[dict[str, Any]]:
    """One row per size (sizes above the corpus are skipped): search p50 ms exact and HNSW, warm and
    cold, HNSW recall@10 and build seconds."""
    sizes = [n for n in sizes if n <= len(ids)]
    flush = np.ones(flush_mb * 1024 * 1024 // 4, dtype=np.float32) if flush_mb and sizes else None
    rows = []
    for n in sizes:
        chosen, matrix = list(ids[:n]), np.ascontiguousarray(vectors[:n], dtype=np.float32)
        exact = TenantIndex(matrix.shape[1])
        exact.upsert(chosen, matrix)
        hnsw = TenantIndex(matrix.shape[1], approximate=True)
        started = time.perf_counter()
        hnsw.upsert(chosen, matrix)
        build = time.perf_counter() - started
        rows.append(
            {
                "vectors": n,
                "exact_warm_ms": _timed(exact, questions, None),
                "exact_cold_ms": _timed(exact, questions, flush),
                "hnsw_warm_ms": _timed(hnsw, questions, None),
                "hnsw_cold_ms": _timed(hnsw, questions, flush),
                "recall_at_10": recall_at_10(exact, hnsw, questions),
                "hnsw_build_s": round(build, 2),
            }
        )
    return rows


def index_choice_lines(rows: list[dict[str, Any]], approximate_above: int) -> list[str]:
    """The docs table, and which index the default gives each size."""
    if not rows:
        return []
    out = [
        "Exact or HNSW by tenant size (`bench/index_choice.py`: the core's own index over the first n "
        "vectors of the 100k corpus, the same questions; search p50 of one question with a query's 50 "
        "proposals; cold = a 240 MB read between two questions, as a busy server's other work evicts "
        "the caches; recall@10 of HNSW against exact):",
        "",
        "| vectors | exact warm ms | exact cold ms | HNSW warm ms | HNSW cold ms | HNSW recall@10 "
        "| HNSW build s | the default uses |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        uses = "HNSW" if r["vectors"] > approximate_above else "exact"
        out.append(
            f"| {r['vectors']:,} | {r['exact_warm_ms']} | {r['exact_cold_ms']} | {r['hnsw_warm_ms']} "
            f"| {r['hnsw_cold_ms']} | {r['recall_at_10']} | {r['hnsw_build_s']} | {uses} |"
        )
    return [*out, ""]
