"""Several OS processes over one database: what one stores, the other finds; what one deletes is gone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
import sqlalchemy as sa

from memory_core import CoreSettings, MemoryCore
from memory_core._schema import change_table
from memory_core.testing import HashingEmbedder
from tests.conftest import SettingsFactory

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    def __init__(self, settings: CoreSettings) -> None:
        url = {"TEAMLORE_TEST_DATABASE_URL": settings.database_url} if settings.database_url else {}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.memory_core.worker", str(settings.data_dir)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), **url},
        )
        assert self.read() == {"ready": True}

    def read(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"worker died (exit {self.proc.poll()})"
        return json.loads(line)

    def send(self, **cmd: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def ask(self, **cmd: Any) -> Any:
        self.send(**cmd)
        return self.read()

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.ask(op="exit")
                self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=30)
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None:
                    stream.close()


@pytest.fixture
def pair(make_settings: SettingsFactory) -> Iterator[tuple[Worker, Worker]]:
    settings = make_settings()
    a = Worker(settings)
    b = Worker(settings)
    yield a, b
    for w in (a, b):
        w.close()


def test_store_in_one_process_is_found_by_the_other_and_delete_is_honoured(
    pair: tuple[Worker, Worker],
) -> None:
    a, b = pair
    assert b.ask(op="query", text="kubernetes upgrade window")["ids"] == []
    stored = a.ask(op="store", text="the kubernetes upgrade window is sunday night")["id"]
    assert stored in b.ask(op="query", text="kubernetes upgrade window")["ids"]
    # Both processes write; each sees the other's writes.
    other = b.ask(op="store", text="kubernetes nodes are patched monthly")["id"]
    assert other in a.ask(op="query", text="kubernetes patched")["ids"]

    a.ask(op="delete", id=stored)
    for _ in range(3):
        assert stored not in b.ask(op="query", text="kubernetes upgrade window sunday", limit=10)["ids"]
        assert stored not in a.ask(op="query", text="kubernetes upgrade window sunday", limit=10)["ids"]


def test_concurrent_writers_do_not_lose_writes(pair: tuple[Worker, Worker]) -> None:
    a, b = pair
    a.send(op="store_many", texts=[f"alpha fact {i}" for i in range(200)], batch=20)
    b.send(op="store_many", texts=[f"beta fact {i}" for i in range(200)], batch=20)
    stored: list[int] = []
    for worker in (a, b):
        while True:
            message = worker.read()
            if message.get("done"):
                break
            stored.extend(message["stored"])
    assert len(set(stored)) == 400
    assert (
        a.ask(op="query", text="beta fact 199", limit=1)["ids"]
        == b.ask(op="query", text="beta fact 199", limit=1)["ids"]
    )


@pytest.mark.anyio
async def test_bulk_import_killed_with_sigkill_loses_nothing_acknowledged(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    worker = Worker(settings)
    worker.send(
        op="store_many",
        texts=[f"crash test memory number {i} about topic {i % 17}" for i in range(3000)],
        batch=100,
    )
    acknowledged: list[int] = []
    while len(acknowledged) < 900:
        acknowledged.extend(worker.read()["stored"])
    worker.proc.send_signal(signal.SIGKILL)
    worker.proc.wait(timeout=30)
    worker.close()

    # A stale snapshot from before the crash must be noticed and caught up; a missing one rebuilt.
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        present = await core.get_many("default", acknowledged)
        assert len(present) == len(acknowledged)
        status = await core.index_status("default")
        assert status["missing"] == [] and status["orphaned"] == []
        for memory in present[:: max(1, len(present) // 25)]:
            hits = await core.query("default", memory.text, limit=3, record=False)
            assert memory.id in [h.memory.id for h in hits]


@pytest.mark.anyio
async def test_missing_damaged_or_foreign_snapshots_are_rebuilt_from_sql(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    settings = make_settings()
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        ids = [
            r.id
            for r in await core.store_many("default", [_d(f"note {i} on subject {i}") for i in range(50)])
        ]
    index_dir = settings.index_dir
    current = (index_dir / "CURRENT").read_text()
    # 1. Damaged: every index file truncated.
    for f in (index_dir / current).glob("*.faiss"):
        f.write_bytes(b"garbage")
    await _assert_all_found(settings, ids)
    # 2. Missing: the whole directory gone.
    import shutil

    shutil.rmtree(index_dir)
    await _assert_all_found(settings, ids)
    # 3. Stale: an older snapshot while the database moved on (another process wrote since).
    old = index_dir / (index_dir / "CURRENT").read_text()
    saved = tmp_path / "saved"
    shutil.copytree(old, saved / old.name)
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        extra = (await core.store("default", _d("written after the snapshot"))).id
        await core.delete("default", ids[0], actor=_admin())
    shutil.rmtree(index_dir)
    shutil.copytree(saved / old.name, index_dir / old.name)
    (index_dir / "CURRENT").write_text(old.name)
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        assert extra in [
            h.memory.id for h in await core.query("default", "written after the snapshot", record=False)
        ]
        assert ids[0] not in [
            h.memory.id for h in await core.query("default", "note 0 on subject 0", limit=10, record=False)
        ]
    # 4. Foreign: a snapshot of another database in this data directory.
    other = make_settings()
    async with await MemoryCore.open(other, embedder=HashingEmbedder()) as core:
        await core.store("default", _d("only in the other database"))
    shutil.rmtree(index_dir)
    shutil.copytree(other.index_dir, index_dir)
    await _assert_all_found(settings, [*ids[1:], extra])


@pytest.mark.anyio
async def test_a_process_behind_the_pruned_change_log_rebuilds_its_index(
    make_settings: SettingsFactory,
) -> None:
    """The change log is pruned after `change_log_days`; a running process or a saved snapshot older
    than what was pruned cannot replay it, so it rebuilds from SQL and misses nothing."""
    settings = make_settings()
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as writer:
        first = [r.id for r in await writer.store_many("default", [_d(f"old note {i}") for i in range(5)])]
        assert await writer.prune_changes() == 0  # everything is younger than a week

        async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as running:
            await running.query("default", "old note", record=False)  # in step now
            stopped = await MemoryCore.open(settings, embedder=HashingEmbedder())
            await stopped.aclose()  # leaves a snapshot at this point of the log

            added = [
                r.id for r in await writer.store_many("default", [_d(f"new note {i}") for i in range(3)])
            ]
            await writer.delete("default", first[0], actor=_admin())
            assert await writer.prune_changes(older_than=timedelta(0)) > 0
            async with writer.database.read() as conn:
                # Only the newest entry is left: sequence numbers never go back.
                left = await conn.execute(sa.select(sa.func.count()).select_from(change_table))
                assert left.scalar_one() == 1

            for core in (running, await MemoryCore.open(settings, embedder=HashingEmbedder())):
                found = {h.memory.id for h in await core.query("default", "new note", limit=10, record=False)}
                assert set(added) <= found
                gone = await core.query("default", "old note 0", limit=10, record=False)
                assert first[0] not in {h.memory.id for h in gone}
                status = await core.index_status("default")
                assert status["missing"] == [] and status["orphaned"] == []
                if core is not running:
                    await core.aclose()


def _d(text: str) -> Any:
    from memory_core.testing import draft

    return draft(text)


def _admin() -> Any:
    from memory_core import Actor

    return Actor(id="test:admin", is_admin=True)


async def _assert_all_found(settings: CoreSettings, ids: list[int]) -> None:
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        status = await core.index_status("default")
        assert status["missing"] == [] and status["orphaned"] == []
        assert status["indexed"] == len(ids)
        for memory in await core.get_many("default", ids[:5]):
            assert memory.id in [h.memory.id for h in await core.query("default", memory.text, record=False)]
    await anyio.lowlevel.checkpoint()
