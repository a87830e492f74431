"""The vector index kept in step with SQL: load (snapshot or rebuild), replay the change log, snapshot."""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import numpy as np
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from . import files
from ._changes import ChangeWatcher
from ._db import Database, to_db_time, utcnow
from ._index import IndexSet, TenantIndex, Vectors
from ._rows import chunks
from ._schema import change_table, memory_table, meta_table
from ._sqlite_reads import SqliteReads, placeholders
from .config import CoreSettings

__all__ = ["IndexSync"]

logger = logging.getLogger(__name__)

_PRUNED_THROUGH = "change_log_pruned_through"  # meta key: the highest change-log seq deleted
_FILL_ROWS = 50_000  # rows per partition when an index is filled from SQL


class IndexSync:
    """This process's FAISS indexes (one per tenant) and the change-log position they are in step with.

    Only `sync` (and the rebuilds) change the indexes; they run under one lock, and FAISS work goes to
    worker threads behind a small capacity limiter.
    """

    def __init__(
        self, settings: CoreSettings, db: Database, dim: int, model_id: str, database_id: str
    ) -> None:
        self.settings = settings
        self._db = db
        self._dim = dim
        self._model_id = model_id
        self._database_id = database_id
        self.indexes = self._empty()
        self._lock = anyio.Lock()
        # Catch-up rounds, numbered as they start under the lock, and the last one that finished; the
        # SQLite data version seen when the last finished round started (None: unknown, read the log).
        self._rounds_started = 0
        self._round_finished = 0
        self._watcher = ChangeWatcher(db.url, db.sqlite_driver.module if db.sqlite_driver else None)
        self._seen_version: int | None = None
        self._limiter = anyio.CapacityLimiter(2)
        # Loaded by `load` at open, or (a lazy core) by the first call that needs the index.
        self._ready = anyio.Event()
        self._loading = False
        self._clean: IndexSet | None = None  # the snapshot loaded or last written, while unchanged

    def _empty(self) -> IndexSet:
        return IndexSet(self._dim, self._model_id, approximate_above=self.settings.search.approximate_above)

    # --- searching --------------------------------------------------------------------------------------

    async def search(
        self, tenant: str, vector: Vectors, k: int, allowed: set[int] | None = None
    ) -> list[tuple[int, float]]:
        """The `k` nearest memories of the tenant as `(id, cosine)`, best first (none without an index)."""
        index = self.indexes.tenants.get(tenant)
        if index is None:
            return []
        return await anyio.to_thread.run_sync(lambda: index.search(vector, k, allowed), limiter=self._limiter)

    def size(self, tenant: str) -> int:
        index = self.indexes.tenants.get(tenant)
        return len(index) if index is not None else 0

    # --- load and snapshot ------------------------------------------------------------------------------

    async def load(self) -> None:
        """Start from the newest snapshot when it fits this database, else from SQL; then catch up.

        Runs once: later calls (and `sync` before it ran) wait for the first."""
        if self._ready.is_set():
            return
        if self._loading:
            await self._ready.wait()
            return
        self._loading = True
        try:
            await self._load()
            self._ready.set()
        finally:
            self._loading = False

    def close_watcher(self) -> None:
        """Let go of the change watcher's connection (the core is closing)."""
        self._watcher.close()

    @property
    def loaded(self) -> bool:
        return self._ready.is_set()

    def needs_snapshot(self) -> bool:
        """False when the index never loaded, or is still the snapshot it was read from or last wrote."""
        return self.loaded and not (self.indexes is self._clean and self.indexes.changes_since_snapshot == 0)

    async def _load(self) -> None:
        snapshot = await anyio.to_thread.run_sync(self._read_snapshot)
        if snapshot is not None:
            async with self._db.read() as conn:
                max_seq = (await conn.execute(sa.select(sa.func.max(change_table.c.seq)))).scalar_one() or 0
            if snapshot.seq <= max_seq:
                self.indexes = self._clean = snapshot
            else:
                logger.warning(
                    "index snapshot is ahead of the database (seq %d > %d); rebuilding", snapshot.seq, max_seq
                )
        if self.indexes is not snapshot:
            await self._rebuild_all()
        await self._catch_up()
        drifted = await self.drifted_tenants()
        for tenant in drifted:
            logger.warning("index of tenant %s disagrees with the database; rebuilding it", tenant)
            await self._rebuild_tenant(tenant)
        for tenant in list(self.indexes.tenants):  # e.g. a flat snapshot written while HNSW was building
            self.indexes.maybe_grow(tenant)

    def _read_snapshot(self) -> IndexSet | None:
        current = self.settings.index_dir / "CURRENT"
        if not current.is_file():
            return None
        try:
            name = current.read_text().strip()
        except OSError:
            return None
        loaded = IndexSet.load(
            self.settings.index_dir / name,
            self._dim,
            self._model_id,
            approximate_above=self.settings.search.approximate_above,
        )
        if loaded is not None and loaded.database_id != self._database_id:
            logger.info("index snapshot belongs to another database; rebuilding")
            return None
        return loaded

    async def snapshot(self) -> Path | None:
        """See `MemoryCore.snapshot`."""
        if self._db.is_sqlite is False and not self.settings.data_dir:
            return None
        await self.sync()
        await self.prune_changes()
        indexes = self.indexes
        indexes.database_id = self._database_id
        name = f"snap-{indexes.seq:012d}-{uuid.uuid4().hex[:8]}"
        directory = self.settings.index_dir

        def write() -> Path:
            target = directory / name
            files.make_private_dir(directory)
            indexes.save(target)
            files.make_private_tree(target)  # 0700/0600 like the database: it holds every vector
            tmp = directory / f"CURRENT.{name}.tmp"
            tmp.write_text(name)
            files.make_private_tree(tmp)
            tmp.replace(directory / "CURRENT")
            # Older snapshots go, but leave any that another process may be reading right now.
            cutoff = time.time() - 60
            for old in directory.glob("snap-*"):
                if old.name != name and old.stat().st_mtime < cutoff:
                    shutil.rmtree(old, ignore_errors=True)
            return target

        try:
            written = await anyio.to_thread.run_sync(write)
        except OSError as exc:
            logger.warning("could not write the index snapshot: %s", exc)
            return None
        self._clean = indexes
        return written

    async def prune_changes(self, older_than: timedelta | None = None) -> int:
        """See `MemoryCore.prune_changes`."""
        age = older_than if older_than is not None else timedelta(days=self.settings.change_log_days)
        cutoff = to_db_time(utcnow() - age)
        async with self._db.write() as conn:
            newest = (await conn.execute(sa.select(sa.func.max(change_table.c.seq)))).scalar_one()
            if newest is None:
                return 0
            through = (
                await conn.execute(
                    sa.select(sa.func.max(change_table.c.seq)).where(
                        change_table.c.at < cutoff, change_table.c.seq < newest
                    )
                )
            ).scalar_one()
            if through is None:
                return 0
            deleted = await conn.execute(sa.delete(change_table).where(change_table.c.seq <= through))
            pruned = deleted.rowcount
            if through > await self._pruned_through(conn):
                await conn.execute(sa.delete(meta_table).where(meta_table.c.key == _PRUNED_THROUGH))
                await conn.execute(sa.insert(meta_table).values(key=_PRUNED_THROUGH, value=str(through)))
        if pruned:
            logger.info("pruned %d change-log entries (through seq %d)", pruned, through)
        return int(pruned)

    @staticmethod
    async def _pruned_through(conn: AsyncConnection) -> int:
        value = (
            await conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == _PRUNED_THROUGH))
        ).scalar_one_or_none()
        return int(value) if value else 0

    # --- catching up ------------------------------------------------------------------------------------

    async def sync(self) -> int:
        """See `MemoryCore.sync`."""
        await self.load()
        return await self._catch_up()

    async def _catch_up(self) -> int:
        """Apply what was committed before this call; return how many change-log entries were applied.

        Callers share the work: on SQLite, when no connection anywhere committed since the last round
        started (`PRAGMA data_version`, microseconds, no query), there is nothing to read; otherwise a
        caller waits for the lock and skips the read when a round that started after it arrived has
        finished meanwhile (it saw every commit this caller could have seen). So 50 concurrent queries
        read the change log about once, not 50 times in a row. Snapshots are not written here: see
        `snapshot_due` (the core's background task writes them).
        """
        version = self._watcher.version()
        if version is not None and version == self._seen_version:
            return 0
        arrived = self._rounds_started
        async with self._lock:
            if self._round_finished > arrived:
                return 0
            version = self._watcher.version()  # taken before the round reads: a later commit changes it
            if version is not None and version == self._seen_version:
                return 0
            self._rounds_started += 1
            started = self._rounds_started
            applied = await self._catch_up_round()
            self._round_finished = started
            self._seen_version = version
        return applied

    def snapshot_due(self) -> bool:
        """True when enough changes piled up since the last snapshot that the next start should not
        replay them (`snapshot_every_changes`)."""
        every = self.settings.snapshot_every_changes
        return bool(every) and self.loaded and self.indexes.changes_since_snapshot >= every

    async def _catch_up_round(self) -> int:
        """Read the change log past our position and apply it (the caller holds the lock)."""
        reads = self._db.sqlite_reads
        if reads is not None:
            # SQLite: reads and FAISS work in one worker-thread call on a plain read connection (after
            # every store and delete: two async-engine statements and a hop cost ~1 ms more).
            applied = await anyio.to_thread.run_sync(self._round_on_sqlite, reads, limiter=self._limiter)
            if applied is not None:
                return applied
        async with self._db.read() as conn:
            changes = (
                await conn.execute(
                    sa.select(
                        change_table.c.seq,
                        change_table.c.tenant,
                        change_table.c.memory_id,
                        change_table.c.op,
                    )
                    .where(change_table.c.seq > self.indexes.seq)
                    .order_by(change_table.c.seq)
                )
            ).all()
            if not changes:
                return 0
            # A gap after our position is usually a rolled-back sequence value (PostgreSQL); it
            # means lost changes only if the log was pruned past us.
            behind = self.indexes.seq
            if changes[0][0] > behind + 1 and await self._pruned_through(conn) > behind:
                logger.warning("index is behind the pruned change log (seq %d); rebuilding", behind)
                await self._rebuild_from(conn)
                return 0
            latest = _latest(changes)
            vectors: dict[int, bytes] = {}
            for chunk in chunks([m for m, (_t, op) in latest.items() if op == "upsert"]):
                rows = await conn.execute(
                    sa.select(memory_table.c.id, memory_table.c.embedding).where(memory_table.c.id.in_(chunk))
                )
                vectors.update((int(memory_id), blob) for memory_id, blob in rows)
        await anyio.to_thread.run_sync(self._apply, latest, vectors, limiter=self._limiter)
        return self._advance(changes)

    def _round_on_sqlite(self, reads: SqliteReads) -> int | None:
        """`_catch_up_round` on SQLite in a worker thread; None: a gap, which the async path checks."""
        with reads.transaction() as cursor:
            changes = cursor.execute(
                "SELECT seq, tenant, memory_id, op FROM change_log WHERE seq > ? ORDER BY seq",
                (self.indexes.seq,),
            ).fetchall()
            if not changes:
                return 0
            if changes[0][0] > self.indexes.seq + 1:
                return None  # maybe a pruned log: the async path decides whether to rebuild
            latest = _latest(changes)
            vectors: dict[int, bytes] = {}
            for chunk in chunks([m for m, (_t, op) in latest.items() if op == "upsert"]):
                sql = f"SELECT id, embedding FROM memory WHERE id IN ({placeholders(len(chunk))})"
                vectors.update((int(memory_id), blob) for memory_id, blob in cursor.execute(sql, list(chunk)))
        self._apply(latest, vectors)
        return self._advance(changes)

    def _apply(self, latest: dict[int, tuple[str, str]], vectors: dict[int, bytes]) -> None:
        """Upsert the vectors read, remove the memories whose latest change has none (deleted)."""
        by_tenant: dict[str, tuple[list[int], list[bytes], list[int]]] = {}
        for memory_id, (tenant, _op) in latest.items():
            ids, blobs, gone = by_tenant.setdefault(tenant, ([], [], []))
            if memory_id in vectors:
                ids.append(memory_id)
                blobs.append(vectors[memory_id])
            else:
                gone.append(memory_id)
        for tenant, (ids, blobs, gone) in by_tenant.items():
            index = self.indexes.get(tenant)
            index.remove(gone)
            if ids:
                index.upsert(ids, _matrix(blobs))
            self.indexes.maybe_grow(tenant)

    def _advance(self, changes: Sequence[Any]) -> int:
        self.indexes.seq = int(changes[-1][0])
        self.indexes.changes_since_snapshot += len(changes)
        return len(changes)

    # --- rebuilding -------------------------------------------------------------------------------------

    async def rebuild_all(self) -> None:
        """A fresh index from SQL; an explicit rebuild also waits for the HNSW it starts."""
        await self.load()
        await self._rebuild_all()
        await self.wait_for_builds()

    async def _rebuild_all(self) -> None:
        async with self._db.read() as conn:
            await self._rebuild_from(conn)

    async def _rebuild_from(self, conn: AsyncConnection) -> None:
        """A fresh index from SQL, read in `conn`'s transaction."""
        fresh = self._empty()
        fresh.seq = (await conn.execute(sa.select(sa.func.max(change_table.c.seq)))).scalar_one() or 0
        await self._fill(conn, fresh, None)
        old, self.indexes = self.indexes, fresh
        await anyio.to_thread.run_sync(old.close)

    async def rebuild_tenant(self, tenant: str) -> None:
        await self.load()
        await self._rebuild_tenant(tenant)
        await self.wait_for_builds()

    async def _rebuild_tenant(self, tenant: str) -> None:
        async with self._lock, self._db.read() as conn:
            old = self.indexes.tenants.get(tenant)
            if old is not None:
                await anyio.to_thread.run_sync(old.cancel_build)
            self.indexes.tenants[tenant] = TenantIndex(self._dim)
            await self._fill(conn, self.indexes, tenant)

    # --- background builds ------------------------------------------------------------------------------

    async def wait_for_builds(self) -> None:
        """See `MemoryCore.wait_for_index`."""
        await self.load()
        await anyio.to_thread.run_sync(self.indexes.wait_for_builds, abandon_on_cancel=True)

    async def close(self) -> None:
        """Cancel background index builds (the index in use stays as it is) and wait for their threads."""
        await anyio.to_thread.run_sync(self.indexes.close)

    async def _fill(self, conn: AsyncConnection, indexes: IndexSet, tenant: str | None) -> None:
        """Every vector (of one tenant or all) into flat indexes; HNSW then builds in the background."""
        stmt = sa.select(memory_table.c.id, memory_table.c.tenant, memory_table.c.embedding).order_by(
            memory_table.c.id
        )
        if tenant is not None:
            stmt = stmt.where(memory_table.c.tenant == tenant)
        # Big partitions: each is one hop to the driver's thread, and at a million rows the hops were
        # most of the time (5,000 rows: 12 s to read 1M vectors; 50,000: 5.5 s, ~75 MB a partition).
        result = await conn.stream(stmt.execution_options(yield_per=_FILL_ROWS))
        async for partition in result.partitions(_FILL_ROWS):
            by_tenant: dict[str, tuple[list[int], list[bytes]]] = {}
            for memory_id, row_tenant, blob in partition:
                ids, blobs = by_tenant.setdefault(row_tenant, ([], []))
                ids.append(memory_id)
                blobs.append(blob)

            def add(by_tenant: dict[str, tuple[list[int], list[bytes]]] = by_tenant) -> None:
                for row_tenant, (ids, blobs) in by_tenant.items():
                    indexes.get(row_tenant).upsert(ids, _matrix(blobs))

            await anyio.to_thread.run_sync(add, limiter=self._limiter)
        for name in list(indexes.tenants):
            if tenant is None or name == tenant:
                indexes.maybe_grow(name)

    # --- comparing with the database --------------------------------------------------------------------

    async def drifted_tenants(self) -> list[str]:
        """Tenants whose index holds another number of vectors than the database holds memories."""
        async with self._db.read() as conn:
            counts: dict[str, int] = dict(
                (
                    await conn.execute(
                        sa.select(memory_table.c.tenant, sa.func.count()).group_by(memory_table.c.tenant)
                    )
                ).all()
            )
        tenants = set(counts) | set(self.indexes.tenants)
        return sorted(
            t for t in tenants if counts.get(t, 0) != len(self.indexes.tenants.get(t) or TenantIndex(1))
        )

    async def status(self, tenant: str) -> dict[str, Any]:
        """See `MemoryCore.index_status`."""
        await self.sync()
        async with self._db.read() as conn:
            ids = set(
                (
                    await conn.execute(sa.select(memory_table.c.id).where(memory_table.c.tenant == tenant))
                ).scalars()
            )
        index = self.indexes.tenants.get(tenant)
        indexed = index.memory_ids() if index is not None else set()
        return {
            "database": len(ids),
            "indexed": len(indexed),
            "missing": sorted(ids - indexed),
            "orphaned": sorted(indexed - ids),
            "seq": self.indexes.seq,
            "approximate": bool(index and index.approximate),
            "building": bool(index and index.building),
            "build_progress": list(index.build_progress or ()) if index is not None else [],
        }


def _latest(changes: Sequence[Any]) -> dict[int, tuple[str, str]]:
    """Each memory's last change in the log: memory id -> (tenant, op)."""
    return {int(memory_id): (tenant, op) for _seq, tenant, memory_id, op in changes}


def _matrix(blobs: list[bytes]) -> Vectors:
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)
