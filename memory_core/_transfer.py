"""Moving memories in bulk: export with vectors, import (ids kept when free), reindex with another model."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import sqlalchemy as sa

from ._db import Database, to_db_time, utcnow
from ._index_sync import IndexSync
from ._rows import chunks, log_changes, row_to_memory, usable_vector, vector_bytes
from ._schema import memory_table, meta_table
from ._store import BULK_CHUNK, MemoryWriter, NewRow
from .embedding import MicroBatcher
from .types import ExportRecord, MemoryDraft, StoreResult

__all__ = ["export_records", "import_records", "reindex_all"]

logger = logging.getLogger(__name__)

_EXPORT_PAGE = 1000


async def export_records(db: Database, tenant: str) -> AsyncIterator[ExportRecord]:
    """See `MemoryCore.export`."""
    last_id = 0
    while True:
        async with db.read() as conn:
            rows = (
                (
                    await conn.execute(
                        sa.select(memory_table)
                        .where(memory_table.c.tenant == tenant, memory_table.c.id > last_id)
                        .order_by(memory_table.c.id)
                        .limit(_EXPORT_PAGE)
                    )
                )
                .mappings()
                .all()
            )
        if not rows:
            return
        for row in rows:
            memory = row_to_memory(row)
            yield ExportRecord(
                **memory.model_dump(exclude={"tenant", "content_hash", "access_count", "last_accessed_at"}),
                embedding=base64.b64encode(row["embedding"]).decode("ascii"),
            )
        last_id = rows[-1]["id"]


def _row(
    writer: MemoryWriter, tenant: str, record: ExportRecord, redact: bool, model_id: str, dim: int
) -> NewRow:
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
    row = writer.prepare(tenant, draft, redact=redact)
    row.explicit_id = row.original_id = record.id
    row.links = record.links
    row.updated_at = record.updated_at
    row.superseded_by = record.superseded_by
    if record.embedding and record.embedding_model == model_id and row.text == record.text:
        row.vector = usable_vector(base64.b64decode(record.embedding), record.embedding_model, model_id, dim)
    return row


async def import_records(
    db: Database,
    writer: MemoryWriter,
    tenant: str,
    records: Iterable[ExportRecord],
    *,
    model_id: str,
    dim: int,
    redact: bool,
    on_progress: Callable[[int, int], None] | None,
) -> list[StoreResult]:
    """See `MemoryCore.import_`."""
    rows = [_row(writer, tenant, record, redact, model_id, dim) for record in records]
    results = await writer.store_rows(tenant, rows, on_progress=on_progress)
    await _remap_links(db, rows, results)
    return results


async def _remap_links(db: Database, rows: list[NewRow], results: list[StoreResult]) -> None:
    """Ids that could not be kept: point supersedes/superseded_by/links at the new ids."""
    remap = {
        r.original_id: res.memory.id
        for r, res in zip(rows, results, strict=True)
        if r.original_id is not None and r.original_id != res.memory.id
    }
    if not remap:
        return
    async with db.write() as conn:
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
                await conn.execute(sa.update(memory_table).where(memory_table.c.id == m.id).values(**values))


async def reindex_all(
    db: Database,
    batcher: MicroBatcher,
    index: IndexSync,
    *,
    model_id: str,
    dim: int,
    on_progress: Callable[[int, int], None] | None,
) -> int:
    """See `MemoryCore.reindex`."""
    async with db.read() as conn:
        todo = list(
            (
                await conn.execute(
                    sa.select(memory_table.c.id)
                    .where(memory_table.c.embedding_model != model_id)
                    .order_by(memory_table.c.id)
                )
            ).scalars()
        )
    done = 0
    for chunk in chunks(todo, BULK_CHUNK):
        async with db.read() as conn:
            rows = (
                await conn.execute(
                    sa.select(memory_table.c.id, memory_table.c.tenant, memory_table.c.text).where(
                        memory_table.c.id.in_(chunk)
                    )
                )
            ).all()
        matrix = await batcher.embed_many([r[2] for r in rows])
        now = to_db_time(utcnow())
        async with db.write() as conn:
            for (memory_id, _tenant, _text), vector in zip(rows, matrix, strict=True):
                await conn.execute(
                    sa.update(memory_table)
                    .where(memory_table.c.id == memory_id)
                    .values(embedding=vector_bytes(vector), embedding_model=model_id)
                )
            await log_changes(conn, [(t, i) for i, t, _ in rows], "upsert", now)
        done += len(chunk)
        if on_progress is not None:
            on_progress(done, len(todo))
    async with db.write() as conn:
        for key, value in (("embedding_model", model_id), ("embedding_dim", str(dim))):
            await conn.execute(sa.delete(meta_table).where(meta_table.c.key == key))
            await conn.execute(sa.insert(meta_table).values(key=key, value=value))
    await index.rebuild_all()
    await index.snapshot()
    if on_progress is not None and not todo:
        on_progress(0, 0)
    logger.info("reindexed %d memories with %s", done, model_id)
    return done
