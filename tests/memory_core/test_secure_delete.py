"""Cheap deletes on SQLite: FTS5 secure-delete with pysqlite3, the 'optimize' fallback without it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import event

import memory_core._sqlite_driver as driver_module
from memory_core import Actor, ConfigurationError, MemoryCore
from memory_core.testing import HashingEmbedder, draft
from tests.conftest import SettingsFactory

pytestmark = pytest.mark.anyio

ADMIN = Actor(id="cli:root", name="root", is_admin=True)
FILLER = [draft(f"note {i}: the deploy of service {i % 17} went fine on host {i % 5}") for i in range(300)]
SECRET = "zanzibar protocol quetzalcoatl handshake"


@pytest.fixture(autouse=True)
def _sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite only: PostgreSQL has no FTS segments to merge")


@pytest.fixture
def without_pysqlite3(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if pysqlite3-binary were not installed: the stdlib sqlite3 (3.40 here) runs the engine."""
    monkeypatch.setattr(driver_module, "load_pysqlite3", lambda: None)


def _file_bytes(data_dir: Path) -> bytes:
    db_file = data_dir / "teamlore.db"
    wal = db_file.with_name("teamlore.db-wal")
    return db_file.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


class _Statements:
    """Every SQL statement the engine sends while it is attached."""

    def __init__(self, core: MemoryCore) -> None:
        self.sql: list[str] = []
        self._engine = core.database.engine.sync_engine

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.sql.append(statement)

    def __enter__(self) -> _Statements:
        event.listen(self._engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._record)


async def _fts_config(core: MemoryCore) -> dict[str, int]:
    async with core.database.read() as conn:
        rows = (await conn.exec_driver_sql("SELECT k, v FROM memory_fts_config")).all()
    return {str(k): int(v) for k, v in rows}


async def _store_and_delete(core: MemoryCore) -> Iterator[str]:
    await core.store_many("default", FILLER)
    doomed = await core.store("default", draft(SECRET))
    with _Statements(core) as seen:
        await core.delete("default", doomed.id, actor=ADMIN)
    return iter(seen.sql)


async def test_with_pysqlite3_a_delete_is_secure_in_place_without_optimize(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        driver = core.database.sqlite_driver
        assert driver is not None and driver.name == "pysqlite3" and driver.fts_secure_delete
        async with core.database.read() as conn:
            version = (await conn.exec_driver_sql("SELECT sqlite_version()")).scalar_one()
        assert tuple(int(p) for p in version.split(".")) >= (3, 42)
        assert (await _fts_config(core))["secure-delete"] == 1
        statements = list(await _store_and_delete(core))
        assert any("DELETE FROM memory_fts" in s for s in statements)
        assert not any("optimize" in s for s in statements)
        async with core.database.read() as conn:
            match = "SELECT count(*) FROM memory_fts WHERE memory_fts MATCH 'zanzibar'"
            assert (await conn.exec_driver_sql(match)).scalar_one() == 0
        assert await core.query("default", "deploy of service 3", mode="keyword", record=False)
    # Right after the delete returned (and the engine closed), no word of the text is in the file.
    blob = _file_bytes(settings.data_dir)
    assert not any(word.encode() in blob for word in SECRET.split())
    assert b"deploy" in blob


async def test_pysqlite3_errors_are_recognised_as_database_errors(make_settings: SettingsFactory) -> None:
    # SQLAlchemy must wrap pysqlite3's exceptions (not stdlib sqlite3's), or "database is locked" and
    # constraint errors would escape as raw driver errors.
    import sqlalchemy as sa

    async with await MemoryCore.open(make_settings(), embedder=HashingEmbedder()) as core:
        with pytest.raises(sa.exc.OperationalError):
            async with core.database.read() as conn:
                await conn.exec_driver_sql("SELECT * FROM no_such_table")


async def test_without_pysqlite3_a_delete_falls_back_to_optimize(
    make_settings: SettingsFactory, without_pysqlite3: None
) -> None:
    settings = make_settings()
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        driver = core.database.sqlite_driver
        assert driver is not None and driver.module is sqlite3 and driver.name == "sqlite3"
        assert driver.fts_secure_delete is (sqlite3.sqlite_version_info >= (3, 42))
        if driver.fts_secure_delete:
            pytest.skip("this Python's own sqlite3 already has FTS5 secure-delete")
        assert "optimize" in driver.describe() and "slow" in driver.describe()
        assert "secure-delete" not in await _fts_config(core)
        statements = list(await _store_and_delete(core))
        assert any("'optimize'" in s for s in statements)
    blob = _file_bytes(settings.data_dir)
    assert not any(word.encode() in blob for word in SECRET.split())


async def test_an_existing_database_gets_secure_delete_when_opened_with_pysqlite3(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings()
    real = driver_module.load_pysqlite3
    monkeypatch.setattr(driver_module, "load_pysqlite3", lambda: None)
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        await core.store_many("default", FILLER)
        if core.database.fts_secure_delete:
            pytest.skip("this Python's own sqlite3 already has FTS5 secure-delete")
        assert "secure-delete" not in await _fts_config(core)
    monkeypatch.setattr(driver_module, "load_pysqlite3", real)
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        assert (await _fts_config(core))["secure-delete"] == 1
        statements = list(await _store_and_delete(core))
        assert not any("optimize" in s for s in statements)
    blob = _file_bytes(settings.data_dir)
    assert not any(word.encode() in blob for word in SECRET.split())


async def test_a_securely_deleted_index_on_an_old_sqlite_is_a_clear_error(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings()
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        await _store_and_delete(core)  # the first secure delete raises the FTS5 format to version 5
    old: ModuleType = sqlite3
    if old.sqlite_version_info >= (3, 42):
        pytest.skip("this Python's own sqlite3 reads the newer FTS5 format")
    monkeypatch.setattr(driver_module, "load_pysqlite3", lambda: None)
    with pytest.raises(ConfigurationError, match="pysqlite3-binary"):
        await MemoryCore.open(settings, embedder=HashingEmbedder())
    # Nothing was lost: with pysqlite3 back, the memories are all there.
    monkeypatch.undo()
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        assert (await core.stats("default")).memories == len(FILLER)


async def test_a_delete_finds_the_links_to_clear_through_an_index_in_old_databases_too(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        async with core.database.write() as conn:  # as a database made before the indexes existed
            await conn.exec_driver_sql("DROP INDEX ix_memory_supersedes")
            await conn.exec_driver_sql("DROP INDEX ix_memory_superseded_by")
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        async with core.database.read() as conn:
            for column in ("supersedes", "superseded_by"):
                plan = await conn.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN UPDATE memory SET {column} = NULL WHERE {column} = 7"
                )
                assert f"USING INDEX ix_memory_{column}" in " ".join(str(row[-1]) for row in plan)
