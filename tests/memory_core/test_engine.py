"""Engine properties: SQLite in WAL mode with a busy timeout, embedding micro-batched off the event loop."""

from __future__ import annotations

import threading

import anyio
import pytest

from memory_core import MemoryCore
from memory_core.embedding import Vectors
from memory_core.testing import HashingEmbedder, draft
from tests.conftest import SettingsFactory

pytestmark = pytest.mark.anyio


class CountingEmbedder(HashingEmbedder):
    """Records each model call: its batch size and the thread it ran on."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int, str]] = []

    def embed(self, texts: list[str]) -> Vectors:
        self.calls.append((len(texts), threading.current_thread().name))
        threading.Event().wait(0.02)  # a model takes a while; concurrent requests pile up meanwhile
        return super().embed(texts)


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(core: MemoryCore) -> None:
    if not core.database.is_sqlite:
        pytest.skip("SQLite only")
    async with core.database.read() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one() == "wal"
        assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one() >= 5000
        assert (await conn.exec_driver_sql("PRAGMA secure_delete")).scalar_one() == 1
        # Reads go through a memory map (a query's scattered candidate rows: docs/benchmarks.md).
        assert (await conn.exec_driver_sql("PRAGMA mmap_size")).scalar_one() == 1 << 30


async def test_concurrent_requests_are_micro_batched_in_worker_threads(
    make_settings: SettingsFactory,
) -> None:
    embedder = CountingEmbedder()
    async with await MemoryCore.open(make_settings(), embedder=embedder) as core:
        await core.store_many("default", [draft(f"fact {i} about topic {i}") for i in range(20)])
        embedder.calls.clear()
        results: dict[int, list[int]] = {}

        async def ask(i: int) -> None:
            hits = await core.query("default", f"fact {i} about topic {i}", limit=1, record=False)
            results[i] = [h.memory.id for h in hits]

        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(ask, i)

    assert len(results) == 20 and all(len(ids) == 1 for ids in results.values())
    assert sum(size for size, _ in embedder.calls) == 20
    assert len(embedder.calls) < 20, embedder.calls  # several questions shared one model call
    assert max(size for size, _ in embedder.calls) > 1
    assert all(thread != threading.main_thread().name for _, thread in embedder.calls)
