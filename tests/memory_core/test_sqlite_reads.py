"""Quick SQLite reads run on the event loop's thread (no worker thread per connection); others keep theirs.

With either SQLite library (pysqlite3, or the stdlib fallback), a quick read neither starts a thread nor
waits for another process's open write transaction (WAL), and its errors are SQLAlchemy's usual ones.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from memory_core import CoreSettings, MemoryCore
from memory_core._db import Database
from memory_core._schema import memory_table
from memory_core.testing import HashingEmbedder, draft

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["pysqlite3", "sqlite3"])
def driver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "sqlite3":
        monkeypatch.setattr("memory_core._sqlite_driver.load_pysqlite3", lambda: None)
    return str(request.param)


async def _thread_of_statement(conn: AsyncConnection) -> int:
    """The thread SQLite runs a statement of `conn` on (through a function the statement calls)."""
    raw = await conn.get_raw_connection()
    await raw.driver_connection.create_function("thread_id", 0, threading.get_ident)  # type: ignore[union-attr]
    return int((await conn.execute(sa.text("SELECT thread_id()"))).scalar_one())


def _sqlite_threads() -> int:
    return sum(1 for t in threading.enumerate() if "_connection_worker_thread" in t.name)


async def test_quick_reads_start_no_thread_and_others_do(tmp_path: Path, driver: str) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert db.sqlite_driver is not None and db.sqlite_driver.name == driver
    try:
        before = _sqlite_threads()
        for _ in range(10):
            async with db.read(quick=True) as conn:
                assert (await conn.execute(sa.text("SELECT 1"))).scalar_one() == 1
        assert _sqlite_threads() == before
        async with db.write() as conn:
            await conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        assert _sqlite_threads() > before
        here = threading.get_ident()
        async with db.read(quick=True) as conn:
            assert await _thread_of_statement(conn) == here
        async with db.read() as conn:  # a long read (scan, export) keeps the loop free: a thread
            assert await _thread_of_statement(conn) != here
        with pytest.raises(sa.exc.OperationalError, match="no such table"):
            async with db.read(quick=True) as conn:
                await conn.execute(sa.text("SELECT * FROM no_such_table"))
        async with db.read(quick=True) as conn:  # the pool's connection is still good after the error
            assert (await conn.execute(sa.text("SELECT count(*) FROM t"))).scalar_one() == 0
    finally:
        await db.dispose()


async def test_a_read_does_not_wait_for_another_process_writing(tmp_path: Path, driver: str) -> None:
    async with await MemoryCore.open(CoreSettings(data_dir=tmp_path), embedder=HashingEmbedder()) as core:
        stored = (await core.store("default", draft("the on-call phone is in the drawer"))).id
        other = sqlite3.connect(tmp_path / "teamlore.db", isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock, uncommitted
            other.execute("UPDATE memory SET text = 'changed' WHERE id = ?", (stored,))
            started = time.perf_counter()
            hits = await core.query("default", "where is the on-call phone", record=False)
            assert time.perf_counter() - started < 5  # no busy wait (the timeout is 15 s)
            assert [h.memory.text for h in hits] == ["the on-call phone is in the drawer"]
            async with core.database.read(quick=True) as conn:
                text = (
                    await conn.execute(sa.select(memory_table.c.text).where(memory_table.c.id == stored))
                ).scalar_one()
            assert text == "the on-call phone is in the drawer"
        finally:
            other.execute("ROLLBACK")
            other.close()
