"""Rows and SQL helpers: rows to Memory values, chunked reads, the one writer of tag and change-log rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from ._db import Database, from_db_time, to_db_time, utcnow
from ._index import Vectors
from ._schema import change_table, memory_table, memory_tag_table
from ._sqlite_reads import parse_db_time, placeholders
from .errors import NotFound
from .types import Importance, Memory, Source

__all__ = [
    "FACT_COLUMNS",
    "MEMORY_COLUMNS",
    "SQL_CHUNK",
    "chunks",
    "existing_by_hash",
    "load_memories",
    "load_memories_raw",
    "log_changes",
    "require",
    "row_to_memory",
    "stored_vectors",
    "taken_ids",
    "usable_vector",
    "vector_bytes",
    "write_tags",
]

SQL_CHUNK = 500
"""Ids per `IN (...)` list: well below SQLite's and asyncpg's parameter limits."""

_MAX_ID = 2**63 - 1

# Every column but the vector: what reads need to build a Memory.
MEMORY_COLUMNS = [c for c in memory_table.c if c.name != "embedding"]
# What ranking reads of every candidate (see `_search.CandidateFacts`).
FACT_COLUMNS = [
    memory_table.c.id,
    memory_table.c.created_at,
    memory_table.c.importance,
    memory_table.c.author,
    memory_table.c.author_id,
]

_T = TypeVar("_T")


def chunks(items: Sequence[_T], size: int = SQL_CHUNK) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def vector_bytes(vector: Vectors) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def usable_vector(blob: bytes, row_model: str | None, model_id: str, dim: int) -> Vectors | None:
    """The stored vector when the configured model made it (and its shape fits), else None."""
    if row_model != model_id:
        return None
    vector = np.frombuffer(blob, dtype=np.float32)
    return vector if vector.shape == (dim,) else None


async def stored_vectors(
    db: Database,
    embed_many: Callable[[list[str]], Awaitable[Vectors]],
    tenant: str,
    memories: Sequence[Memory],
    model_id: str,
    dim: int,
) -> Vectors:
    """The vectors of `memories` (rows aligned): the stored one if the model matches, else re-embedded."""
    found: dict[int, Vectors] = {}
    ids = [m.id for m in memories]
    async with db.read() as conn:
        for chunk in chunks(ids):
            rows = await conn.execute(
                sa.select(memory_table.c.id, memory_table.c.embedding, memory_table.c.embedding_model).where(
                    memory_table.c.tenant == tenant, memory_table.c.id.in_(chunk)
                )
            )
            for memory_id, blob, row_model in rows:
                vector = usable_vector(blob, row_model, model_id, dim)
                if vector is not None:
                    found[memory_id] = vector
    missing = [m for m in memories if m.id not in found]
    if missing:
        for memory, vector in zip(missing, await embed_many([m.text for m in missing]), strict=True):
            found[memory.id] = vector
    if not memories:
        return np.zeros((0, dim), dtype=np.float32)
    return np.ascontiguousarray(np.stack([found[m.id] for m in memories]), dtype=np.float32)


def _split_ints(value: str | None) -> tuple[int, ...]:
    return tuple(int(v) for v in (value or "").split() if v)


def row_to_memory(row: RowMapping | Mapping[str, Any]) -> Memory:
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


def check_id(memory_id: int) -> None:
    """An id no database can hold is simply not there (not a 64-bit overflow deep in the driver)."""
    if not isinstance(memory_id, int) or not 1 <= memory_id <= _MAX_ID:
        raise NotFound(memory_id)


async def require(conn: AsyncConnection, tenant: str, memory_id: int) -> RowMapping:
    """The row of memory `memory_id` of `tenant`. Raises NotFound (also for another tenant's id)."""
    check_id(memory_id)
    row = (
        (
            await conn.execute(
                sa.select(*MEMORY_COLUMNS).where(
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


async def load_memories(
    conn: AsyncConnection, memory_ids: Sequence[int], conditions: list[sa.ColumnElement[bool]]
) -> dict[int, Memory]:
    """The memories among `memory_ids` that meet `conditions`, by id (read in chunks)."""
    found: dict[int, Memory] = {}
    for chunk in chunks(list(memory_ids)):
        rows = await conn.execute(sa.select(*MEMORY_COLUMNS).where(memory_table.c.id.in_(chunk), *conditions))
        for row in rows.mappings():
            found[row["id"]] = row_to_memory(row)
    return found


_MEMORY_SQL = "SELECT " + ", ".join(c.name for c in MEMORY_COLUMNS) + " FROM memory WHERE id IN ({ids})"
_TIME_COLUMNS = ("created_at", "updated_at", "expires_at", "last_accessed_at")


def load_memories_raw(cursor: Any, memory_ids: Sequence[int]) -> dict[int, Memory]:
    """`load_memories` without conditions, on a DB-API cursor (memory_core/_sqlite_reads.py)."""
    found: dict[int, Memory] = {}
    for chunk in chunks(list(memory_ids)):
        cursor.execute(_MEMORY_SQL.format(ids=placeholders(len(chunk))), tuple(chunk))
        names = [d[0] for d in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            for name in _TIME_COLUMNS:
                row[name] = parse_db_time(row[name])
            found[row["id"]] = row_to_memory(row)
    return found


async def existing_by_hash(db: Database, tenant: str, hashes: Sequence[str]) -> dict[str, int]:
    """The ids of the memories of `tenant` whose content hash is among `hashes`, by hash."""
    found: dict[str, int] = {}
    async with db.read() as conn:
        for chunk in chunks(list(hashes)):
            rows = await conn.execute(
                sa.select(memory_table.c.content_hash, memory_table.c.id).where(
                    memory_table.c.tenant == tenant, memory_table.c.content_hash.in_(chunk)
                )
            )
            found.update(dict(rows.all()))
    return found


async def taken_ids(conn: AsyncConnection, ids: Iterable[int | None]) -> set[int]:
    """Which of `ids` already belong to a memory (of any tenant)."""
    wanted = [i for i in ids if i is not None]
    taken: set[int] = set()
    for chunk in chunks(wanted):
        taken.update(
            (await conn.execute(sa.select(memory_table.c.id).where(memory_table.c.id.in_(chunk)))).scalars()
        )
    return taken


async def write_tags(
    conn: AsyncConnection, tags_of: Sequence[tuple[int, str, Sequence[str]]], *, replace: bool
) -> None:
    """Write the tag rows of `(memory_id, tenant, tags)`; `replace` drops the memories' old tags first."""
    if replace and tags_of:
        await conn.execute(
            sa.delete(memory_tag_table).where(memory_tag_table.c.memory_id.in_([m for m, _t, _g in tags_of]))
        )
    rows = [
        {"memory_id": memory_id, "tag": tag, "tenant": tenant}
        for memory_id, tenant, tags in tags_of
        for tag in tags
    ]
    if rows:
        await conn.execute(sa.insert(memory_tag_table), rows)


async def log_changes(
    conn: AsyncConnection,
    changed: Sequence[tuple[str, int]],
    op: Literal["upsert", "delete"],
    at: datetime | None = None,
) -> None:
    """Append `(tenant, memory_id)` changes to the change log, which every process's index replays."""
    if changed:
        when = at if at is not None else to_db_time(utcnow())
        await conn.execute(
            sa.insert(change_table),
            [
                {"tenant": tenant, "memory_id": memory_id, "op": op, "at": when}
                for tenant, memory_id in changed
            ],
        )
