"""The query log and read counts: kept in memory by the caller, written to SQL in batches off its path."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from . import hygiene
from ._db import Database, to_db_time, utcnow
from ._schema import memory_table, query_log_table
from .config import CoreSettings
from .errors import Unavailable
from .types import Hit

__all__ = ["FLUSH_SECONDS", "QueryLog"]

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 2.0
"""How long queries and reads wait in memory at most (unless `FLUSH_ROWS` pile up first)."""
FLUSH_ROWS = 200
# When the database stays unavailable, at most this many queries wait in memory; older ones go first
# (statistics, not memories: the knowledge-gap finding loses a few questions, nothing else does).
_MAX_PENDING_QUERIES = 20_000
_READ_SHARE = 0.5  # a hit counts as read when it scores at least this share of the best hit


@dataclass
class _Pending:
    queries: list[dict[str, Any]] = field(default_factory=list)
    accessed: dict[int, int] = field(default_factory=dict)
    since: float = field(default_factory=time.monotonic)


class QueryLog:
    """Queries asked (for knowledge-gap findings) and memories read, written to SQL in batches.

    `record` and `count_access` only touch memory; `flush` writes what piled up in one transaction
    (the core's background task calls it, see memory_core/_upkeep.py). A flush that fails keeps its
    rows for the next one.
    """

    def __init__(self, db: Database, settings: CoreSettings) -> None:
        self._db = db
        self._settings = settings
        self._pending = _Pending()

    def count_access(self, memory_id: int) -> None:
        self._pending.accessed[memory_id] = self._pending.accessed.get(memory_id, 0) + 1

    def record(self, tenant: str, text: str, hits: list[Hit], now: datetime) -> None:
        """Log the question and its best cosine; the hits near the best one count as read."""
        best_similarity = max((h.breakdown.vector_similarity or 0.0 for h in hits), default=None)
        self._pending.queries.append(
            {
                "tenant": tenant,
                "text": hygiene.redact_secrets(text)[:1000],
                "best_similarity": best_similarity,
                "hits": len(hits),
                "at": to_db_time(now),
            }
        )
        # The tail of a weak list is not a sign anyone relied on a memory (staleness reads this).
        for h in hits:
            if h.score >= _READ_SHARE * hits[0].score:
                self.count_access(h.memory.id)

    @property
    def pending(self) -> int:
        return len(self._pending.queries) + len(self._pending.accessed)

    def due(self) -> bool:
        """Something waits, and it waited `FLUSH_SECONDS` or `FLUSH_ROWS` queries piled up."""
        pending = self._pending
        if not (pending.queries or pending.accessed):
            return False
        return time.monotonic() - pending.since >= FLUSH_SECONDS or len(pending.queries) >= FLUSH_ROWS

    async def flush(self, *, force: bool = False) -> None:
        """Write query-log rows and access counts in one transaction: statistics are not worth a write
        per query. Without `force`, only when `due()`."""
        if not (self.due() if not force else self.pending):
            return
        taken, self._pending = self._pending, _Pending()
        now = to_db_time(utcnow())
        try:
            async with self._db.write() as conn:
                if taken.queries:
                    await conn.execute(sa.insert(query_log_table), taken.queries)
                if taken.accessed:
                    await conn.execute(
                        sa.update(memory_table)
                        .where(memory_table.c.id == sa.bindparam("memory_id"))
                        .values(
                            access_count=memory_table.c.access_count + sa.bindparam("reads"),
                            last_accessed_at=now,
                        ),
                        [{"memory_id": m, "reads": n} for m, n in taken.accessed.items()],
                    )
                if self._settings.query_log_days:
                    cutoff = utcnow() - timedelta(days=self._settings.query_log_days)
                    await conn.execute(sa.delete(query_log_table).where(query_log_table.c.at < cutoff))
        except Unavailable:
            self._put_back(taken)
            raise

    def _put_back(self, taken: _Pending) -> None:
        """Rows of a failed flush go back in front of what arrived meanwhile (kept for the next one)."""
        newer = self._pending
        queries = taken.queries + newer.queries
        dropped = len(queries) - _MAX_PENDING_QUERIES
        if dropped > 0:
            logger.warning("query log: the database stays unavailable; dropped %d old queries", dropped)
            del queries[:dropped]
        accessed = dict(taken.accessed)
        for memory_id, reads in newer.accessed.items():
            accessed[memory_id] = accessed.get(memory_id, 0) + reads
        self._pending = _Pending(queries, accessed, taken.since)
