"""A cheap "has anything been committed since?" check for SQLite, so an idle catch-up costs no query.

SQLite's `PRAGMA data_version` on one connection changes whenever *any other* connection (this
process's pool or another process) commits to the database file. The watcher keeps one private
connection for it, used only from the event loop's thread: reading the pragma takes microseconds and
never waits (no busy timeout; a busy or broken watcher just answers "unknown" and the caller reads the
change log as before). PostgreSQL has no such counter: there, `version()` is always None.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from types import ModuleType
from typing import Any

import sqlalchemy as sa

logger = logging.getLogger(__name__)

__all__ = ["ChangeWatcher"]


class ChangeWatcher:
    """`version()`: a number that changes when a commit happened since the last call, or None if unknown."""

    def __init__(self, url: str, module: ModuleType | None) -> None:
        self._module = module
        self._path: str | None = None
        self._uri = False
        self._conn: Any = None
        self._thread: int | None = None
        if module is None:
            return
        database = sa.make_url(url).database or ""
        # An in-memory database is private to each connection: a watcher would watch nothing.
        if database and database != ":memory:" and "mode=memory" not in database:
            self._path = database
            self._uri = database.startswith("file:")

    @property
    def active(self) -> bool:
        return self._path is not None

    def version(self) -> int | None:
        """The database's data version as this watcher's connection sees it (None: cannot tell)."""
        if self._path is None or self._module is None:
            return None
        if self._thread is not None and self._thread != threading.get_ident():
            return None  # the connection belongs to another thread (another event loop)
        try:
            if self._conn is None:
                self._conn = self._module.connect(
                    self._path, timeout=0, uri=self._uri, check_same_thread=True, isolation_level=None
                )
                self._thread = threading.get_ident()
            row = self._conn.execute("PRAGMA data_version").fetchone()
            return int(row[0])
        except Exception as exc:  # a busy or vanished file: the caller reads the change log instead
            logger.debug("data_version unavailable: %s", exc)
            self.close()
            return None

    def close(self) -> None:
        if self._conn is not None and self._thread == threading.get_ident():
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None
        self._thread = None
