"""MemoryCore: the one async, tenant-scoped API every front-end calls."""

from __future__ import annotations

import base64
import logging
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

import anyio
import anyio.to_thread
import numpy as np
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from . import hygiene
from ._db import Database, from_db_time, to_db_time, utcnow
from ._index import IndexSet, TenantIndex, Vectors
from ._keyword import KeywordHits, KeywordIndex, keyword_index_for, query_terms
from ._rerank import refine
from ._schema import (
    SCHEMA_VERSION,
    audit_table,
    change_table,
    ingest_failure_table,
    memory_table,
    memory_tag_table,
    meta_table,
    metadata,
    quality_report_table,
    query_log_table,
)
from ._search import CandidateFacts, boosts, breakdown, final_score, fuse
from .config import CoreSettings
from .embedding import Embedder, MicroBatcher, load_embedder
from .errors import (
    ConfigurationError,
    CredentialDetected,
    Duplicate,
    InvalidInput,
    ModelMismatch,
    NotFound,
    PermissionDenied,
    TooLarge,
)
from .tenancy import check_tenant
from .types import (
    Actor,
    ExportRecord,
    Hit,
    Importance,
    Memory,
    MemoryDraft,
    MemoryPatch,
    QualityReport,
    QueryFilters,
    Reflection,
    Source,
    Stats,
    StoreResult,
    TagCount,
)

__all__ = ["MemoryCore", "ProgressCallback", "SearchMode"]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
"""Called as `(done, total)` while long work (import, reindex, store_many) advances."""

SearchMode = Literal["hybrid", "vector", "keyword"]

_BULK_CHUNK = 256
_SQL_IN_CHUNK = 500
_FLUSH_SECONDS = 2.0
_MAX_QUERY_CHARS = 2000
_PRUNED_THROUGH = "change_log_pruned_through"  # meta key: the highest change-log seq deleted
_READ_SHARE = 0.5  # a hit counts as read when it scores at least this share of the best hit


@dataclass
class _NewRow:
    """A memory ready to insert: validated text, its hash and (once known) its vector."""

    tenant: str
    draft: MemoryDraft
    text: str
    content_hash: str
    redacted: tuple[str, ...] = ()
    explicit_id: int | None = None  # the id to insert with; cleared when it is taken
    original_id: int | None = None  # the id in the export, to re-point links when it could not be kept
    vector: Vectors | None = None
    links: tuple[int, ...] = ()
    updated_at: datetime | None = None
    superseded_by: int | None = None


@dataclass
class _PendingLog:
    queries: list[dict[str, Any]] = field(default_factory=list)
    accessed: dict[int, int] = field(default_factory=dict)
    last_flush: float = field(default_factory=time.monotonic)


_T = TypeVar("_T")


def _chunks(items: Sequence[_T], size: int) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _vector_bytes(vector: Vectors) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def _split_ints(value: str | None) -> tuple[int, ...]:
    return tuple(int(v) for v in (value or "").split() if v)


def _row_to_memory(row: RowMapping) -> Memory:
    return Memory(
        id=row["id"],
        tenant=row["tenant"],
        text=row["text"],
        kind=row["kind"],
        tags=tuple((row["tags"] or "").split()),
        importance=Importance(row["importance"]),
        source=Source(row["source"]),
        source_ref=row["source_ref"],
        title=row["title"],
        author=row["author"],
        author_id=row["author_id"],
        created_at=from_db_time(row["created_at"]),  # type: ignore[arg-type]
        updated_at=from_db_time(row["updated_at"]),  # type: ignore[arg-type]
        expires_at=from_db_time(row["expires_at"]),
        supersedes=row["supersedes"],
        superseded_by=row["superseded_by"],
        content_hash=row["content_hash"],
        embedding_model=row["embedding_model"],
        access_count=row["access_count"],
        last_accessed_at=from_db_time(row["last_accessed_at"]),
        links=_split_ints(row["links"]),
    )


_MAX_ID = 2**63 - 1


def _check_id(memory_id: int) -> None:
    """An id no database can hold is simply not there (not a 64-bit overflow deep in the driver)."""
    if not isinstance(memory_id, int) or not 1 <= memory_id <= _MAX_ID:
        raise NotFound(memory_id)


def _valid_kind(kind: str) -> str:
    try:
        return MemoryDraft(text="x", kind=kind).kind
    except ValidationError as exc:
        raise InvalidInput("kind must be a short lower-case word such as note, decision or incident") from exc


# Every column but the vector: what reads need to build a Memory.
_MEMORY_COLUMNS = [c for c in memory_table.c if c.name != "embedding"]
_FACT_COLUMNS = [
    memory_table.c.id,
    memory_table.c.created_at,
    memory_table.c.importance,
    memory_table.c.author,
    memory_table.c.author_id,
]


async def _load_memories(
    conn: AsyncConnection, memory_ids: Sequence[int], conditions: list[sa.ColumnElement[bool]]
) -> dict[int, Memory]:
    """The memories among `memory_ids` that meet `conditions`, by id (read in chunks)."""
    found: dict[int, Memory] = {}
    for chunk in _chunks(list(memory_ids), _SQL_IN_CHUNK):
        rows = await conn.execute(
            sa.select(*_MEMORY_COLUMNS).where(memory_table.c.id.in_(chunk), *conditions)
        )
        for row in rows.mappings():
            found[row["id"]] = _row_to_memory(row)
    return found


