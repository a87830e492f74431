"""bench/index_choice.py on a small clustered corpus: the rows, the recall and the docs table."""

from __future__ import annotations

import numpy as np

from bench.index_choice import index_choice, index_choice_lines, recall_at_10
from memory_core._index import TenantIndex


def _clustered(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dim))
    points = centres[rng.integers(0, 20, n)] + 0.4 * rng.standard_normal((n, dim))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def test_index_choice_measures_each_size_that_fits_and_hnsw_finds_the_exact_neighbours() -> None:
    vectors = _clustered(3000, 32, 1)
    questions = _clustered(30, 32, 2)
    rows = index_choice(list(range(1, 3001)), vectors, questions, sizes=(1000, 2500, 5000), flush_mb=1)
    assert [r["vectors"] for r in rows] == [1000, 2500]  # 5,000 is more than the corpus holds
    for row in rows:
        assert row["recall_at_10"] >= 0.9  # efSearch 128 over a few thousand vectors is near exact
        assert all(row[key] > 0 for key in ("exact_warm_ms", "exact_cold_ms", "hnsw_warm_ms", "hnsw_cold_ms"))


def test_recall_counts_the_exact_neighbours_an_index_misses() -> None:
    vectors = _clustered(2000, 32, 3)
    ids = list(range(1, 2001))
    exact = TenantIndex(32)
    exact.upsert(ids, vectors)
    half = TenantIndex(32, approximate=True)  # holds every other memory only: about half the true hits
    half.upsert(ids[::2], vectors[::2])
    questions = _clustered(40, 32, 4)
    assert recall_at_10(exact, exact, questions) == 1.0
    assert 0.3 <= recall_at_10(exact, half, questions) <= 0.7


def test_the_table_says_which_index_the_default_uses() -> None:
    rows = [
        {
            "vectors": n,
            "exact_warm_ms": 0.3,
            "exact_cold_ms": 0.9,
            "hnsw_warm_ms": 0.1,
            "hnsw_cold_ms": 0.5,
            "recall_at_10": 0.998,
            "hnsw_build_s": 0.3,
        }
        for n in (2000, 5000, 10000)
    ]
    lines = index_choice_lines(rows, approximate_above=5000)
    body = [
        line
        for line in lines
        if line.startswith("| 2,000") or line.startswith("| 5,000") or line.startswith("| 10,000")
    ]
    assert [line.rsplit("|", 2)[1].strip() for line in body] == ["exact", "exact", "HNSW"]
    assert index_choice_lines([], approximate_above=5000) == []
