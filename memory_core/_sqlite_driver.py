"""Which SQLite library the engine runs on: pysqlite3 (SQLite ≥ 3.42, cheap secure deletes) or stdlib sqlite3.

Deleting a memory must leave no trace of its text in the database file. Row pages are overwritten by
`PRAGMA secure_delete`; the FTS5 keyword index is the hard part. With SQLite ≥ 3.42 the index's
`secure-delete` option removes a deleted row's postings in place (a few milliseconds). Older SQLite
(Debian 12's system library is 3.40) only leaves "delete markers" behind, so each delete has to merge the
whole index (`optimize`, ~300 ms at 100k memories) to get rid of the words.

So when `pysqlite3` (the `pysqlite3-binary` wheel, which bundles a current SQLite) imports and is new
enough, the engine uses it as the DB-API module under SQLAlchemy's aiosqlite dialect; otherwise it uses
the stdlib `sqlite3` and deletes keep running `optimize`. `teamlore check` says which one is in use.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import aiosqlite
import sqlalchemy as sa
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

# FTS5's 'secure-delete' option appeared in SQLite 3.42.0.
SECURE_DELETE_VERSION = (3, 42, 0)


@dataclass(frozen=True)
class SqliteDriver:
    """The DB-API module the engine uses and whether its FTS5 can delete securely in place."""

    module: ModuleType
    name: str  # "pysqlite3" or "sqlite3"

    @property
    def version(self) -> str:
        return str(self.module.sqlite_version)

    @property
    def fts_secure_delete(self) -> bool:
        return tuple(self.module.sqlite_version_info) >= SECURE_DELETE_VERSION

    def describe(self) -> str:
        how = "FTS5 secure-delete" if self.fts_secure_delete else "FTS 'optimize' on every delete (slow)"
        return f"{self.name} (SQLite {self.version}): {how}"


def load_pysqlite3() -> ModuleType | None:
    """`pysqlite3.dbapi2` if it is installed (tests replace this to exercise the fallback)."""
    try:
        import pysqlite3.dbapi2 as dbapi2  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    module: ModuleType = dbapi2
    return module


def choose() -> SqliteDriver:
    """pysqlite3 when it is there and new enough for FTS5 secure-delete, else the stdlib sqlite3."""
    module = load_pysqlite3()
    if module is not None and tuple(module.sqlite_version_info) >= SECURE_DELETE_VERSION:
        return SqliteDriver(module, "pysqlite3")
    return SqliteDriver(sqlite3, "sqlite3")


class _Dbapi(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite adapter, with the exception classes of the module actually in use.

    The stock adapter takes them from `aiosqlite` (= stdlib sqlite3), so pysqlite3's errors would not be
    recognised and wrapped (no OperationalError for "database is locked", no IntegrityError)."""

    def _init_dbapi_attributes(self) -> None:
        super()._init_dbapi_attributes()
        for name in (
            "DatabaseError",
            "Error",
            "IntegrityError",
            "NotSupportedError",
            "OperationalError",
            "ProgrammingError",
            "sqlite_version",
            "sqlite_version_info",
        ):
            setattr(self, name, getattr(self.sqlite, name))


def engine_arguments(driver: SqliteDriver, url: sa.URL, timeout_s: float) -> dict[str, Any]:
    """Keyword arguments for `create_async_engine` that make it use `driver`."""
    if driver.module is sqlite3:
        return {"connect_args": {"timeout": timeout_s}}
    module = driver.module
    database = url.database or ":memory:"
    uri = database.startswith("file:")

    async def connect() -> aiosqlite.Connection:
        connection = aiosqlite.Connection(
            lambda: module.connect(database, timeout=timeout_s, uri=uri), iter_chunk_size=64
        )
        connection._thread.daemon = True  # as SQLAlchemy does: a forgotten connection must not block exit
        return await connection

    return {"module": _Dbapi(aiosqlite, module), "async_creator": connect}
