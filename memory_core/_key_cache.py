"""The API keys one process checked lately, and their last uses not written yet (read by keys.py)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Generic, Protocol, TypeVar

import sqlalchemy as sa

from ._db import Database, to_db_time
from ._schema import api_key_table
from .errors import Unavailable

__all__ = ["KeyCache"]

logger = logging.getLogger(__name__)


class _Identified(Protocol):
    @property
    def id(self) -> int: ...


_Info = TypeVar("_Info", bound=_Identified)


class KeyCache(Generic[_Info]):
    """The keys this process checked lately, by the SHA-256 of their secret, and their last uses not
    written yet. One per `MemoryCore` (`core.key_cache`), shared by every `ApiKeys` on it (REST, MCP over
    HTTP, the web UI): a revoke through any of them evicts at once. The core's background task writes
    the last uses (`write_last_used`)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.checked: dict[str, tuple[_Info, float]] = {}
        self.used: dict[int, datetime] = {}  # the last use known here, by key id
        self.unwritten: dict[int, datetime] = {}  # last uses the database lacks

    def forget(self, key_id: int) -> None:
        for digest in [d for d, (info, _at) in self.checked.items() if info.id == key_id]:
            del self.checked[digest]

    async def write_last_used(self) -> None:
        """Write the keys' last uses that wait (every half second while a server runs)."""
        pending, self.unwritten = self.unwritten, {}
        if not pending:
            return
        try:
            async with self._db.write() as conn:
                await conn.execute(
                    sa.update(api_key_table)
                    .where(api_key_table.c.id == sa.bindparam("key_id"))
                    .values(last_used_at=sa.bindparam("used_at")),
                    [{"key_id": k, "used_at": to_db_time(at)} for k, at in pending.items()],
                )
        except Unavailable:
            # Bookkeeping only: a busy database must not turn a valid key away; tried again later.
            logger.warning("could not record the use of %d API key(s)", len(pending))
            self.unwritten = {**pending, **self.unwritten}
