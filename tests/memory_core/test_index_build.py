"""HNSW builds in the background: the index in use answers meanwhile, writes made during the build
survive the swap, a failed, cancelled or crashed build loses nothing."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import numpy as np
import pytest

import memory_core._index as index_module
from memory_core import Actor, CoreSettings, MemoryCore
from memory_core._index import IndexSet, TenantIndex
from memory_core.config import SearchSettings
from memory_core.testing import HashingEmbedder, draft

ROOT = Path(__file__).resolve().parents[2]
ADMIN = Actor(id="test:admin", is_admin=True)


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def exact_top(vectors: np.ndarray, ids: list[int], query: np.ndarray, k: int) -> list[int]:
    order = np.argsort(-(vectors @ query), kind="stable")[:k]
    return [ids[i] for i in order]


class Gate:
    """Holds a background build after its first batch until released (or makes every batch fail)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, fail: bool = False) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()
        self.batches = 0
        self.armed = True
        real = index_module._add_batch

        def gated(index: object, vectors: np.ndarray, labels: np.ndarray) -> None:
            if fail:
                raise MemoryError("no room for the graph")
            real(index, vectors, labels)  # type: ignore[arg-type]
            if not self.armed:
                return
            self.batches += 1
            if self.batches == 1:
                self.reached.set()
                assert self.release.wait(60), "the test never released the build"

        monkeypatch.setattr(index_module, "_add_batch", gated)
        monkeypatch.setattr(index_module, "_BUILD_BATCH", 500)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    g = Gate(monkeypatch)
    yield g
    g.release.set()  # never leave a builder thread waiting


def test_the_flat_index_answers_exactly_while_hnsw_builds_and_writes_survive_the_swap(gate: Gate) -> None:
    ids, vectors = list(range(1, 3001)), unit_vectors(3000)
    index = TenantIndex(32)
    index.upsert(ids, vectors)
    assert index.start_build(approximate=True)
    assert gate.reached.wait(30)
    assert index.building and not index.approximate
    assert not index.start_build(approximate=True)  # one build at a time

    # During the build: exact answers, and every kind of write.
    query = unit_vectors(1, seed=9)[0]
    assert [m for m, _ in index.search(query, 10)] == exact_top(vectors, ids, query, 10)
    removed = ids[:100] + ids[2000:2100]  # copied in the first batch / not copied yet
    index.remove(removed)
    new_ids, new_vectors = list(range(5001, 5401)), unit_vectors(400, seed=5)
    index.upsert(new_ids, new_vectors)
    moved = unit_vectors(1, seed=11)
    index.upsert([ids[300]], moved)  # an update: the old vector retires, the new one is added

    gate.release.set()
    assert index.wait_for_build(60)
    assert index.approximate and not index.building
    live = (set(ids) - set(removed)) | set(new_ids)
    assert index.memory_ids() == live and len(index) == len(live)
    assert index.tombstones == 100 + 1  # retired after their batch was copied: skipped by search
    for row in range(0, 100, 10):  # a removed vector is its own best match: never returned
        assert not {m for m, _ in index.search(vectors[row], 10)} & set(removed)
    for row in range(0, 400, 40):  # written during the build: found
        assert index.search(new_vectors[row], 1)[0][0] == new_ids[row]
    assert index.search(moved[0], 1)[0][0] == ids[300]
    assert ids[300] not in [m for m, _ in index.search(vectors[300], 3)]


def test_a_failed_build_leaves_the_index_in_use_and_waits_before_trying_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Gate(monkeypatch, fail=True)
    ids, vectors = list(range(1, 2001)), unit_vectors(2000)
    index = TenantIndex(32)
    index.upsert(ids, vectors)
    assert index.start_build(approximate=True)
    assert index.wait_for_build(30)
    assert not index.building and not index.approximate and len(index) == 2000
    assert index.search(vectors[7], 1)[0][0] == ids[7]
    assert not index.start_build(approximate=True)  # not again on the next catch-up


def test_cancelling_a_build_stops_it_between_batches(gate: Gate) -> None:
    ids, vectors = list(range(1, 3001)), unit_vectors(3000)
    indexes = IndexSet(32, "m", approximate_above=1000)
    indexes.get("t").upsert(ids, vectors)
    indexes.maybe_grow("t")
    assert gate.reached.wait(30) and indexes.building
    closer = threading.Thread(target=indexes.close)
    closer.start()
    gate.release.set()
    closer.join(30)
    assert not closer.is_alive() and not indexes.building
    assert gate.batches == 1  # it stopped at the next batch
    index = indexes.tenants["t"]
    assert not index.approximate and index.search(vectors[5], 1)[0][0] == ids[5]


def test_a_finished_build_counts_towards_the_next_snapshot() -> None:
    indexes = IndexSet(32, "m", approximate_above=1000)
    indexes.get("t").upsert(list(range(1, 1501)), unit_vectors(1500))
    indexes.maybe_grow("t")
    assert indexes.wait_for_builds(60)
    assert indexes.tenants["t"].approximate and indexes.changes_since_snapshot == 1500