class MemoryCore:
    """The memory of every tenant. Open with `await MemoryCore.open(settings)` or `async with`.

    Every data method takes the tenant first; nothing ever crosses tenants. CPU work (embedding,
    FAISS) runs in worker threads; writes are serialised inside the process and the database's own
    locking serialises them across processes. The FAISS index is a cache of the vectors held in SQL,
    kept in step through the change log, so several processes can share one database.
    """

    def __init__(
        self,
        settings: CoreSettings,
        db: Database,
        embedder: Embedder,
        keyword: KeywordIndex,
        database_id: str,
    ) -> None:
        self.settings = settings
        self._db = db
        self._embedder = embedder
        self._batcher = MicroBatcher(embedder)
        self._keyword = keyword
        self._database_id = database_id
        self._indexes = IndexSet(
            embedder.dim, embedder.model_id, approximate_above=settings.search.approximate_above
        )
        self._sync_lock = anyio.Lock()
        self._faiss_limiter = anyio.CapacityLimiter(2)
        self._pending = _PendingLog()
        self._closed = False

    # --- life cycle --------------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        settings: CoreSettings,
        *,
        embedder: Embedder | None = None,
        allow_model_mismatch: bool = False,
    ) -> MemoryCore:
        """Open (and create) the database, load the embedder, and bring the vector index in step.

        Raises:
            ModelMismatch: the database was built with another model (unless allow_model_mismatch).
            ConfigurationError: the database cannot be opened.
        """
        if settings.database_url is None:
            try:
                settings.data_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigurationError(
                    f"TEAMLORE_DATA_DIR {settings.data_dir} cannot be created: {exc}"
                ) from exc
        if embedder is None:
            embedder = await anyio.to_thread.run_sync(
                lambda: load_embedder(settings.embedding_model, batch_size=settings.embedding_batch_size)
            )
        db = Database(settings.resolved_database_url)
        keyword = keyword_index_for(db.dialect)
        try:
            async with db.write() as conn:
                await conn.run_sync(metadata.create_all)
                await keyword.create(conn)
                database_id = await cls._check_meta(conn, embedder, allow_model_mismatch)
        except ModelMismatch:
            await db.dispose()
            raise
        except (OSError, sa.exc.SQLAlchemyError) as exc:
            await db.dispose()
            raise ConfigurationError(f"cannot open the memory database ({db.dialect}): {exc}") from exc
        core = cls(settings, db, embedder, keyword, database_id)
        await core._load_index()
        return core

    @staticmethod
    async def _check_meta(conn: AsyncConnection, embedder: Embedder, allow_mismatch: bool) -> str:
        meta = dict((await conn.execute(sa.select(meta_table.c.key, meta_table.c.value))).all())
        count = (await conn.execute(sa.select(sa.func.count()).select_from(memory_table))).scalar_one()
        stored_model, stored_dim = meta.get("embedding_model"), int(meta.get("embedding_dim") or 0)
        if count and stored_model and (stored_model != embedder.model_id or stored_dim != embedder.dim):
            if not allow_mismatch:
                raise ModelMismatch(stored_model, stored_dim, embedder.model_id, embedder.dim)
        else:
            meta["embedding_model"], meta["embedding_dim"] = embedder.model_id, str(embedder.dim)
        meta.setdefault("database_id", uuid.uuid4().hex)
        meta["schema_version"] = SCHEMA_VERSION
        for key, value in meta.items():
            await conn.execute(sa.delete(meta_table).where(meta_table.c.key == key))
            await conn.execute(sa.insert(meta_table).values(key=key, value=value))
        return str(meta["database_id"])

    async def __aenter__(self) -> MemoryCore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Flush the query log, write index snapshots and release the database."""
        if self._closed:
            return
        self._closed = True
        with anyio.CancelScope(shield=True):
            try:
                await self._flush_pending(force=True)
                await self.snapshot()
            except Exception:
                logger.exception("could not flush or snapshot while closing")
            await self._db.dispose()

    @property
    def embedding_model(self) -> str:
        return self._embedder.model_id

    @property
    def embedding_dim(self) -> int:
        return self._embedder.dim

    @property
    def database(self) -> Database:
        """The database handle, for the core's own modules (reflection, quality, keys)."""
        return self._db

    # --- index: load, catch up, snapshot -----------------------------------------------------------

    async def _load_index(self) -> None:
        snapshot = await anyio.to_thread.run_sync(self._read_snapshot)
        if snapshot is not None:
            async with self._db.read() as conn:
                max_seq = (await conn.execute(sa.select(sa.func.max(change_table.c.seq)))).scalar_one() or 0
            if snapshot.seq <= max_seq:
                self._indexes = snapshot
            else:
                logger.warning(
                    "index snapshot is ahead of the database (seq %d > %d); rebuilding", snapshot.seq, max_seq
                )
        if self._indexes is not snapshot:
            await self._rebuild_all()
        await self.sync()
        drifted = await self._drifted_tenants()
        for tenant in drifted:
            logger.warning("index of tenant %s disagrees with the database; rebuilding it", tenant)
            await self._rebuild_tenant(tenant)

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
            self._embedder.dim,
            self._embedder.model_id,
            approximate_above=self.settings.search.approximate_above,
        )
        if loaded is not None and loaded.database_id != self._database_id:
            logger.info("index snapshot belongs to another database; rebuilding")
            return None
        return loaded

    async def snapshot(self) -> Path | None:
        """Write the index to the data directory so the next start needs no rebuild."""
        if self._db.is_sqlite is False and not self.settings.data_dir:
            return None
        await self.sync()
        await self.prune_changes()
        indexes = self._indexes
        indexes.database_id = self._database_id
        name = f"snap-{indexes.seq:012d}-{uuid.uuid4().hex[:8]}"
        directory = self.settings.index_dir

        def write() -> Path:
            target = directory / name
            indexes.save(target)
            tmp = directory / f"CURRENT.{name}.tmp"
            tmp.write_text(name)
            tmp.replace(directory / "CURRENT")
            # Older snapshots go, but leave any that another process may be reading right now.
            cutoff = time.time() - 60
            for old in directory.glob("snap-*"):
                if old.name != name and old.stat().st_mtime < cutoff:
                    shutil.rmtree(old, ignore_errors=True)
            return target

        try:
            return await anyio.to_thread.run_sync(write)
        except OSError as exc:
            logger.warning("could not write the index snapshot: %s", exc)
            return None

    async def prune_changes(self, older_than: timedelta | None = None) -> int:
        """Drop change-log entries older than `older_than` (default: `change_log_days`); return how many.

        The newest entry always stays, so sequence numbers never go back. The highest pruned sequence
        is kept in the meta table: a process whose index (or snapshot) is older than that cannot replay
        what it missed and rebuilds its index from SQL instead (see `sync`).
        """
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

    async def sync(self) -> int:
        """Apply the changes other processes (and this one) made since the index was last in step.

        Returns the number of change-log entries applied. An index so far behind that the entries it
        needs were pruned is rebuilt from SQL.
        """
        async with self._sync_lock:
            async with self._db.read() as conn:
                changes = (
                    await conn.execute(
                        sa.select(
                            change_table.c.seq,
                            change_table.c.tenant,
                            change_table.c.memory_id,
                            change_table.c.op,
                        )
                        .where(change_table.c.seq > self._indexes.seq)
                        .order_by(change_table.c.seq)
                    )
                ).all()
                if not changes:
                    return 0
                # A gap after our position is usually a rolled-back sequence value (PostgreSQL); it
                # means lost changes only if the log was pruned past us.
                behind = self._indexes.seq
                if changes[0][0] > behind + 1 and await self._pruned_through(conn) > behind:
                    logger.warning("index is behind the pruned change log (seq %d); rebuilding", behind)
                    await self._rebuild_from(conn)
                    return 0
                latest: dict[int, tuple[str, str]] = {}
                for _seq, tenant, memory_id, op in changes:
                    latest[memory_id] = (tenant, op)
                wanted = [m for m, (_t, op) in latest.items() if op == "upsert"]
                vectors: dict[int, tuple[str, bytes]] = {}
                for chunk in _chunks(wanted, _SQL_IN_CHUNK):
                    rows = await conn.execute(
                        sa.select(memory_table.c.id, memory_table.c.tenant, memory_table.c.embedding).where(
                            memory_table.c.id.in_(chunk)
                        )
                    )
                    for memory_id, tenant, blob in rows:
                        vectors[memory_id] = (tenant, blob)

            def apply() -> None:
                by_tenant: dict[str, tuple[list[int], list[bytes], list[int]]] = {}
                for memory_id, (tenant, _op) in latest.items():
                    ids, blobs, gone = by_tenant.setdefault(tenant, ([], [], []))
                    if memory_id in vectors:
                        ids.append(memory_id)
                        blobs.append(vectors[memory_id][1])
                    else:
                        gone.append(memory_id)
                for tenant, (ids, blobs, gone) in by_tenant.items():
                    index = self._indexes.get(tenant)
                    index.remove(gone)
                    if ids:
                        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), -1)
                        index.upsert(ids, matrix)
                    self._indexes.maybe_grow(tenant)

            await anyio.to_thread.run_sync(apply, limiter=self._faiss_limiter)
            self._indexes.seq = int(changes[-1][0])
            self._indexes.changes_since_snapshot += len(changes)
        every = self.settings.snapshot_every_changes
        if every and self._indexes.changes_since_snapshot >= every:
            await self.snapshot()
        return len(changes)

    async def _rebuild_all(self) -> None:
        async with self._db.read() as conn:
            await self._rebuild_from(conn)

    async def _rebuild_from(self, conn: AsyncConnection) -> None:
        """A fresh index from SQL, read in `conn`'s transaction."""
        fresh = IndexSet(
            self._embedder.dim,
            self._embedder.model_id,
            approximate_above=self.settings.search.approximate_above,
        )
        fresh.seq = (await conn.execute(sa.select(sa.func.max(change_table.c.seq)))).scalar_one() or 0
        await self._fill(conn, fresh, None)
        self._indexes = fresh

    async def _rebuild_tenant(self, tenant: str) -> None:
        async with self._sync_lock, self._db.read() as conn:
            self._indexes.tenants[tenant] = TenantIndex(self._embedder.dim)
            await self._fill(conn, self._indexes, tenant)

    async def _fill(self, conn: AsyncConnection, indexes: IndexSet, tenant: str | None) -> None:
        stmt = sa.select(memory_table.c.id, memory_table.c.tenant, memory_table.c.embedding).order_by(
            memory_table.c.id
        )
        if tenant is not None:
            stmt = stmt.where(memory_table.c.tenant == tenant)
        result = await conn.stream(stmt.execution_options(yield_per=5000))
        async for partition in result.partitions(5000):
            by_tenant: dict[str, tuple[list[int], list[bytes]]] = {}
            for memory_id, row_tenant, blob in partition:
                ids, blobs = by_tenant.setdefault(row_tenant, ([], []))
                ids.append(memory_id)
                blobs.append(blob)

            def add(by_tenant: dict[str, tuple[list[int], list[bytes]]] = by_tenant) -> None:
                for row_tenant, (ids, blobs) in by_tenant.items():
                    matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), -1)
                    indexes.get(row_tenant).upsert(ids, matrix)

            await anyio.to_thread.run_sync(add, limiter=self._faiss_limiter)
        for name in list(indexes.tenants):
            if tenant is None or name == tenant:
                indexes.maybe_grow(name)

    async def _drifted_tenants(self) -> list[str]:
        async with self._db.read() as conn:
            counts: dict[str, int] = dict(
                (
                    await conn.execute(
                        sa.select(memory_table.c.tenant, sa.func.count()).group_by(memory_table.c.tenant)
                    )
                ).all()
            )
        tenants = set(counts) | set(self._indexes.tenants)
        return sorted(
            t for t in tenants if counts.get(t, 0) != len(self._indexes.tenants.get(t) or TenantIndex(1))
        )

    async def index_status(self, tenant: str) -> dict[str, Any]:
        """How the tenant's vector index compares with the database (for readiness and drift findings)."""
        await self.sync()
        async with self._db.read() as conn:
            ids = set(
                (
                    await conn.execute(sa.select(memory_table.c.id).where(memory_table.c.tenant == tenant))
                ).scalars()
            )
        index = self._indexes.tenants.get(tenant)
        indexed = index.memory_ids() if index is not None else set()
        return {
            "database": len(ids),
            "indexed": len(indexed),
            "missing": sorted(ids - indexed),
            "orphaned": sorted(indexed - ids),
            "seq": self._indexes.seq,
            "approximate": bool(index and index.approximate),
        }

    async def health(self) -> dict[str, Any]:
        """Readiness facts: database reachable, every tenant's index in step with it, model loaded.

        `ready` is True only when all three hold. Never raises for a database problem: it reports it.
        """
        checks: dict[str, Any] = {"model": self._embedder.model_id, "model_loaded": self._embedder.dim > 0}
        try:
            await self.sync()
            drifted = await self._drifted_tenants()
            checks.update(
                database=True, index_in_step=not drifted, drifted_tenants=drifted, seq=self._indexes.seq
            )
        except Exception as exc:  # reported, not raised: readiness must answer
            logger.warning("health check failed: %s", exc)
            checks.update(database=False, index_in_step=False, error=str(exc)[:200])
        checks["ready"] = bool(checks["database"] and checks["index_in_step"] and checks["model_loaded"])
        return checks

    async def rebuild_index(self, tenant: str | None = None) -> None:
        """Rebuild the vector index from SQL (one tenant or all) without re-embedding."""
        if tenant is None:
            await self._rebuild_all()
        else:
            await self._rebuild_tenant(check_tenant(tenant))

    # --- validation --------------------------------------------------------------------------------

    def _prepare(self, tenant: str, draft: MemoryDraft, *, redact: bool) -> _NewRow:
        text = draft.text.strip()
        if not text:
            raise InvalidInput("the text is empty: there is nothing to remember")
        limit = self.settings.max_text_chars
        if len(text) > limit:
            raise TooLarge(
                f"the text is {len(text):,} characters; the limit is {limit:,}. Store a summary, or split it",
                limit=limit,
                size=len(text),
            )
        redacted: tuple[str, ...] = ()
        kinds = hygiene.find_credentials(text)
        if kinds:
            if not redact:
                raise CredentialDetected(kinds)
            text, found = hygiene.redact_credentials(text)
            redacted = tuple(found)
        return _NewRow(
            tenant=tenant,
            draft=draft,
            text=text,
            content_hash=hygiene.content_hash(text),
            redacted=redacted,
            links=draft.links,
        )

    # --- store ---------------------------------------------------------------------------------------

    async def store(self, tenant: str, draft: MemoryDraft, *, redact: bool = False) -> StoreResult:
        """Store one memory.

        Returns the new memory, or (created=False, duplicate_of=id) when the same normalised text is
        already stored in this tenant. Near-duplicates are stored and reported in `near_duplicates`.
        With `redact=True` credentials are replaced by `[REDACTED:<kind>]` instead of refused.

        Raises:
            InvalidInput: empty text, bad tenant name, unknown `supersedes` id.
            TooLarge: text over `max_text_chars`.
            CredentialDetected: the text looks like it holds a secret and redact is False.
        """
        check_tenant(tenant)
        row = self._prepare(tenant, draft, redact=redact)
        existing = await self._existing_by_hash(tenant, [row.content_hash])
        if row.content_hash in existing:
            memory = await self.get(tenant, existing[row.content_hash], count_access=False)
            return StoreResult(memory=memory, created=False, duplicate_of=memory.id, redacted=row.redacted)
        row.vector = await self._batcher.embed_one(row.text)
        await self.sync()
        near = await self._near_duplicates(tenant, row.vector)
        try:
            async with self._db.write() as conn:
                if draft.supersedes is not None:
                    await self._require(conn, tenant, draft.supersedes)
                (memory_id,) = await self._insert(conn, [row])
                if draft.supersedes is not None:
                    await conn.execute(
                        sa.update(memory_table)
                        .where(memory_table.c.id == draft.supersedes)
                        .values(superseded_by=memory_id, updated_at=to_db_time(utcnow()))
                    )
        except IntegrityError:
            # Another process stored the same text between our check and our insert.
            existing = await self._existing_by_hash(tenant, [row.content_hash])
            if row.content_hash not in existing:
                raise
            memory = await self.get(tenant, existing[row.content_hash], count_access=False)
            return StoreResult(memory=memory, created=False, duplicate_of=memory.id, redacted=row.redacted)
        await self.sync()
        memory = await self.get(tenant, memory_id, count_access=False)
        logger.debug("stored #%d in %s", memory_id, tenant)
        return StoreResult(memory=memory, created=True, near_duplicates=tuple(near), redacted=row.redacted)

    async def _near_duplicates(self, tenant: str, vector: Vectors) -> list[int]:
        index = self._indexes.tenants.get(tenant)
        if index is None or len(index) == 0:
            return []
        hits = await anyio.to_thread.run_sync(lambda: index.search(vector, 5), limiter=self._faiss_limiter)
        return [m for m, sim in hits if sim >= self.settings.near_duplicate_threshold]

    async def _existing_by_hash(self, tenant: str, hashes: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        async with self._db.read() as conn:
            for chunk in _chunks(list(hashes), _SQL_IN_CHUNK):
                rows = await conn.execute(
                    sa.select(memory_table.c.content_hash, memory_table.c.id).where(
                        memory_table.c.tenant == tenant, memory_table.c.content_hash.in_(chunk)
                    )
                )
                found.update(dict(rows.all()))
        return found

    async def _insert(self, conn: AsyncConnection, rows: Sequence[_NewRow]) -> list[int]:
        """Insert memories with their tags, keyword entries and change-log rows; return their ids."""
        now = to_db_time(utcnow())
        values = []
        for r in rows:
            d = r.draft
            assert r.vector is not None
            value: dict[str, Any] = {
                "tenant": r.tenant,
                "text": r.text,
                "kind": d.kind,
                "tags": " ".join(d.tags),
                "importance": d.importance.value,
                "source": d.source.value,
                "source_ref": d.source_ref,
                "title": d.title,
                "author": d.author,
                "author_id": d.author_id,
                "created_at": to_db_time(d.created_at) or now,
                "updated_at": to_db_time(r.updated_at) or to_db_time(d.created_at) or now,
                "expires_at": to_db_time(d.expires_at),
                "supersedes": d.supersedes,
                "superseded_by": r.superseded_by,
                "links": " ".join(str(i) for i in r.links),
                "content_hash": r.content_hash,
                "embedding_model": self._embedder.model_id,
                "embedding": _vector_bytes(r.vector),
                "access_count": 0,
                "last_accessed_at": None,
            }
            if r.explicit_id is not None:
                value["id"] = r.explicit_id
            values.append(value)
        ids: list[int] = []
        # Rows with and without explicit ids need separate statements (different column sets).
        with_id = [v for v in values if "id" in v]
        without_id = [v for v in values if "id" not in v]
        id_of: dict[int, int] = {}
        if with_id:
            await conn.execute(sa.insert(memory_table), with_id)
            if not self._db.is_sqlite:
                # PostgreSQL's id sequence does not see explicit ids; move it past them.
                await conn.execute(
                    sa.text(
                        "SELECT setval(pg_get_serial_sequence('memory', 'id'), (SELECT max(id) FROM memory))"
                    )
                )
            for position, v in enumerate(values):
                if "id" in v:
                    id_of[position] = v["id"]
        if without_id:
            result = await conn.execute(
                sa.insert(memory_table).returning(memory_table.c.id, sort_by_parameter_order=True), without_id
            )
            new_ids = [int(r[0]) for r in result]
            positions = [p for p, v in enumerate(values) if "id" not in v]
            id_of.update(zip(positions, new_ids, strict=True))
        ids = [id_of[p] for p in range(len(values))]
        for memory_id, value in zip(ids, values, strict=True):
            value["id"] = memory_id
        tag_rows = [
            {"memory_id": memory_id, "tag": tag, "tenant": r.tenant}
            for memory_id, r in zip(ids, rows, strict=True)
            for tag in r.draft.tags
        ]
        if tag_rows:
            await conn.execute(sa.insert(memory_tag_table), tag_rows)
        await self._keyword.add(conn, values)
        await conn.execute(
            sa.insert(change_table),
            [
                {"tenant": r.tenant, "memory_id": i, "op": "upsert", "at": now}
                for i, r in zip(ids, rows, strict=True)
            ],
        )
        return ids

    async def store_many(
        self,
        tenant: str,
        drafts: Iterable[MemoryDraft],
        *,
        redact: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> list[StoreResult]:
        """Store many memories with batched embedding; one result per draft, in order.

        Every draft is validated before anything is written: one bad draft refuses the whole call.
        Drafts whose text is already stored (or repeats an earlier draft) come back as duplicates.
        """
        check_tenant(tenant)
        rows = [self._prepare(tenant, d, redact=redact) for d in drafts]
        return await self._store_rows(tenant, rows, on_progress=on_progress)

    async def _store_rows(
        self, tenant: str, rows: list[_NewRow], *, on_progress: ProgressCallback | None
    ) -> list[StoreResult]:
        total = len(rows)
        results: list[StoreResult | None] = [None] * total
        first_of_hash: dict[str, int] = {}
        done = 0
        for start in range(0, total, _BULK_CHUNK):
            chunk = rows[start : start + _BULK_CHUNK]
            existing = await self._existing_by_hash(tenant, [r.content_hash for r in chunk])
            fresh: list[tuple[int, _NewRow]] = []
            for offset, row in enumerate(chunk):
                position = start + offset
                if row.content_hash in existing or row.content_hash in first_of_hash:
                    continue
                first_of_hash[row.content_hash] = position
                fresh.append((position, row))
            need_vectors = [r for _, r in fresh if r.vector is None]
            if need_vectors:
                matrix = await self._batcher.embed_many([r.text for r in need_vectors])
                for r, vector in zip(need_vectors, matrix, strict=True):
                    r.vector = vector
            if fresh:
                async with self._db.write() as conn:
                    taken = await self._taken_ids(conn, [r.explicit_id for _, r in fresh if r.explicit_id])
                    for _, r in fresh:
                        if r.explicit_id in taken:
                            r.explicit_id = None
                    ids = await self._insert(conn, [r for _, r in fresh])
                memories = {m.id: m for m in await self.get_many(tenant, ids)}
                for (position, row), memory_id in zip(fresh, ids, strict=True):
                    results[position] = StoreResult(
                        memory=memories[memory_id], created=True, redacted=row.redacted
                    )
                    existing[row.content_hash] = memory_id
                await self.sync()
            done += len(chunk)
            if on_progress is not None:
                on_progress(done, total)
        # Duplicates point at the memory their text already lives in.
        all_hashes = {r.content_hash for r, res in zip(rows, results, strict=True) if res is None}
        known = await self._existing_by_hash(tenant, list(all_hashes))
        dup_memories = {m.id: m for m in await self.get_many(tenant, known.values())}
        for position, row in enumerate(rows):
            if results[position] is None:
                memory = dup_memories[known[row.content_hash]]
                results[position] = StoreResult(
                    memory=memory, created=False, duplicate_of=memory.id, redacted=row.redacted
                )
        return [r for r in results if r is not None]

    async def _taken_ids(self, conn: AsyncConnection, ids: list[int | None]) -> set[int]:
        wanted = [i for i in ids if i is not None]
        taken: set[int] = set()
        for chunk in _chunks(wanted, _SQL_IN_CHUNK):
            taken.update(
                (
                    await conn.execute(sa.select(memory_table.c.id).where(memory_table.c.id.in_(chunk)))
                ).scalars()
            )
        return taken

    # --- query ---------------------------------------------------------------------------------------

    def _conditions(self, tenant: str, filters: QueryFilters, now: datetime) -> list[sa.ColumnElement[bool]]:
        m = memory_table.c
        conditions: list[sa.ColumnElement[bool]] = [m.tenant == tenant]
        for tag in filters.tags:
            conditions.append(
                m.id.in_(
                    sa.select(memory_tag_table.c.memory_id).where(
                        memory_tag_table.c.tenant == tenant, memory_tag_table.c.tag == tag
                    )
                )
            )
        if filters.kind:
            conditions.append(m.kind == filters.kind.lower())
        if filters.source:
            conditions.append(m.source == filters.source.value)
        if filters.author:
            who = filters.author.strip().lstrip("@").lower()
            conditions.append(sa.or_(sa.func.lower(m.author) == who, sa.func.lower(m.author_id) == who))
        if filters.since:
            conditions.append(m.created_at >= to_db_time(filters.since))
        if filters.until:
            conditions.append(m.created_at <= to_db_time(filters.until))
        if not filters.include_expired:
            conditions.append(sa.or_(m.expires_at.is_(None), m.expires_at > to_db_time(now)))
        if not filters.include_superseded:
            conditions.append(m.superseded_by.is_(None))
        return conditions

    @staticmethod
    def _is_narrowing(filters: QueryFilters) -> bool:
        return bool(
            filters.tags
            or filters.kind
            or filters.source
            or filters.author
            or filters.since
            or filters.until
            or not filters.include_superseded
        )

    async def query(
        self,
        tenant: str,
        text: str,
        *,
        filters: QueryFilters | None = None,
        limit: int = 5,
        mode: SearchMode = "hybrid",
        record: bool = True,
    ) -> list[Hit]:
        """Find the memories that best answer `text` (hybrid keyword + vector search, fused).

        Expired memories are hidden unless `filters.include_expired`. Hits scoring at least half of the
        best hit count as read (access count, last read; staleness is judged on them). `record=False`
        keeps the query out of the query log (which feeds knowledge-gap findings) and leaves access
        counts alone: for the core's own searches, such as reflection.

        Raises:
            InvalidInput: empty question or limit outside 1..100.
        """
        check_tenant(tenant)
        text = text.strip()
        if not text:
            raise InvalidInput("the question is empty: ask something, e.g. /query where is the VPN?")
        if len(text) > _MAX_QUERY_CHARS:
            raise TooLarge(
                f"the question is {len(text):,} characters; ask in at most {_MAX_QUERY_CHARS:,}",
                limit=_MAX_QUERY_CHARS,
                size=len(text),
            )
        if not 1 <= limit <= 100:
            raise InvalidInput("limit must be between 1 and 100")
        if mode not in ("hybrid", "vector", "keyword"):
            raise InvalidInput("mode must be hybrid, vector or keyword")
        filters = filters or QueryFilters()
        now = utcnow()
        search = self.settings.search
        proposals = max(search.candidates, limit)  # each retriever proposes at least `limit` hits
        conditions = self._conditions(tenant, filters, now)
        await self.sync()

        vector_hits: list[tuple[int, float]] = []
        keyword = KeywordHits()
        query_vector = await self._batcher.embed_one(text) if mode != "keyword" else None
        # One read transaction from the keyword search to the hits: one snapshot of the data, and
        # fewer round trips to the database thread.
        async with self._db.read() as conn:
            allowed: set[int] | None = None
            if self._is_narrowing(filters):
                allowed = set((await conn.execute(sa.select(memory_table.c.id).where(*conditions))).scalars())
            if mode != "vector":
                keyword = await self._keyword.search(conn, query_terms(text), conditions, proposals)
            index = self._indexes.tenants.get(tenant)
            if query_vector is not None and index is not None and (allowed is None or allowed):
                vector_hits = await anyio.to_thread.run_sync(
                    lambda: index.search(query_vector, proposals, allowed), limiter=self._faiss_limiter
                )
                # Unrelated texts still have *a* nearest neighbour; a floor keeps them out of the fusion.
                vector_hits = [(m, sim) for m, sim in vector_hits if sim >= search.min_similarity]
            candidates = fuse(vector_hits, keyword.hits, search, keyword.full_match)
            # Ranking reads a few columns of every candidate, through the filters (which drop expired
            # or filtered-out vectors); whole memories are loaded for the hits returned only.
            facts: dict[int, CandidateFacts] = {}
            for chunk in _chunks([c.memory_id for c in candidates], _SQL_IN_CHUNK):
                rows = await conn.execute(
                    sa.select(*_FACT_COLUMNS).where(memory_table.c.id.in_(chunk), *conditions)
                )
                for memory_id, created_at, importance, author, author_id in rows:
                    written = from_db_time(created_at)
                    assert written is not None  # a NOT NULL column
                    facts[memory_id] = CandidateFacts(written, Importance(importance), author, author_id)
            # Second stage (memory_core/_rerank.py): dates named in the question, conversation context.
            candidates = await refine(conn, tenant, text, now, candidates, facts, search)
            ranked = []
            for candidate in candidates:
                fact = facts.get(candidate.memory_id)
                if fact is None:
                    continue
                importance, recency = boosts(fact, now, search)
                ranked.append((final_score(candidate, importance, recency), candidate, importance, recency))
            ranked.sort(key=lambda r: (-r[0], r[1].memory_id))
            del ranked[limit:]
            memories = await _load_memories(conn, [r[1].memory_id for r in ranked], [])
        hits: list[Hit] = []
        for _final, candidate, importance, recency in ranked:
            memory = memories.get(candidate.memory_id)
            if memory is None:  # deleted by another process a moment ago (PostgreSQL reads committed)
                continue
            detail = breakdown(candidate, importance, recency)
            hits.append(Hit(memory=memory, score=detail.final, breakdown=detail))
        best_similarity = max((h.breakdown.vector_similarity or 0.0 for h in hits), default=None)
        if record:
            self._pending.queries.append(
                {
                    "tenant": tenant,
                    "text": text[:1000],
                    "best_similarity": best_similarity,
                    "hits": len(hits),
                    "at": to_db_time(now),
                }
            )
            # The tail of a weak list is not a sign anyone relied on a memory (staleness reads this).
            read = [h for h in hits if h.score >= _READ_SHARE * hits[0].score]
            for h in read:
                self._pending.accessed[h.memory.id] = self._pending.accessed.get(h.memory.id, 0) + 1
        await self._flush_pending()
        logger.debug("query in %s: %d hits", tenant, len(hits))
        return hits

    async def _flush_pending(self, *, force: bool = False) -> None:
        """Write query-log rows and access counts in batches: statistics are not worth a write per query."""
        pending = self._pending
        if not (pending.queries or pending.accessed):
            return
        if (
            not force
            and time.monotonic() - pending.last_flush < _FLUSH_SECONDS
            and len(pending.queries) < 200
        ):
            return
        queries, accessed = pending.queries, pending.accessed
        self._pending = _PendingLog()
        now = to_db_time(utcnow())
        async with self._db.write() as conn:
            if queries:
                await conn.execute(sa.insert(query_log_table), queries)
            for memory_id, count in accessed.items():
                await conn.execute(
                    sa.update(memory_table)
                    .where(memory_table.c.id == memory_id)
                    .values(access_count=memory_table.c.access_count + count, last_accessed_at=now)
                )
            if self.settings.query_log_days:
                cutoff = utcnow() - timedelta(days=self.settings.query_log_days)
                await conn.execute(sa.delete(query_log_table).where(query_log_table.c.at < cutoff))

    # --- read ------------------------------------------------------------------------------------------

    async def get(self, tenant: str, memory_id: int, *, count_access: bool = True) -> Memory:
        """Return one memory. Raises NotFound (also for another tenant's id)."""
        check_tenant(tenant)
        async with self._db.read() as conn:
            row = await self._require(conn, tenant, memory_id)
        if count_access:
            self._pending.accessed[memory_id] = self._pending.accessed.get(memory_id, 0) + 1
        return _row_to_memory(row)

    async def get_many(self, tenant: str, memory_ids: Iterable[int]) -> list[Memory]:
        """Return the memories that exist among `memory_ids`, in the given order; missing ids are skipped."""
        check_tenant(tenant)
        wanted = list(dict.fromkeys(memory_ids))
        async with self._db.read() as conn:
            found = await _load_memories(conn, wanted, [memory_table.c.tenant == tenant])
        return [found[i] for i in wanted if i in found]

    async def find_by_source_ref(
        self, tenant: str, source_ref: str, *, source: Source | None = None
    ) -> Memory | None:
        """The oldest memory that came from `source_ref` (a Message-ID, a permalink), or None.

        Front-ends use it to make ingest idempotent: the same mail twice is one memory even when a
        relay changed its text.
        """
        check_tenant(tenant)
        conditions = [memory_table.c.tenant == tenant, memory_table.c.source_ref == source_ref]
        if source is not None:
            conditions.append(memory_table.c.source == source.value)
        stmt = sa.select(*_MEMORY_COLUMNS).where(*conditions).order_by(memory_table.c.id).limit(1)
        async with self._db.read() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return None if row is None else _row_to_memory(row)

    async def recent(
        self, tenant: str, *, limit: int = 20, offset: int = 0, filters: QueryFilters | None = None
    ) -> list[Memory]:
        """The newest memories first, filtered like a query (expired hidden by default); `offset` pages."""
        check_tenant(tenant)
        conditions = self._conditions(tenant, filters or QueryFilters(), utcnow())
        async with self._db.read() as conn:
            rows = await conn.execute(
                sa.select(*_MEMORY_COLUMNS)
                .where(*conditions)
                .order_by(memory_table.c.created_at.desc(), memory_table.c.id.desc())
                .limit(max(1, min(limit, 1000)))
                .offset(max(0, offset))
            )
            return [_row_to_memory(r) for r in rows.mappings()]

    async def _require(self, conn: AsyncConnection, tenant: str, memory_id: int) -> RowMapping:
        _check_id(memory_id)
        row = (
            (
                await conn.execute(
                    sa.select(*_MEMORY_COLUMNS).where(
                        memory_table.c.id == memory_id, memory_table.c.tenant == tenant
                    )
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(memory_id)
        return row

    # --- update and delete ------------------------------------------------------------------------------

    @staticmethod
    def _check_may_change(row: RowMapping, actor: Actor, verb: str) -> None:
        if actor.is_admin or (row["author_id"] is not None and row["author_id"] == actor.id):
            return
        who = row["author"] or row["author_id"] or "someone else"
        raise PermissionDenied(f"only {who} (who stored #{row['id']}) or an admin can {verb} it")

    async def update(self, tenant: str, memory_id: int, patch: MemoryPatch, *, actor: Actor) -> Memory:
        """Change a memory; a new text is re-checked (size, secrets, duplicates) and re-embedded.

        Only the author or an admin may change a memory.

        Raises:
            NotFound, InvalidInput, Duplicate (the new text is another memory's), PermissionDenied.
        """
        check_tenant(tenant)
        new_text: _NewRow | None = None
        if patch.text is not None:
            new_text = self._prepare(tenant, MemoryDraft(text=patch.text), redact=False)
            new_text.vector = await self._batcher.embed_one(new_text.text)
        async with self._db.write() as conn:
            row = await self._require(conn, tenant, memory_id)
            self._check_may_change(row, actor, "change")
            values: dict[str, Any] = {"updated_at": to_db_time(utcnow())}
            if patch.kind is not None:
                values["kind"] = _valid_kind(patch.kind)
            if patch.importance is not None:
                values["importance"] = patch.importance.value
            if patch.title is not None:
                values["title"] = patch.title
            if patch.clear_expiry:
                values["expires_at"] = None
            elif patch.expires_at is not None:
                values["expires_at"] = to_db_time(patch.expires_at)
            if patch.superseded_by is not None:
                await self._require(conn, tenant, patch.superseded_by)
                values["superseded_by"] = patch.superseded_by
            if patch.tags is not None:
                values["tags"] = " ".join(patch.tags)
                await conn.execute(
                    sa.delete(memory_tag_table).where(memory_tag_table.c.memory_id == memory_id)
                )
                if patch.tags:
                    await conn.execute(
                        sa.insert(memory_tag_table),
                        [{"memory_id": memory_id, "tag": t, "tenant": tenant} for t in patch.tags],
                    )
            if new_text is not None and new_text.content_hash != row["content_hash"]:
                clash = (
                    await conn.execute(
                        sa.select(memory_table.c.id).where(
                            memory_table.c.tenant == tenant,
                            memory_table.c.content_hash == new_text.content_hash,
                        )
                    )
                ).scalar()
                if clash is not None:
                    raise Duplicate(clash)
                assert new_text.vector is not None
                values.update(
                    text=new_text.text,
                    content_hash=new_text.content_hash,
                    embedding=_vector_bytes(new_text.vector),
                    embedding_model=self._embedder.model_id,
                )
            await conn.execute(sa.update(memory_table).where(memory_table.c.id == memory_id).values(**values))
            if "text" in values or "tags" in values or "title" in values:
                fresh = await self._require(conn, tenant, memory_id)
                await self._keyword.remove(conn, [memory_id])
                await self._keyword.add(conn, [dict(fresh)])
            if "embedding" in values:
                await conn.execute(
                    sa.insert(change_table).values(
                        tenant=tenant, memory_id=memory_id, op="upsert", at=to_db_time(utcnow())
                    )
                )
        await self.sync()
        return await self.get(tenant, memory_id, count_access=False)

    async def delete(self, tenant: str, memory_id: int, *, actor: Actor) -> None:
        """Delete for real: row, vector and keyword entry; an audit row records who, which id and when.

        Only the memory's author (`author_id == actor.id`) or an admin may delete.

        Raises:
            NotFound, PermissionDenied.
        """
        check_tenant(tenant)
        now = to_db_time(utcnow())
        async with self._db.write() as conn:
            row = await self._require(conn, tenant, memory_id)
            self._check_may_change(row, actor, "forget")
            await self._keyword.remove(conn, [memory_id])
            await conn.execute(sa.delete(memory_tag_table).where(memory_tag_table.c.memory_id == memory_id))
            # Links from other memories must not point at a hole.
            await conn.execute(
                sa.update(memory_table)
                .where(memory_table.c.superseded_by == memory_id)
                .values(superseded_by=None)
            )
            await conn.execute(
                sa.update(memory_table).where(memory_table.c.supersedes == memory_id).values(supersedes=None)
            )
            await conn.execute(sa.delete(memory_table).where(memory_table.c.id == memory_id))
            await conn.execute(
                sa.insert(change_table).values(tenant=tenant, memory_id=memory_id, op="delete", at=now)
            )
            await conn.execute(
                sa.insert(audit_table).values(
                    tenant=tenant,
                    action="delete",
                    memory_id=memory_id,
                    actor_id=actor.id,
                    actor_name=actor.name or None,
                    at=now,
                )
            )
            await self._keyword.compact(conn)
        if self._db.is_sqlite:
            # The WAL still holds the pages as they were before the delete; fold it into the file now.
            async with self._db.read() as conn:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        await self.sync()
        logger.info("deleted #%d in %s by %s", memory_id, tenant, actor.id)

    async def audit_log(self, tenant: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """The newest audit rows of a tenant: action, memory id, actor and time (never content)."""
        check_tenant(tenant)
        async with self._db.read() as conn:
            rows = await conn.execute(
                sa.select(audit_table)
                .where(audit_table.c.tenant == tenant)
                .order_by(audit_table.c.id.desc())
                .limit(limit)
            )
            return [{**dict(r), "at": from_db_time(r["at"])} for r in rows.mappings()]

    # --- listing and statistics --------------------------------------------------------------------------

    async def list_tags(self, tenant: str) -> list[TagCount]:
        """Every tag in use with its count, most used first."""
        check_tenant(tenant)
        async with self._db.read() as conn:
            rows = await conn.execute(
                sa.select(memory_tag_table.c.tag, sa.func.count())
                .where(memory_tag_table.c.tenant == tenant)
                .group_by(memory_tag_table.c.tag)
                .order_by(sa.func.count().desc(), memory_tag_table.c.tag)
            )
            return [TagCount(tag=tag, count=count) for tag, count in rows]

    async def stats(self, tenant: str) -> Stats:
        """Counts by kind, source and tag, the index size and the model in use."""
        check_tenant(tenant)
        now = to_db_time(utcnow())
        m = memory_table.c
        async with self._db.read() as conn:
            total, oldest, newest = (
                await conn.execute(
                    sa.select(sa.func.count(), sa.func.min(m.created_at), sa.func.max(m.created_at)).where(
                        m.tenant == tenant
                    )
                )
            ).one()
            expired = (
                await conn.execute(
                    sa.select(sa.func.count()).where(
                        m.tenant == tenant, m.expires_at.is_not(None), m.expires_at <= now
                    )
                )
            ).scalar_one()
            by_kind: dict[str, int] = dict(
                (
                    await conn.execute(
                        sa.select(m.kind, sa.func.count()).where(m.tenant == tenant).group_by(m.kind)
                    )
                ).all()
            )
            by_source: dict[str, int] = dict(
                (
                    await conn.execute(
                        sa.select(m.source, sa.func.count()).where(m.tenant == tenant).group_by(m.source)
                    )
                ).all()
            )
        await self.sync()
        index = self._indexes.tenants.get(tenant)
        return Stats(
            tenant=tenant,
            memories=total,
            expired=expired,
            by_kind=by_kind,
            by_source=by_source,
            top_tags=tuple((await self.list_tags(tenant))[:10]),
            indexed_vectors=len(index) if index is not None else 0,
            embedding_model=self._embedder.model_id,
            embedding_dim=self._embedder.dim,
            oldest=from_db_time(oldest),
            newest=from_db_time(newest),
        )

    async def tenants(self) -> list[str]:
        """Tenants that hold at least one memory."""
        async with self._db.read() as conn:
            return list(
                (
                    await conn.execute(
                        sa.select(memory_table.c.tenant).distinct().order_by(memory_table.c.tenant)
                    )
                ).scalars()
            )

    # --- export, import, reindex -------------------------------------------------------------------------

    async def export(self, tenant: str) -> AsyncIterator[ExportRecord]:
        """Every memory of the tenant (expired included), oldest first, with its vector."""
        check_tenant(tenant)
        last_id = 0
        while True:
            async with self._db.read() as conn:
                rows = (
                    (
                        await conn.execute(
                            sa.select(memory_table)
                            .where(memory_table.c.tenant == tenant, memory_table.c.id > last_id)
                            .order_by(memory_table.c.id)
                            .limit(1000)
                        )
                    )
                    .mappings()
                    .all()
                )
            if not rows:
                return
            for row in rows:
                memory = _row_to_memory(row)
                yield ExportRecord(
                    **memory.model_dump(
                        exclude={"tenant", "content_hash", "access_count", "last_accessed_at"}
                    ),
                    embedding=base64.b64encode(row["embedding"]).decode("ascii"),
                )
            last_id = rows[-1]["id"]

    async def import_(
        self,
        tenant: str,
        records: Iterable[ExportRecord],
        *,
        on_progress: ProgressCallback | None = None,
        redact: bool = False,
    ) -> list[StoreResult]:
        """Import exported records. Vectors are reused when their model is the configured one and
        re-embedded otherwise; ids are kept when free; duplicates are skipped and reported.

        Raises:
            InvalidInput: a record is invalid (nothing of the call is written).
        """
        check_tenant(tenant)
        rows: list[_NewRow] = []
        for record in records:
            draft = MemoryDraft(
                text=record.text,
                kind=record.kind,
                tags=record.tags,
                importance=record.importance,
                source=record.source,
                source_ref=record.source_ref,
                title=record.title,
                author=record.author,
                author_id=record.author_id,
                created_at=record.created_at,
                expires_at=record.expires_at,
                supersedes=record.supersedes,
            )
            row = self._prepare(tenant, draft, redact=redact)
            row.explicit_id = row.original_id = record.id
            row.links = record.links
            row.updated_at = record.updated_at
            row.superseded_by = record.superseded_by
            if (
                record.embedding
                and record.embedding_model == self._embedder.model_id
                and row.text == record.text
            ):
                vector = np.frombuffer(base64.b64decode(record.embedding), dtype=np.float32)
                if vector.shape == (self._embedder.dim,):
                    row.vector = vector
            rows.append(row)
        results = await self._store_rows(tenant, rows, on_progress=on_progress)
        await self._remap_links(tenant, rows, results)
        return results

    async def _remap_links(self, tenant: str, rows: list[_NewRow], results: list[StoreResult]) -> None:
        """Ids that could not be kept: point supersedes/superseded_by/links at the new ids."""
        remap = {
            r.original_id: res.memory.id
            for r, res in zip(rows, results, strict=True)
            if r.original_id is not None and r.original_id != res.memory.id
        }
        if not remap:
            return
        async with self._db.write() as conn:
            for res in results:
                m = res.memory
                if not res.created:
                    continue
                values: dict[str, Any] = {}
                if m.supersedes in remap:
                    values["supersedes"] = remap[m.supersedes]
                if m.superseded_by in remap:
                    values["superseded_by"] = remap[m.superseded_by]
                if any(link in remap for link in m.links):
                    values["links"] = " ".join(str(remap.get(link, link)) for link in m.links)
                if values:
                    await conn.execute(
                        sa.update(memory_table).where(memory_table.c.id == m.id).values(**values)
                    )

    async def reindex(self, *, on_progress: ProgressCallback | None = None) -> int:
        """Re-embed every memory of every tenant with the configured model and rebuild the indexes.

        Memories already embedded with the configured model are skipped, so an interrupted reindex
        resumes where it stopped. Returns the number of memories re-embedded. This is the cure for
        ModelMismatch.
        """
        model = self._embedder.model_id
        async with self._db.read() as conn:
            todo = list(
                (
                    await conn.execute(
                        sa.select(memory_table.c.id)
                        .where(memory_table.c.embedding_model != model)
                        .order_by(memory_table.c.id)
                    )
                ).scalars()
            )
        done = 0
        for chunk in _chunks(todo, _BULK_CHUNK):
            async with self._db.read() as conn:
                rows = (
                    await conn.execute(
                        sa.select(memory_table.c.id, memory_table.c.tenant, memory_table.c.text).where(
                            memory_table.c.id.in_(chunk)
                        )
                    )
                ).all()
            matrix = await self._batcher.embed_many([r[2] for r in rows])
            now = to_db_time(utcnow())
            async with self._db.write() as conn:
                for (memory_id, _tenant, _text), vector in zip(rows, matrix, strict=True):
                    await conn.execute(
                        sa.update(memory_table)
                        .where(memory_table.c.id == memory_id)
                        .values(embedding=_vector_bytes(vector), embedding_model=model)
                    )
                await conn.execute(
                    sa.insert(change_table),
                    [{"tenant": t, "memory_id": i, "op": "upsert", "at": now} for i, t, _ in rows],
                )
            done += len(chunk)
            if on_progress is not None:
                on_progress(done, len(todo))
        async with self._db.write() as conn:
            for key, value in (("embedding_model", model), ("embedding_dim", str(self._embedder.dim))):
                await conn.execute(sa.delete(meta_table).where(meta_table.c.key == key))
                await conn.execute(sa.insert(meta_table).values(key=key, value=value))
        await self._rebuild_all()
        await self.snapshot()
        if on_progress is not None and not todo:
            on_progress(0, 0)
        logger.info("reindexed %d memories with %s", done, model)
        return done

    # --- reflection and quality (see _reflect.py and _quality.py) -------------------------------------

    async def reflect(
        self,
        tenant: str,
        topic: str | None = None,
        *,
        filters: QueryFilters | None = None,
        limit: int = 30,
        dry_run: bool = False,
        actor: Actor | None = None,
    ) -> Reflection:
        """Gather the memories related to `topic` (and/or inside `filters.since..until`), group them and
        write a reflection citing their ids. Saved as a memory of kind `reflection` unless dry_run;
        reflecting again on the same topic supersedes the earlier reflection.

        Raises:
            InvalidInput: neither a topic nor a time window was given.
        """
        from ._reflect import reflect

        return await reflect(self, tenant, topic, filters=filters, limit=limit, dry_run=dry_run, actor=actor)

    async def quality_report(self, tenant: str, *, save: bool = True) -> QualityReport:
        """Score the tenant's memory 0-100 with findings; saved (unless save=False) so trends show."""
        from ._quality import build_report

        return await build_report(self, tenant, save=save)

    async def latest_quality_score(self, tenant: str) -> int | None:
        """The score of the newest saved quality report, or None before the first one."""
        check_tenant(tenant)
        async with self._db.read() as conn:
            score = (
                await conn.execute(
                    sa.select(quality_report_table.c.score)
                    .where(quality_report_table.c.tenant == tenant)
                    .order_by(quality_report_table.c.created_at.desc(), quality_report_table.c.id.desc())
                    .limit(1)
                )
            ).scalar()
        return None if score is None else int(score)

    async def count_ingest_failures(self, tenant: str | None, *, since: datetime) -> int:
        """Ingest failures recorded since `since` (tenant None: those refused before a tenant was known)."""
        condition = (
            ingest_failure_table.c.tenant.is_(None)
            if tenant is None
            else ingest_failure_table.c.tenant == tenant
        )
        async with self._db.read() as conn:
            return int(
                (
                    await conn.execute(
                        sa.select(sa.func.count()).where(
                            condition, ingest_failure_table.c.at >= to_db_time(since)
                        )
                    )
                ).scalar_one()
            )

    async def record_ingest_failure(
        self, tenant: str | None, *, source: Source, reason: str, ref: str | None = None
    ) -> None:
        """Remember that a front-end refused or failed to ingest something (e.g. a rejected mail).

        `tenant` may be None when the refusal happened before a tenant was known (unknown recipient).
        """
        async with self._db.write() as conn:
            await conn.execute(
                sa.insert(ingest_failure_table).values(
                    tenant=tenant,
                    source=source.value,
                    reason=reason[:2000],
                    ref=(ref or None) and ref[:1000],
                    at=to_db_time(utcnow()),
                )
            )
