"""The database handle: engine set-up (SQLite WAL, busy timeout; PostgreSQL), and serialised writes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import anyio
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ._sqlite_driver import SqliteDriver, choose, engine_arguments
from ._sqlite_reads import SqliteReads
from .errors import ConfigurationError, Unavailable

logger = logging.getLogger(__name__)

# PostgreSQL hands out sequence numbers at insert time but makes them visible at commit, so two
# concurrent writers could commit seq 11 before seq 10 and a reader would skip 10 for good. Holding
# this advisory lock for the length of every writing transaction makes commit order = seq order.
_PG_WRITE_LOCK_KEY = 0x7EA3_10AE

_MMAP_BYTES = 1 << 30  # the first GiB of a SQLite file is read through a memory map


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db_time(value: datetime | None) -> datetime | None:
    """Any datetime as aware UTC (what the tables take). Naive input is taken to be UTC already."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def from_db_time(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def revoke_row(
    conn: AsyncConnection, table: sa.Table, columns: Sequence[sa.ColumnElement[Any]], row: RowMapping
) -> RowMapping:
    """Stamp `revoked_at` on `row` of `table` unless it is already revoked (revoking twice is harmless),
    and read the row back with `columns`. API keys and webhooks share it."""
    if row["revoked_at"] is None:
        await conn.execute(
            sa.update(table).where(table.c.id == row["id"]).values(revoked_at=to_db_time(utcnow()))
        )
    return (await conn.execute(sa.select(*columns).where(table.c.id == row["id"]))).mappings().one()


class Database:
    """One engine per process. `read()` for queries; `write()` for transactions that must not interleave."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 15_000) -> None:
        self.url = url
        try:
            sa_url = sa.make_url(url)
        except Exception as exc:
            raise ConfigurationError(f"TEAMLORE_DATABASE_URL is not a valid database URL: {exc}") from exc
        self.dialect = sa_url.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigurationError(
                f"unsupported database {self.dialect!r}: use SQLite (default) or PostgreSQL (postgresql+asyncpg://…)"
            )
        kwargs: dict[str, Any] = {}
        # Which SQLite library runs the engine (None on PostgreSQL); see memory_core/_sqlite_driver.py.
        self.sqlite_driver: SqliteDriver | None = None
        # A query's reads in one worker-thread call (memory_core/_sqlite_reads.py); a file database only.
        self.sqlite_reads: SqliteReads | None = None
        if self.dialect == "sqlite":
            self.sqlite_driver = choose()
            database = sa_url.database or ""
            if database and database != ":memory:" and not database.startswith("file:"):
                self.sqlite_reads = SqliteReads(
                    self.sqlite_driver.module,
                    database,
                    busy_timeout_ms=busy_timeout_ms,
                    mmap_bytes=_MMAP_BYTES,
                )
            kwargs.update(engine_arguments(self.sqlite_driver, sa_url, busy_timeout_ms / 1000))
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self._write_lock = anyio.Lock()
        if self.dialect == "sqlite":
            self._configure_sqlite(busy_timeout_ms)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def fts_secure_delete(self) -> bool:
        """True when the SQLite in use removes a deleted row's FTS postings in place (no 'optimize')."""
        return self.sqlite_driver is not None and self.sqlite_driver.fts_secure_delete

    def _configure_sqlite(self, busy_timeout_ms: int) -> None:
        sync_engine = self.engine.sync_engine

        @event.listens_for(sync_engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take over transaction control from the driver so writers can BEGIN IMMEDIATE: a deferred
            # transaction that later wants to write can deadlock against another process's writer.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Deleted memories are overwritten on disk, not just unlinked.
            cursor.execute("PRAGMA secure_delete=ON")
            # Reads through a memory map instead of a read() per page: a query looks up a few hundred
            # scattered rows (its candidates), which halves at 100k memories. Pages are the OS's file
            # cache, shared by every connection and process, not memory of ours.
            cursor.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
            cursor.close()

        @event.listens_for(sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            if conn.get_execution_options().get("teamlore_write"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.engine.connect() as conn, conn.begin():
                yield conn
        except OperationalError as exc:
            _raise_unavailable_if_transient(exc)
            raise

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that holds the process's write lock and the database's write lock."""
        async with self._write_lock:
            try:
                async with self.engine.connect() as conn:
                    conn = await conn.execution_options(teamlore_write=True)
                    async with conn.begin():
                        if self.dialect == "postgresql":
                            await conn.execute(
                                sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_WRITE_LOCK_KEY}
                            )
                        yield conn
            except OperationalError as exc:
                _raise_unavailable_if_transient(exc)
                raise

    async def dispose(self) -> None:
        if self.sqlite_reads is not None:
            self.sqlite_reads.close()
        await self.engine.dispose()


def _raise_unavailable_if_transient(exc: DBAPIError) -> None:
    message = str(exc.orig) if exc.orig is not None else str(exc)
    if any(word in message for word in ("locked", "busy", "could not connect", "connection")):
        logger.warning("database unavailable: %s", message)
        raise Unavailable("the memory database is busy; try again in a moment") from exc
