"""The core's background work: query log, read counts, index catch-up and snapshots, off callers' paths.

`MemoryCore.run_background()` runs `Upkeep.run` for as long as a server lives (`teamlore serve` starts
it in its task group, MCP over stdio beside its session). Every `TICK_SECONDS` it applies what other
processes committed (so a query rarely finds changes to read), writes the query log when it is due
and an index snapshot when enough changes piled up. A caller never waits for any of it: `after_call`
only wakes the task when work is due. A core without the task running (a CLI command, a script using
the library) does the due work at the end of the call instead, as before, and all of it when it closes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

import anyio

from ._index_sync import IndexSync
from ._querylog import QueryLog

__all__ = ["TICK_SECONDS", "Upkeep"]

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.5
"""How often the background task looks for work; also the longest another process's write waits
before this process's index has it without a caller's help (a query still catches up first)."""


class Upkeep:
    """Runs the due background work, in a background task when one runs, else at the end of a call."""

    def __init__(self, log: QueryLog, index: IndexSync, snapshot: Callable[[], Awaitable[object]]) -> None:
        self._log = log
        self._index = index
        self._snapshot = snapshot
        self._wake = anyio.Event()
        self._running = 0
        self._extra: list[Callable[[], Awaitable[object]]] = []

    def add(self, work: Callable[[], Awaitable[object]]) -> None:
        """More background work of the core's own modules (API keys' last uses), run every tick."""
        self._extra.append(work)

    @property
    def running(self) -> bool:
        return self._running > 0

    async def after_call(self) -> None:
        """What a query or store calls last: nothing waits for the background work when it runs."""
        if self._running:
            if self._log.due() or self._index.snapshot_due():
                self._wake.set()
            return
        await self._log.flush()
        if self._index.snapshot_due():
            await self._snapshot()

    async def run(self, tick: float = TICK_SECONDS) -> None:
        """Do the background work until cancelled (then flush what waits, shielded)."""
        self._running += 1
        try:
            while True:
                with anyio.move_on_after(tick if math.isfinite(tick) else None):
                    await self._wake.wait()
                self._wake = anyio.Event()
                await self._round()
        finally:
            self._running -= 1
            with anyio.CancelScope(shield=True):
                try:
                    await self._log.flush(force=True)
                    for work in self._extra:
                        await work()
                except Exception:
                    logger.exception("could not write the query log while stopping")

    async def _round(self) -> None:
        # One failing part (a busy database) must not stop the others, nor the task.
        try:
            if self._index.loaded:
                await self._index.sync()
        except Exception:
            logger.warning("background index catch-up failed; the next query catches up", exc_info=True)
        try:
            await self._log.flush()
        except Exception:
            logger.warning("could not write the query log; kept for the next try", exc_info=True)
        for work in self._extra:
            try:
                await work()
            except Exception:
                logger.warning("background work %s failed", work, exc_info=True)
        try:
            if self._index.snapshot_due():
                await self._snapshot()
        except Exception:
            logger.warning("could not write the index snapshot", exc_info=True)
