"""MemoryCore: the one async, tenant-scoped API every front-end calls (a façade over the core's modules).

The work is done in private modules that depend one way (each only on those before it):
`_rows` (rows, SQL helpers, tag and change-log rows) → `_index_sync` (the FAISS index kept in step with
SQL) → `_store` (the write path) → `_query` (the query pipeline and query log) → `_transfer` (export,
import, reindex) → `_reflect` and `_quality`, which get what they need handed in. This module checks the
arguments, wires the parts together and holds the docstrings that are the API's contract.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from . import files
from ._db import Database, from_db_time, to_db_time, utcnow
from ._index_sync import IndexSync
from ._key_cache import KeyCache
from ._keyword import KeywordIndex, keyword_index_for
from ._query import QueryTrace, SearchMode, conditions, run_query
from ._querylog import QueryLog
from ._retention import IngestFailures, prune_failures, redact_old_rows
from ._rows import MEMORY_COLUMNS, load_memories, require, row_to_memory
from ._schema import (
    SCHEMA_VERSION,
    audit_table,
    create_missing_indexes,
    memory_table,
    memory_tag_table,
    meta_table,
    metadata,
    quality_report_table,
)
from ._store import MemoryWriter
from ._transfer import export_records, import_records, reindex_all
from ._upkeep import Upkeep
from .config import CoreSettings
from .embedding import Embedder, MicroBatcher, embedder_for, shorten_switch_interval, warm_up
from .errors import ConfigurationError, InvalidInput, ModelMismatch, TooLarge
from .tenancy import check_tenant
from .types import (
    Actor,
    ExportRecord,
    Hit,
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
    check_text,
    has_visible,
)

__all__ = ["MemoryCore", "ProgressCallback", "QueryTrace", "SearchMode"]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
"""Called as `(done, total)` while long work (import, reindex, store_many) advances."""

_MAX_QUERY_CHARS = 2000


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
        self._index = IndexSync(settings, db, embedder.dim, embedder.model_id, database_id)
        self._log = QueryLog(db, settings)
        self._failures = IngestFailures(db, settings)
        self._writer = MemoryWriter(settings, db, keyword, self._batcher, embedder.model_id, self._index)
        self._upkeep = Upkeep(self._log, self._index, self.snapshot)
        self.key_cache: KeyCache[Any] = KeyCache(db)
        """API keys this process checked lately, shared by every `ApiKeys(core)` (memory_core/keys.py)."""
        self._upkeep.add(self.key_cache.write_last_used)
        self._closed = False

    # --- life cycle --------------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        settings: CoreSettings,
        *,
        embedder: Embedder | None = None,
        allow_model_mismatch: bool = False,
        lazy: bool = False,
    ) -> MemoryCore:
        """Open (and create) the database, load the embedder, and bring the vector index in step.

        `lazy=True` defers loading the model and the vector index (FAISS, snapshot, catch-up) to the
        first call that needs each: for short-lived processes such as one CLI command, where `get` or
        `tags` need neither. A server opens eagerly, so its first request pays for nothing.

        Raises:
            ModelMismatch: the database was built with another model (unless allow_model_mismatch).
            ConfigurationError: the database cannot be opened.
        """
        if settings.database_url is None:
            try:
                files.make_private_dir(settings.data_dir)  # 0700: the team's memory is in there
            except OSError as exc:
                raise ConfigurationError(
                    f"TEAMLORE_DATA_DIR {settings.data_dir} cannot be created: {exc}"
                ) from exc
        database_file = files.sqlite_file(settings.resolved_database_url)
        if database_file is not None and database_file.parent.is_dir():
            files.create_private_file(database_file)  # 0600, and so its -wal and -shm
        if embedder is None:
            embedder = await anyio.to_thread.run_sync(embedder_for, settings)
        shorten_switch_interval(settings.switch_interval_ms)  # see CoreOptions.switch_interval_ms
        db = Database(settings.resolved_database_url)
        keyword = keyword_index_for(db.dialect, secure_delete=db.fts_secure_delete)
        try:
            async with db.write() as conn:
                await conn.run_sync(metadata.create_all)
                await conn.run_sync(create_missing_indexes)
                await keyword.create(conn)
                database_id = await cls._check_meta(conn, embedder, allow_model_mismatch)
                await redact_old_rows(conn)
                await prune_failures(conn, settings.ingest_failure_days)
        except (ModelMismatch, ConfigurationError):
            await db.dispose()
            raise
        except (OSError, sa.exc.SQLAlchemyError) as exc:
            await db.dispose()
            raise ConfigurationError(f"cannot open the memory database ({db.dialect}): {exc}") from exc
        core = cls(settings, db, embedder, keyword, database_id)
        if not lazy:
            try:
                async with anyio.create_task_group() as tg:  # the model loads while the index does
                    tg.start_soon(anyio.to_thread.run_sync, warm_up, embedder)
                    tg.start_soon(core._index.load)
            except BaseException:
                await db.dispose()
                raise
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
                await self._index.close()  # an unfinished HNSW build is dropped; the snapshot keeps the rest
                await self._log.flush(force=True)
                if self._index.needs_snapshot():
                    await self.snapshot()
            except Exception:
                logger.exception("could not flush or snapshot while closing")
            self._index.close_watcher()
            await self._db.dispose()

    @property
    def embedding_model(self) -> str:
        return self._embedder.model_id

    @property
    def embedding_dim(self) -> int:
        return self._embedder.dim

    @property
    def database(self) -> Database:
        """The database handle, for the core's own modules (keys)."""
        return self._db

    async def run_background(self) -> None:
        """Do the core's background work until cancelled: write the query log and read counts, catch
        the index up with other processes' writes and write index snapshots, so no caller waits for
        them (memory_core/_upkeep.py). A server runs it in its task group; without it, each call does
        the work that is due at its end."""
        await self._upkeep.run()

    @property
    def background_running(self) -> bool:
        """True while `run_background` runs (the core's own modules then leave bookkeeping to it)."""
        return self._upkeep.running

    # --- index: catch up, snapshot -----------------------------------------------------------------

    async def snapshot(self) -> Path | None:
        """Write the index to the data directory so the next start needs no rebuild."""
        return await self._index.snapshot()

    async def prune_changes(self, older_than: timedelta | None = None) -> int:
        """Drop change-log entries older than `older_than` (default: `change_log_days`); return how many.

        The newest entry always stays, so sequence numbers never go back. The highest pruned sequence
        is kept in the meta table: a process whose index (or snapshot) is older than that cannot replay
        what it missed and rebuilds its index from SQL instead (see `sync`).
        """
        return await self._index.prune_changes(older_than)

    async def sync(self) -> int:
        """Apply the changes other processes (and this one) made since the index was last in step.

        Returns the number of change-log entries applied. An index so far behind that the entries it
        needs were pruned is rebuilt from SQL.
        """
        return await self._index.sync()

    async def wait_for_index(self) -> None:
        """Wait until no background index build is running (HNSW for a tenant past `approximate_above`,
        or a fresh one dropping tombstones); bound it with `anyio.fail_after`.

        Queries never need to wait: while a build runs, the index in use answers them (exact search
        over every vector on the first open of a large database). For benchmarks, tests and scripts.
        """
        await self._index.wait_for_builds()

    async def index_status(self, tenant: str) -> dict[str, Any]:
        """How the tenant's vector index compares with the database (for readiness and drift findings)."""
        return await self._index.status(tenant)

    async def health(self) -> dict[str, Any]:
        """Readiness facts: database reachable, every tenant's index in step with it, model loaded.

        `ready` is True only when all three hold. Never raises for a database problem: it reports it.
        """
        checks: dict[str, Any] = {"model": self._embedder.model_id, "model_loaded": self._embedder.dim > 0}
        try:
            await self._index.sync()
            drifted = await self._index.drifted_tenants()
            checks.update(
                database=True, index_in_step=not drifted, drifted_tenants=drifted, seq=self._index.indexes.seq
            )
            # Shown, not counted in `ready`: while HNSW builds, the index in use answers (exactly).
            checks["index_building"] = self._index.indexes.building
        except Exception as exc:  # reported, not raised: readiness must answer
            logger.warning("health check failed: %s", exc)
            checks.update(database=False, index_in_step=False, error=str(exc)[:200])
        checks["ready"] = bool(checks["database"] and checks["index_in_step"] and checks["model_loaded"])
        return checks

    async def rebuild_index(self, tenant: str | None = None) -> None:
        """Rebuild the vector index from SQL (one tenant or all) without re-embedding."""
        if tenant is None:
            await self._index.rebuild_all()
        else:
            await self._index.rebuild_tenant(check_tenant(tenant))

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
        result = await self._writer.store_one(tenant, self._writer.prepare(tenant, draft, redact=redact))
        await self._upkeep.after_call()
        return result

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
        Unlike `store`, a bulk store names no near-duplicates or possible contradictions (that would be
        a neighbour search and the conflict finder per memory, a few times the cost of the store): the
        quality report finds them among everything stored (`quality_report`, the scheduler's alerts).
        """
        check_tenant(tenant)
        rows = [self._writer.prepare(tenant, d, redact=redact) for d in drafts]
        results = await self._writer.store_rows(tenant, rows, on_progress=on_progress)
        await self._upkeep.after_call()
        return results

    # --- query ---------------------------------------------------------------------------------------

    async def query(
        self,
        tenant: str,
        text: str,
        *,
        filters: QueryFilters | None = None,
        limit: int = 5,
        mode: SearchMode = "hybrid",
        record: bool = True,
        trace: QueryTrace | None = None,
    ) -> list[Hit]:
        """Find the memories that best answer `text` (hybrid keyword + vector search, fused).

        Expired memories are hidden unless `filters.include_expired`. Hits scoring at least half of the
        best hit count as read (access count, last read; staleness is judged on them). `record=False`
        keeps the query out of the query log (which feeds knowledge-gap findings) and leaves access
        counts alone: for the core's own searches, such as reflection. Pass a `QueryTrace` to learn
        where the query's time went (per-stage seconds in `trace.stages`; benchmarks use it).

        Raises:
            InvalidInput: empty question or limit outside 1..100.
        """
        check_tenant(tenant)
        text = check_text(text, "question", required=False).strip()
        if not has_visible(text):
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
        hits, now = await run_query(
            self.settings,
            self._db,
            self._keyword,
            self._batcher,
            self._index,
            tenant,
            text,
            filters or QueryFilters(),
            limit,
            mode,
            trace,
        )
        if record:
            self._log.record(tenant, text, hits, now)
        await self._upkeep.after_call()
        logger.debug("query in %s: %d hits", tenant, len(hits))
        return hits

    # --- read ------------------------------------------------------------------------------------------

    async def get(self, tenant: str, memory_id: int, *, count_access: bool = True) -> Memory:
        """Return one memory. Raises NotFound (also for another tenant's id)."""
        check_tenant(tenant)
        async with self._db.read() as conn:
            row = await require(conn, tenant, memory_id)
        if count_access:
            self._log.count_access(memory_id)
        return row_to_memory(row)

    async def get_many(self, tenant: str, memory_ids: Iterable[int]) -> list[Memory]:
        """Return the memories that exist among `memory_ids`, in the given order; missing ids are skipped."""
        check_tenant(tenant)
        wanted = list(dict.fromkeys(memory_ids))
        async with self._db.read() as conn:
            found = await load_memories(conn, wanted, [memory_table.c.tenant == tenant])
        return [found[i] for i in wanted if i in found]

    async def find_by_source_ref(
        self, tenant: str, source_ref: str, *, source: Source | None = None
    ) -> Memory | None:
        """The oldest memory that came from `source_ref` (a Message-ID, a permalink), or None.

        Front-ends use it to make ingest idempotent: the same mail twice is one memory even when a
        relay changed its text.
        """
        check_tenant(tenant)
        where = [memory_table.c.tenant == tenant, memory_table.c.source_ref == source_ref]
        if source is not None:
            where.append(memory_table.c.source == source.value)
        stmt = sa.select(*MEMORY_COLUMNS).where(*where).order_by(memory_table.c.id).limit(1)
        async with self._db.read() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return None if row is None else row_to_memory(row)

    async def recent(
        self, tenant: str, *, limit: int = 20, offset: int = 0, filters: QueryFilters | None = None
    ) -> list[Memory]:
        """The newest memories first, filtered like a query (expired hidden by default); `offset` pages."""
        check_tenant(tenant)
        where = conditions(tenant, filters or QueryFilters(), utcnow())
        async with self._db.read() as conn:
            rows = await conn.execute(
                sa.select(*MEMORY_COLUMNS)
                .where(*where)
                .order_by(memory_table.c.created_at.desc(), memory_table.c.id.desc())
                .limit(max(1, min(limit, 1000)))
                .offset(max(0, offset))
            )
            return [row_to_memory(r) for r in rows.mappings()]

    # --- update and delete ------------------------------------------------------------------------------

    async def update(self, tenant: str, memory_id: int, patch: MemoryPatch, *, actor: Actor) -> Memory:
        """Change a memory; a new text is re-checked (size, secrets, duplicates) and re-embedded.

        Only the author or an admin may change a memory.

        Raises:
            NotFound, InvalidInput, Duplicate (the new text is another memory's), PermissionDenied.
        """
        check_tenant(tenant)
        return await self._writer.update(tenant, memory_id, patch, actor=actor)

    async def delete(self, tenant: str, memory_id: int, *, actor: Actor) -> None:
        """Delete for real: row, vector and keyword entry; an audit row records who, which id and when.

        Only the memory's author (`author_id == actor.id`) or an admin may delete.

        Raises:
            NotFound, PermissionDenied.
        """
        check_tenant(tenant)
        await self._writer.delete(tenant, memory_id, actor=actor)

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
        await self._index.sync()
        return Stats(
            tenant=tenant,
            memories=total,
            expired=expired,
            by_kind=by_kind,
            by_source=by_source,
            top_tags=tuple((await self.list_tags(tenant))[:10]),
            indexed_vectors=self._index.size(tenant),
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
        async for record in export_records(self._db, tenant):
            yield record

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
        return await import_records(
            self._db,
            self._writer,
            tenant,
            records,
            model_id=self._embedder.model_id,
            dim=self._embedder.dim,
            redact=redact,
            on_progress=on_progress,
        )

    async def reindex(self, *, on_progress: ProgressCallback | None = None) -> int:
        """Re-embed every memory of every tenant with the configured model and rebuild the indexes.

        Memories already embedded with the configured model are skipped, so an interrupted reindex
        resumes where it stopped. Returns the number of memories re-embedded. This is the cure for
        ModelMismatch.
        """
        return await reindex_all(
            self._db,
            self._batcher,
            self._index,
            model_id=self._embedder.model_id,
            dim=self._embedder.dim,
            on_progress=on_progress,
        )

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
        from ._reflect import ReflectContext  # imported on use: a CLI query need not pay for it (~0.1 s)
        from ._reflect import reflect as write_reflection

        context = ReflectContext(
            memories=self,
            settings=self.settings,
            db=self._db,
            batcher=self._batcher,
            model_id=self._embedder.model_id,
            dim=self._embedder.dim,
        )
        return await write_reflection(
            context, tenant, topic, filters=filters, limit=limit, dry_run=dry_run, actor=actor
        )

    async def quality_report(self, tenant: str, *, save: bool = True) -> QualityReport:
        """Score the tenant's memory 0-100 with findings; saved (unless save=False) so trends show."""
        from ._quality import QualityContext, build_report  # imported on use, like _reflect

        context = QualityContext(
            settings=self.settings,
            db=self._db,
            batcher=self._batcher,
            query_log=self._log,
            index_status=self._index.status,
            model_id=self._embedder.model_id,
            dim=self._embedder.dim,
        )
        return await build_report(context, tenant, save=save)

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
        return await self._failures.count(tenant, since=since)

    async def record_ingest_failure(
        self, tenant: str | None, *, source: Source, reason: str, ref: str | None = None
    ) -> None:
        """Remember that a front-end refused or failed to ingest something (e.g. a rejected mail).

        `tenant` may be None when the refusal happened before a tenant was known (unknown recipient).
        The reason and reference are redacted like queries; failures are kept `ingest_failure_days`.
        """
        await self._failures.record(tenant, source=source, reason=reason, ref=ref)