def _settings(data_dir: Path) -> CoreSettings:
    return CoreSettings(
        data_dir=data_dir, search=SearchSettings(approximate_above=1000), snapshot_every_changes=0
    )


def text(i: int) -> str:
    return f"note {i}: the {['build', 'deploy', 'alert', 'canary'][i % 4]} runbook, step {i}"


async def _stored(data_dir: Path, n: int, gate: Gate | None = None) -> list[int]:
    """n memories in a database with no index snapshot (a gate is armed once they are in)."""
    if gate is not None:
        gate.armed = False
    texts = [text(i) for i in range(n)]
    async with await MemoryCore.open(_settings(data_dir), embedder=HashingEmbedder()) as core:
        results = await core.store_many("default", [draft(t) for t in texts])
        with anyio.fail_after(60):
            await core.wait_for_index()
    shutil.rmtree(data_dir / "index")  # no snapshot: the next open starts from SQL
    if gate is not None:
        gate.armed = True
    return [r.id for r in results]


@pytest.mark.anyio
async def test_first_open_answers_during_the_build_then_hnsw_swaps_in_and_is_snapshotted(
    tmp_path: Path, gate: Gate
) -> None:
    ids = await _stored(tmp_path, 1500, gate)
    core = await MemoryCore.open(_settings(tmp_path), embedder=HashingEmbedder())
    async with core:
        assert gate.reached.wait(30)
        status = await core.index_status("default")
        assert status["building"] and not status["approximate"] and status["missing"] == []
        health = await core.health()
        assert health["ready"] and health["index_building"]
        hits = await core.query("default", text(42), mode="vector")
        assert hits[0].memory.id == ids[42]
        await core.delete("default", ids[43], actor=ADMIN)  # a write while the build runs
        gate.release.set()
        with anyio.fail_after(60):
            await core.wait_for_index()
        status = await core.index_status("default")
        assert status["approximate"] and not status["building"]
        assert not (await core.health())["index_building"]
        assert status["indexed"] == 1499 and status["missing"] == [] and status["orphaned"] == []
        hits = await core.query("default", text(43), mode="vector", limit=20)
        assert ids[43] not in {h.memory.id for h in hits}
    gate.batches = 0
    async with await MemoryCore.open(_settings(tmp_path), embedder=HashingEmbedder()) as reopened:
        status = await reopened.index_status("default")
        assert status["approximate"] and not status["building"] and gate.batches == 0  # from the snapshot


@pytest.mark.anyio
async def test_closing_mid_build_keeps_the_flat_snapshot_and_the_next_open_builds_again(
    tmp_path: Path, gate: Gate
) -> None:
    ids = await _stored(tmp_path, 1500, gate)
    core = await MemoryCore.open(_settings(tmp_path), embedder=HashingEmbedder())
    assert gate.reached.wait(30)
    gate.release.set()  # the close cancels it at the next batch
    await core.aclose()
    gate.release.clear()
    gate.reached.clear()
    gate.batches = 0
    async with await MemoryCore.open(_settings(tmp_path), embedder=HashingEmbedder()) as reopened:
        assert gate.reached.wait(30)  # the flat snapshot loaded, and HNSW is being built again
        hits = await reopened.query("default", text(7), mode="vector")
        assert hits[0].memory.id == ids[7]
        gate.release.set()
        with anyio.fail_after(60):
            await reopened.wait_for_index()
        assert (await reopened.index_status("default"))["approximate"]


_CRASHING_CHILD = """
import os, sys, anyio
from pathlib import Path
from memory_core import CoreSettings, MemoryCore
from memory_core import _index
from memory_core.config import SearchSettings
from memory_core.testing import HashingEmbedder
real = _index._add_batch
def stuck(index, vectors, labels):
    real(index, vectors, labels)
    print("building", flush=True)
    os.kill(os.getpid(), 9)
_index._BUILD_BATCH = 500
_index._add_batch = stuck
async def main():
    settings = CoreSettings(data_dir=Path(sys.argv[1]), search=SearchSettings(approximate_above=1000))
    await MemoryCore.open(settings, embedder=HashingEmbedder())
    await anyio.sleep(60)
anyio.run(main)
"""


@pytest.mark.anyio
async def test_a_process_killed_mid_build_loses_nothing(tmp_path: Path) -> None:
    ids = await _stored(tmp_path, 1500)
    with anyio.fail_after(120):
        child = await anyio.run_process(
            [sys.executable, "-c", _CRASHING_CHILD, str(tmp_path)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
        )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    assert b"building" in child.stdout
    async with await MemoryCore.open(_settings(tmp_path), embedder=HashingEmbedder()) as core:
        hits = await core.query("default", text(99), mode="vector")
        assert hits[0].memory.id == ids[99]
        with anyio.fail_after(60):
            await core.wait_for_index()
        status = await core.index_status("default")
        assert status["approximate"] and status["indexed"] == 1500 and status["missing"] == []
