"""The scheduler's own tables (lease, alert state, delivery log) beside the core's, over a sync engine.

APScheduler 3's SQLAlchemyJobStore needs a synchronous SQLAlchemy engine, so the scheduler opens one
of its own on the core's database (`sync_database_url` turns the async URL into its sync twin) and
shares it with the job store. The scheduler's own reads and writes run in worker threads; the job
store's few small queries run on the event loop, as APScheduler 3 does them.

The tables are created here, with their own metadata: the core's schema knows nothing of them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from memory_core import ConfigurationError

__all__ = [
    "DELIVERY_KEEP",
    "JOBS_TABLE",
    "SchedulerStore",
    "delivery_table",
    "lease_table",
    "state_table",
    "sync_database_url",
]

logger = logging.getLogger(__name__)

JOBS_TABLE = "scheduler_job"
"""APScheduler's job table (its SQLAlchemyJobStore creates it)."""

DELIVERY_KEEP = timedelta(days=30)
"""Delivery-log rows older than this are pruned when new ones are written."""

_BUSY_TIMEOUT_SECONDS = 15.0

metadata = sa.MetaData()

lease_table = sa.Table(
    "scheduler_lease",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

state_table = sa.Table(
    "scheduler_state",
    metadata,
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

delivery_table = sa.Table(
    "scheduler_delivery",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("tenant", sa.String(64), nullable=True),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("notifier", sa.String(32), nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("status", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
)

_T = TypeVar("_T")


def sync_database_url(async_url: str) -> str:
    """The synchronous SQLAlchemy URL of the core's async one (same database, sync driver).

    sqlite+aiosqlite:///x -> sqlite:///x; postgresql+asyncpg://... -> postgresql+psycopg://... (psycopg 3,
    which also needs `ssl=` spelled `sslmode=`).

    Raises:
        ConfigurationError: an in-memory SQLite database (other processes could not share it) or a
            database the scheduler does not support.
    """
    try:
        url = sa.make_url(async_url)
    except Exception as exc:
        raise ConfigurationError(f"TEAMLORE_DATABASE_URL is not a valid database URL: {exc}") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database in (None, "", ":memory:") or (url.database or "").startswith("file::memory:"):
            raise ConfigurationError("the scheduler needs a database file, not an in-memory SQLite database")
        return url.set(drivername="sqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        query = dict(url.query)
        if "ssl" in query and "sslmode" not in query:
            query["sslmode"] = query.pop("ssl")
        return url.set(drivername="postgresql+psycopg", query=query).render_as_string(hide_password=False)
    raise ConfigurationError(f"the scheduler supports SQLite and PostgreSQL, not {backend!r}")


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; everything written here is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("the scheduler's clock must be timezone-aware")
    return value.astimezone(UTC)


class SchedulerStore:
    """One sync engine on the core's database: the scheduler's tables, and APScheduler's job store engine."""

    def __init__(self, sync_url: str) -> None:
        self.url = sync_url
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        self.is_sqlite = sync_url.startswith("sqlite")
        if self.is_sqlite:
            # Connections move between the event loop (job store) and worker threads (our tables).
            kwargs = {"connect_args": {"timeout": _BUSY_TIMEOUT_SECONDS, "check_same_thread": False}}
        try:
            self.engine = sa.create_engine(sync_url, **kwargs)
        except ImportError as exc:
            raise ConfigurationError(
                f"the scheduler needs a synchronous database driver for {sync_url.split(':')[0]}: {exc} "
                "(for PostgreSQL: pip install 'psycopg[binary]')"
            ) from exc
        if self.is_sqlite:
            self._configure_sqlite()

    @classmethod
    def for_async_url(cls, async_url: str) -> SchedulerStore:
        return cls(sync_database_url(async_url))

    def _configure_sqlite(self) -> None:
        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Own the transactions so writers can BEGIN IMMEDIATE (as the core does): a deferred
            # transaction that reads and then writes can fail at once against another writer.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_SECONDS * 1000)}")
            cursor.close()

        @event.listens_for(self.engine, "begin")
        def _on_begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get("scheduler_write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    # --- plumbing ----------------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            conn = conn.execution_options(scheduler_write=True)
            with conn.begin():
                yield conn

    async def _run(self, func: Callable[[], _T]) -> _T:
        return await anyio.to_thread.run_sync(func)

    async def create(self, *extra: sa.Table) -> None:
        """Create the scheduler's tables (and `extra` ones, e.g. APScheduler's) if they are missing."""

        def create() -> None:
            for table in (*metadata.sorted_tables, *extra):
                try:
                    table.create(self.engine, checkfirst=True)
                except sa.exc.DatabaseError:
                    # Another process created it between the check and the CREATE: check again.
                    if not sa.inspect(self.engine).has_table(table.name):
                        raise

        await self._run(create)

    async def dispose(self) -> None:
        await self._run(self.engine.dispose)

    # --- lease -------------------------------------------------------------------------------------------

    def _acquire(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        now = _utc(now)
        c = lease_table.c
        try:
            with self._write() as conn:
                taken = conn.execute(
                    sa.update(lease_table)
                    .where(c.name == name, sa.or_(c.holder == holder, c.expires_at <= now))
                    .values(
                        holder=holder,
                        expires_at=now + ttl,
                        acquired_at=sa.case((c.holder == holder, c.acquired_at), else_=now),
                    )
                )
                if taken.rowcount == 1:
                    return True
                exists = conn.execute(sa.select(c.holder).where(c.name == name)).first()
                if exists is not None:
                    return False
                conn.execute(
                    sa.insert(lease_table).values(
                        name=name, holder=holder, acquired_at=now, expires_at=now + ttl
                    )
                )
                return True
        except IntegrityError:
            return False  # another process inserted the row first

    async def acquire_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the lease `name` for `holder` until now + ttl, unless someone else holds it."""
        return await self._run(lambda: self._acquire(name, holder, now, ttl))

    async def release_lease(self, name: str, holder: str) -> None:
        def release() -> None:
            with self._write() as conn:
                conn.execute(
                    sa.delete(lease_table).where(lease_table.c.name == name, lease_table.c.holder == holder)
                )

        await self._run(release)

    async def lease_holder(self, name: str, now: datetime) -> str | None:
        """Who holds the lease right now (None: nobody, or it expired)."""

        def read() -> str | None:
            c = lease_table.c
            with self.engine.connect() as conn:
                row = conn.execute(sa.select(c.holder, c.expires_at).where(c.name == name)).first()
            if row is None:
                return None
            expires = _aware(row.expires_at)
            assert expires is not None
            return str(row.holder) if expires > _utc(now) else None

        return await self._run(read)

    # --- state (JSON per tenant and key) -----------------------------------------------------------------

    async def get_state(self, tenant: str, key: str) -> dict[str, Any] | None:
        def read() -> dict[str, Any] | None:
            c = state_table.c
            with self.engine.connect() as conn:
                value = conn.execute(sa.select(c.value).where(c.tenant == tenant, c.key == key)).scalar()
            if value is None:
                return None
            try:
                loaded = json.loads(value)
            except ValueError:
                logger.warning("scheduler state %s/%s is not JSON; starting afresh", tenant, key)
                return None
            return loaded if isinstance(loaded, dict) else None

        return await self._run(read)

    async def put_state(self, tenant: str, key: str, value: dict[str, Any], now: datetime) -> None:
        text = json.dumps(value, sort_keys=True, default=str)

        def write() -> None:
            c = state_table.c
            with self._write() as conn:
                conn.execute(sa.delete(state_table).where(c.tenant == tenant, c.key == key))
                conn.execute(
                    sa.insert(state_table).values(tenant=tenant, key=key, value=text, updated_at=_utc(now))
                )

        try:
            await self._run(write)
        except IntegrityError:  # a concurrent writer (e.g. `teamlore alerts run`) won; write once more
            await self._run(write)

    # --- delivery log ------------------------------------------------------------------------------------

    async def record_deliveries(self, rows: Sequence[dict[str, Any]], now: datetime) -> None:
        """Append delivery outcomes and prune those older than DELIVERY_KEEP."""
        if not rows:
            return
        at = _utc(now)

        def write() -> None:
            with self._write() as conn:
                conn.execute(sa.insert(delivery_table), [{**row, "at": at} for row in rows])
                conn.execute(sa.delete(delivery_table).where(delivery_table.c.at < at - DELIVERY_KEEP))

        await self._run(write)

    async def deliveries(self, *, limit: int = 50) -> list[dict[str, Any]]:
        """The newest delivery-log rows first."""

        def read() -> list[dict[str, Any]]:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(delivery_table).order_by(delivery_table.c.id.desc()).limit(limit)
                ).mappings()
                return [{**dict(r), "at": _aware(r["at"])} for r in rows]

        return await self._run(read)
