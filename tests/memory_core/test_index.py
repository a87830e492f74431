"""The FAISS index: exact below the threshold, HNSW above; deletes honoured by tombstones; filters exact."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from memory_core._index import IndexSet, TenantIndex


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def exact_top(vectors: np.ndarray, ids: list[int], query: np.ndarray, k: int) -> list[int]:
    order = np.argsort(-(vectors @ query), kind="stable")[:k]
    return [ids[i] for i in order]


@pytest.fixture
def data() -> tuple[list[int], np.ndarray]:
    return list(range(1000, 4000)), unit_vectors(3000)


def test_hnsw_recall_at_10_against_exact(data: tuple[list[int], np.ndarray]) -> None:
    ids, vectors = data
    hnsw = TenantIndex(32, approximate=True)
    hnsw.upsert(ids, vectors)
    queries = unit_vectors(50, seed=1)
    found = [
        len({m for m, _ in hnsw.search(q, 10)} & set(exact_top(vectors, ids, q, 10))) / 10 for q in queries
    ]
    assert float(np.mean(found)) >= 0.95


@pytest.mark.parametrize("approximate", [False, True])
def test_deleted_and_replaced_vectors_are_never_returned(
    data: tuple[list[int], np.ndarray], approximate: bool
) -> None:
    ids, vectors = data
    index = TenantIndex(32, approximate=approximate)
    index.upsert(ids, vectors)
    gone = ids[:300]
    index.remove(gone)
    index.upsert([ids[400]], unit_vectors(1, seed=7))  # an update retires the old vector too
    assert index.tombstones == (301 if approximate else 0)
    for row in range(0, 300, 30):  # each deleted vector is its own best match
        hits = [m for m, _ in index.search(vectors[row], 10)]
        assert len(hits) == 10
        assert not set(hits) & set(gone)
    assert ids[400] not in [m for m, _ in index.search(vectors[400], 3)]
    assert len(index) == 2700


def test_tombstones_trigger_a_rebuild_that_drops_them(data: tuple[list[int], np.ndarray]) -> None:
    ids, vectors = data
    indexes = IndexSet(32, "m", approximate_above=1000)
    indexes.get("t").upsert(ids, vectors)
    indexes.maybe_grow("t")
    assert indexes.wait_for_builds(60)
    assert indexes.tenants["t"].approximate
    indexes.tenants["t"].remove(ids[:700])
    assert indexes.tenants["t"].needs_rebuild
    indexes.maybe_grow("t")
    assert indexes.wait_for_builds(60)
    fresh = indexes.tenants["t"]
    assert fresh.approximate and fresh.tombstones == 0 and len(fresh) == 2300
    assert fresh.memory_ids() == set(ids[700:])


def test_filtered_hnsw_search_is_exact(data: tuple[list[int], np.ndarray]) -> None:
    ids, vectors = data
    index = TenantIndex(32, approximate=True)
    index.upsert(ids, vectors)
    index.remove(ids[:5])
    allowed = set(ids[:40:2]) | {999_999}  # a few live ids, some deleted, one unknown
    query = unit_vectors(1, seed=3)[0]
    live = sorted(allowed - set(ids[:5]) - {999_999})
    rows = [ids.index(m) for m in live]
    expected = exact_top(vectors[rows], live, query, 10)
    assert [m for m, _ in index.search(query, 10, allowed)] == expected


@pytest.mark.parametrize("approximate", [False, True])
def test_snapshot_round_trip_keeps_tombstones(
    tmp_path: Path, data: tuple[list[int], np.ndarray], approximate: bool
) -> None:
    ids, vectors = data
    index = TenantIndex(32, approximate=approximate)
    index.upsert(ids, vectors)
    index.remove(ids[:10])
    index.save(tmp_path / "t.faiss")
    loaded = TenantIndex.load(tmp_path / "t.faiss", 32)
    assert loaded.approximate is approximate and len(loaded) == len(index)
    assert loaded.tombstones == index.tombstones
    assert [m for m, _ in loaded.search(vectors[0], 5)] == [m for m, _ in index.search(vectors[0], 5)]
    assert ids[0] not in [m for m, _ in loaded.search(vectors[0], 5)]


def test_rebuild_vectors_match_what_was_stored_after_removals(data: tuple[list[int], np.ndarray]) -> None:
    ids, vectors = data
    for approximate in (False, True):
        index = TenantIndex(32, approximate=approximate)
        index.upsert(ids, vectors)
        index.remove(ids[::3])
        kept, rebuilt = index.vectors_for_rebuild()
        expected = {m: vectors[i] for i, m in enumerate(ids)}
        assert sorted(kept) == sorted(ids[i] for i in range(len(ids)) if i % 3)
        assert np.allclose(rebuilt, np.vstack([expected[m] for m in kept]))


@pytest.mark.parametrize("approximate", [False, True])
def test_one_question_is_searched_on_one_openmp_thread(
    data: tuple[list[int], np.ndarray], approximate: bool
) -> None:
    """An OpenMP team for one question costs more than it saves on a busy machine (docs/benchmarks.md);
    the calling thread's own setting, which bulk work uses, is what it was afterwards."""
    import faiss

    ids, vectors = data
    index = TenantIndex(32, approximate=approximate)
    index.upsert(ids, vectors)
    seen: list[int] = []
    inner = index._index

    class Spy:
        def search(self, *args: object, **kwargs: object) -> object:
            seen.append(faiss.omp_get_max_threads())
            return inner.search(*args, **kwargs)

    index._index = Spy()
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    try:
        hits = index.search(vectors[7], 5)
        assert faiss.omp_get_max_threads() == 2
    finally:
        faiss.omp_set_num_threads(before)
    assert seen == [1]
    assert hits[0][0] == ids[7]


def _os_threads() -> set[int]:
    return {int(tid) for tid in os.listdir("/proc/self/task")}


def _left_behind(before: set[int]) -> set[int]:
    """Threads started since `before` that are still alive a moment later (exiting OpenMP workers end
    just after the call that ran them); threads that ended meanwhile do not count."""
    deadline = time.monotonic() + 5
    while (new := _os_threads() - before) and time.monotonic() < deadline:
        time.sleep(0.01)
    return new


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="counts threads in /proc")
def test_inserts_leave_no_openmp_team_behind_in_a_long_lived_thread() -> None:
    # A team kept alive by a worker thread makes PyTorch's OpenMP runtime (shared with FAISS when torch
    # is imported first) stop spinning: its encode took twice as long (see `_insert`).
    import faiss

    if faiss.omp_get_max_threads() < 2:
        pytest.skip("one OpenMP thread: there is no team to leave behind")
    hnsw = TenantIndex(32, approximate=True)
    vectors = unit_vectors(1010, seed=3)
    with ThreadPoolExecutor(1) as worker:  # like the core's worker threads: lives across calls
        worker.submit(lambda: None).result()
        before = _os_threads()
        worker.submit(hnsw.upsert, list(range(1, 11)), vectors[:10]).result()  # a few: one thread
        assert not _os_threads() - before
        worker.submit(hnsw.upsert, list(range(11, 1011)), vectors[10:]).result()  # many: a passing thread
        assert not _left_behind(before)
    assert [m for m, _ in hnsw.search(vectors[500], 1)] == [501]
