"""Background work off callers' paths: shared index catch-up rounds, the query log and snapshots written by
`run_background`, and nothing lost when those writes fail. SQLite and PostgreSQL (the `backend` fixture)."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest
import sqlalchemy as sa

from memory_core import Actor, MemoryCore, Unavailable
from memory_core._schema import memory_table, query_log_table
from memory_core.testing import HashingEmbedder, draft
from tests.conftest import SettingsFactory

pytestmark = pytest.mark.anyio


def _count_rounds(core: MemoryCore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Calls of the index's change-log read, as a list that grows by one per round."""
    index = core._index
    original = index._catch_up_round
    rounds: list[int] = []

    async def counted() -> int:
        rounds.append(1)
        return await original()

    monkeypatch.setattr(index, "_catch_up_round", counted)
    return rounds


async def test_an_idle_catch_up_reads_nothing_on_sqlite_and_a_commit_anywhere_is_seen(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    settings = make_settings()
    async with (
        await MemoryCore.open(settings, embedder=HashingEmbedder()) as writer,
        await MemoryCore.open(settings, embedder=HashingEmbedder()) as reader,
    ):
        rounds = _count_rounds(reader, monkeypatch)
        for _ in range(5):
            await reader.sync()
        # SQLite's data_version says nobody committed: no change-log read. PostgreSQL has no such
        # counter, so every sync with nobody else waiting reads the log.
        assert len(rounds) == (0 if backend == "sqlite" else 5)
        stored = (await writer.store("default", draft("the build cache lives on nas2"))).id
        before = len(rounds)
        hits = await reader.query("default", "where does the build cache live", record=False)
        assert stored in [h.memory.id for h in hits]
        assert len(rounds) == before + 1
        await writer.delete("default", stored, actor=Actor(id="test:admin", name="admin", is_admin=True))
        hits = await reader.query("default", "where does the build cache live", record=False)
        assert stored not in [h.memory.id for h in hits]


async def test_concurrent_syncs_share_a_round_but_never_miss_an_earlier_commit(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Callers waiting for the index share one catch-up round that started after they arrived; one who
    arrives while a round runs (after a commit that round did not see) gets a round of its own."""
    settings = make_settings()
    async with (
        await MemoryCore.open(settings, embedder=HashingEmbedder()) as writer,
        await MemoryCore.open(settings, embedder=HashingEmbedder()) as reader,
    ):
        await writer.store("default", draft("stored before the first round"))
        index = reader._index
        original = index._catch_up_round
        rounds = 0
        rounds_seen: list[int] = []
        first_round_read = anyio.Event()

        async def counted() -> int:
            nonlocal rounds
            rounds += 1
            applied = await original()
            if rounds == 1:
                first_round_read.set()
                await anyio.sleep(0.2)  # hold the lock: the late caller arrives meanwhile
            return applied

        monkeypatch.setattr(index, "_catch_up_round", counted)

        async def late_caller() -> None:
            await first_round_read.wait()
            await writer.store("default", draft("stored while the first round ran"))
            await reader.sync()
            rounds_seen.append(rounds)
            status = await reader.index_status("default")
            assert status["missing"] == [], status  # the late commit is in this caller's index

        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(reader.sync)
            group.start_soon(late_caller)
        assert rounds_seen == [2]  # twenty callers shared the first round, the late one had the second


async def test_with_the_background_task_a_query_never_waits_for_the_query_log(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with await MemoryCore.open(make_settings(), embedder=HashingEmbedder()) as core:
        memory = (await core.store("default", draft("the wiki moved to wiki.corp"))).id
        log = core._log
        original = log.flush
        flushing = anyio.Event()
        release = anyio.Event()

        async def slow_flush(*, force: bool = False) -> None:
            if log.due() or (force and log.pending):
                flushing.set()
                await release.wait()  # a slow database write
            await original(force=force)

        monkeypatch.setattr(log, "flush", slow_flush)
        monkeypatch.setattr("memory_core._querylog.FLUSH_ROWS", 3)
        async with anyio.create_task_group() as group:
            group.start_soon(core.run_background)
            for _ in range(6):  # past FLUSH_ROWS: the flush is due, and it hangs
                with anyio.fail_after(5):
                    await core.query("default", "where is the wiki")
            with anyio.fail_after(5):
                await flushing.wait()
                await core.query("default", "where is the wiki")  # while the flush hangs
            release.set()
            with anyio.fail_after(5):
                while await _queries_logged(core) < 6:  # noqa: ASYNC110 (polling the database)
                    await anyio.sleep(0.05)
            group.cancel_scope.cancel()
        assert await _queries_logged(core) == 7  # the last one written when the task stopped
        async with core.database.read() as conn:
            reads = (
                await conn.execute(sa.select(memory_table.c.access_count).where(memory_table.c.id == memory))
            ).scalar_one()
        assert reads == 7


async def test_a_failed_query_log_write_keeps_its_rows_for_the_next(
    core: MemoryCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await core.store("default", draft("the printer is on floor 3"))
    await core.query("default", "where is the printer")
    log = core._log
    database = core.database
    original = database.write

    def unavailable() -> object:
        raise Unavailable("the memory database is busy; try again in a moment")

    monkeypatch.setattr(database, "write", unavailable)
    with pytest.raises(Unavailable):
        await log.flush(force=True)
    assert log.pending  # kept
    monkeypatch.setattr(database, "write", original)
    await log.flush(force=True)
    assert await _queries_logged(core) == 1 and not log.pending


async def test_snapshots_are_written_by_the_background_task_not_by_a_caller(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(snapshot_every_changes=3)
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        written: list[str] = []  # the task that wrote each snapshot
        original = core._index.snapshot

        async def snapshot() -> object:
            path = await original()
            written.append(anyio.get_current_task().name)
            return path

        monkeypatch.setattr(core._index, "snapshot", snapshot)
        async with anyio.create_task_group() as group:
            group.start_soon(core.run_background)
            await anyio.lowlevel.checkpoint()  # the background task starts first
            await core.store_many("default", [draft(f"fact number {i}") for i in range(5)])
            await core.query("default", "fact number 2")
            with anyio.fail_after(5):
                while not written:  # noqa: ASYNC110 (a short poll, bounded by fail_after)
                    await anyio.sleep(0.05)
            group.cancel_scope.cancel()
        assert written and all("run_background" in name for name in written), written
        assert not core._index.snapshot_due()


async def _queries_logged(core: MemoryCore) -> int:
    async with core.database.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(query_log_table))).scalar_one())
