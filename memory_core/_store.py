"""The write path: validate and embed new memories, insert them in bulk, update and delete for real."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from . import hygiene
from ._analysis import store_conflicts
from ._db import Database, to_db_time, utcnow
from ._index import Vectors
from ._index_sync import IndexSync
from ._keyword import KeywordIndex
from ._rows import (
    existing_by_hash,
    load_memories,
    load_memories_raw,
    log_changes,
    require,
    row_to_memory,
    taken_ids,
    vector_bytes,
    write_tags,
)
from ._schema import audit_table, memory_table
from .config import CoreSettings
from .embedding import MicroBatcher
from .errors import Duplicate, InvalidInput, NotFound, PermissionDenied, TooLarge
from .types import Actor, Memory, MemoryDraft, MemoryPatch, StoreResult

__all__ = ["BULK_CHUNK", "MemoryWriter", "NewRow"]

logger = logging.getLogger(__name__)

BULK_CHUNK = 256
"""Memories per embedding call and write transaction on the bulk paths (store_many, import, reindex)."""


@dataclass
class NewRow:
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


def _valid_kind(kind: str) -> str:
    try:
        return MemoryDraft(text="x", kind=kind).kind
    except ValidationError as exc:
        raise InvalidInput("kind must be a short lower-case word such as note, decision or incident") from exc


def _check_may_change(row: RowMapping, actor: Actor, verb: str) -> None:
    if actor.is_admin or (row["author_id"] is not None and row["author_id"] == actor.id):
        return
    who = row["author"] or row["author_id"] or "someone else"
    raise PermissionDenied(f"only {who} (who stored #{row['id']}) or an admin can {verb} it")


class MemoryWriter:
    """Every write of a memory row; each keeps tags, keyword entries and the change log in step."""

    def __init__(
        self,
        settings: CoreSettings,
        db: Database,
        keyword: KeywordIndex,
        batcher: MicroBatcher,
        model_id: str,
        index: IndexSync,
    ) -> None:
        self.settings = settings
        self._db = db
        self._keyword = keyword
        self._batcher = batcher
        self._model_id = model_id
        self._index = index

    def prepare(self, tenant: str, draft: MemoryDraft, *, redact: bool) -> NewRow:
        """Check size and secrets in every field (redacting them when asked); the row to insert."""
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
        # The one credential guard: text, title, author, source_ref and tags (memory_core/hygiene.py).
        draft, redacted = hygiene.guard_draft(draft.model_copy(update={"text": text}), redact=redact)
        return NewRow(
            tenant=tenant,
            draft=draft,
            text=draft.text,
            content_hash=hygiene.content_hash(draft.text),
            redacted=redacted,
            links=draft.links,
        )

    async def _memory(self, tenant: str, memory_id: int) -> Memory:
        if self._db.sqlite_reads is not None:
            found = (await self._raw_memories(tenant, [memory_id])).get(memory_id)
            if found is None:
                raise NotFound(memory_id)
            return found
        async with self._db.read() as conn:
            return row_to_memory(await require(conn, tenant, memory_id))

    async def _raw_memories(
        self, tenant: str, memory_ids: list[int], content_hash: str = ""
    ) -> dict[int, Memory]:
        """The tenant's memories among `memory_ids` (and the one holding `content_hash`, if any), read in
        one worker-thread call on SQLite's read connections (memory_core/_sqlite_reads.py)."""
        reads = self._db.sqlite_reads
        assert reads is not None

        def read() -> dict[int, Memory]:
            with reads.transaction() as cursor:
                wanted = list(memory_ids)
                if content_hash:
                    sql = "SELECT id FROM memory WHERE tenant = ? AND content_hash = ?"
                    wanted += [int(r[0]) for r in cursor.execute(sql, (tenant, content_hash))]
                found = load_memories_raw(cursor, wanted)
            return {i: m for i, m in found.items() if m.tenant == tenant}

        return await anyio.to_thread.run_sync(read, limiter=reads.limiter)

    async def _duplicate(self, tenant: str, row: NewRow) -> StoreResult | None:
        if self._db.sqlite_reads is not None:
            found = await self._raw_memories(tenant, [], row.content_hash)
            memory = next((m for m in found.values() if m.content_hash == row.content_hash), None)
            if memory is None:
                return None
        else:
            existing = await existing_by_hash(self._db, tenant, [row.content_hash])
            if row.content_hash not in existing:
                return None
            memory = await self._memory(tenant, existing[row.content_hash])
        return StoreResult(memory=memory, created=False, duplicate_of=memory.id, redacted=row.redacted)

    async def store_one(self, tenant: str, row: NewRow) -> StoreResult:
        """See `MemoryCore.store`."""
        duplicate = await self._duplicate(tenant, row)
        if duplicate is not None:
            # Storing the same text again with `supersedes` is how a user confirms a warned contradiction.
            if row.draft.supersedes is not None and row.draft.supersedes != duplicate.id:
                await self._supersede(tenant, row.draft.supersedes, duplicate.id)
                duplicate = duplicate.model_copy(update={"memory": await self._memory(tenant, duplicate.id)})
            return duplicate
        row.vector = await self._batcher.embed_one(row.text)
        await self._index.sync()
        # Neighbours and the finder's candidates as of before this write (the new memory is not among them).
        neighbours, candidates = await self._nearest(tenant, row)
        near = [m for m, sim in neighbours if sim >= self.settings.near_duplicate_threshold]
        draft = row.draft
        contradicts = store_conflicts(
            row.text, draft.kind, draft.tags, candidates, self.settings.quality, now=utcnow()
        )
        try:
            async with self._db.write() as conn:
                if draft.supersedes is not None:
                    await require(conn, tenant, draft.supersedes)
                (memory_id,) = await self._insert(conn, [row])
                if draft.supersedes is not None:
                    await conn.execute(
                        sa.update(memory_table)
                        .where(memory_table.c.id == draft.supersedes)
                        .values(superseded_by=memory_id, updated_at=to_db_time(utcnow()))
                    )
        except IntegrityError:
            # Another process stored the same text between our check and our insert.
            duplicate = await self._duplicate(tenant, row)
            if duplicate is None:
                raise
            return duplicate
        await self._index.sync()
        memory = await self._memory(tenant, memory_id)
        logger.debug("stored #%d in %s", memory_id, tenant)
        return StoreResult(
            memory=memory,
            created=True,
            near_duplicates=tuple(near),
            redacted=row.redacted,
            contradicts=contradicts,
        )

    async def _nearest(
        self, tenant: str, row: NewRow
    ) -> tuple[list[tuple[int, float]], list[tuple[Memory, float]]]:
        """The nearest stored memories (near-duplicate candidates) and those of them the conflict finder
        reads, with their cosine; on SQLite the FAISS search and the row reads are one worker-thread call."""
        assert row.vector is not None
        vector = row.vector
        k = max(5, self.settings.quality.conflict_neighbours)
        # Below `conflict_similarity` the finder is not asked (store_conflicts): not worth reading either.
        floor = self.settings.quality.conflict_similarity
        supersedes = row.draft.supersedes

        def wanted(neighbours: list[tuple[int, float]]) -> list[tuple[int, float]]:
            return [(m, sim) for m, sim in neighbours if m != supersedes and sim >= floor]

        reads = self._db.sqlite_reads
        if reads is not None:
            index = self._index.indexes.tenants.get(tenant)

            def read() -> tuple[list[tuple[int, float]], dict[int, Memory]]:
                neighbours = index.search(vector, k) if index is not None and len(index) else []
                ids = [m for m, _ in wanted(neighbours)]
                if not ids:
                    return neighbours, {}
                with reads.transaction() as cursor:
                    found = load_memories_raw(cursor, ids)
                return neighbours, {i: m for i, m in found.items() if m.tenant == tenant}

            neighbours, found = await anyio.to_thread.run_sync(read, limiter=reads.limiter)
        else:
            neighbours = await self._index.search(tenant, vector, k) if self._index.size(tenant) else []
            found = {}
            if ids := [m for m, _ in wanted(neighbours)]:
                async with self._db.read() as conn:
                    found = await load_memories(conn, ids, [memory_table.c.tenant == tenant])
        return neighbours, [(found[m], sim) for m, sim in wanted(neighbours) if m in found]

    async def _supersede(self, tenant: str, old: int, new: int) -> None:
        async with self._db.write() as conn:
            await require(conn, tenant, old)
            await conn.execute(
                sa.update(memory_table)
                .where(memory_table.c.id == old, memory_table.c.tenant == tenant)
                .values(superseded_by=new, updated_at=to_db_time(utcnow()))
            )
            await conn.execute(
                sa.update(memory_table)
                .where(memory_table.c.id == new, memory_table.c.supersedes.is_(None))
                .values(supersedes=old)
            )

    async def _insert(self, conn: AsyncConnection, rows: Sequence[NewRow]) -> list[int]:
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
                "embedding_model": self._model_id,
                "embedding": vector_bytes(r.vector),
                "access_count": 0,
                "last_accessed_at": None,
            }
            if r.explicit_id is not None:
                value["id"] = r.explicit_id
            values.append(value)
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
        await write_tags(
            conn, [(i, r.tenant, r.draft.tags) for i, r in zip(ids, rows, strict=True)], replace=False
        )
        await self._keyword.add(conn, values)
        await log_changes(conn, [(r.tenant, i) for i, r in zip(ids, rows, strict=True)], "upsert", now)
        return ids

    async def store_rows(
        self, tenant: str, rows: list[NewRow], *, on_progress: Callable[[int, int], None] | None
    ) -> list[StoreResult]:
        """See `MemoryCore.store_many`: rows in chunks, embedded where they carry no vector yet."""
        total = len(rows)
        results: list[StoreResult | None] = [None] * total
        first_of_hash: dict[str, int] = {}
        done = 0
        for start in range(0, total, BULK_CHUNK):
            chunk = rows[start : start + BULK_CHUNK]
            existing = await existing_by_hash(self._db, tenant, [r.content_hash for r in chunk])
            fresh: list[tuple[int, NewRow]] = []
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
                    taken = await taken_ids(conn, [r.explicit_id for _, r in fresh if r.explicit_id])
                    for _, r in fresh:
                        if r.explicit_id in taken:
                            r.explicit_id = None
                    ids = await self._insert(conn, [r for _, r in fresh])
                memories = await self._memories(tenant, ids)
                for (position, row), memory_id in zip(fresh, ids, strict=True):
                    results[position] = StoreResult(
                        memory=memories[memory_id], created=True, redacted=row.redacted
                    )
                    existing[row.content_hash] = memory_id
                await self._index.sync()
            done += len(chunk)
            if on_progress is not None:
                on_progress(done, total)
        # Duplicates point at the memory their text already lives in.
        all_hashes = {r.content_hash for r, res in zip(rows, results, strict=True) if res is None}
        known = await existing_by_hash(self._db, tenant, list(all_hashes))
        dup_memories = await self._memories(tenant, list(known.values()))
        for position, row in enumerate(rows):
            if results[position] is None:
                memory = dup_memories[known[row.content_hash]]
                results[position] = StoreResult(
                    memory=memory, created=False, duplicate_of=memory.id, redacted=row.redacted
                )
        return [r for r in results if r is not None]

    async def _memories(self, tenant: str, memory_ids: list[int]) -> dict[int, Memory]:
        async with self._db.read() as conn:
            return await load_memories(
                conn, list(dict.fromkeys(memory_ids)), [memory_table.c.tenant == tenant]
            )

    async def update(self, tenant: str, memory_id: int, patch: MemoryPatch, *, actor: Actor) -> Memory:
        """See `MemoryCore.update`."""
        patch, _ = hygiene.guard_draft(patch, redact=False)  # title and tags; the text below
        new_text: NewRow | None = None
        if patch.text is not None:
            new_text = self.prepare(tenant, MemoryDraft(text=patch.text), redact=False)
            new_text.vector = await self._batcher.embed_one(new_text.text)
        async with self._db.write() as conn:
            row = await require(conn, tenant, memory_id)
            _check_may_change(row, actor, "change")
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
                if patch.superseded_by == memory_id:
                    raise InvalidInput("a memory cannot supersede itself")
                await require(conn, tenant, patch.superseded_by)
                values["superseded_by"] = patch.superseded_by
                # Both ends of the link, as a store with `supersedes` writes them (a link it has kept).
                await conn.execute(
                    sa.update(memory_table)
                    .where(memory_table.c.id == patch.superseded_by, memory_table.c.supersedes.is_(None))
                    .values(supersedes=memory_id)
                )
            if patch.tags is not None:
                values["tags"] = " ".join(patch.tags)
                await write_tags(conn, [(memory_id, tenant, patch.tags)], replace=True)
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
                    embedding=vector_bytes(new_text.vector),
                    embedding_model=self._model_id,
                )
            await conn.execute(sa.update(memory_table).where(memory_table.c.id == memory_id).values(**values))
            if "text" in values or "tags" in values or "title" in values:
                fresh = await require(conn, tenant, memory_id)
                await self._keyword.remove(conn, [memory_id])
                await self._keyword.add(conn, [dict(fresh)])
            if "embedding" in values:
                await log_changes(conn, [(tenant, memory_id)], "upsert")
        await self._index.sync()
        return await self._memory(tenant, memory_id)

    async def delete(self, tenant: str, memory_id: int, *, actor: Actor) -> None:
        """See `MemoryCore.delete`."""
        now = to_db_time(utcnow())
        async with self._db.write() as conn:
            row = await require(conn, tenant, memory_id)
            _check_may_change(row, actor, "forget")
            await self._keyword.remove(conn, [memory_id])
            await write_tags(conn, [(memory_id, tenant, ())], replace=True)
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
            await log_changes(conn, [(tenant, memory_id)], "delete", now)
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
        await self._index.sync()
        logger.info("deleted #%d in %s by %s", memory_id, tenant, actor.id)
