"""The leader lease: one row in the database says which process runs the jobs, until when."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta

from .store import SchedulerStore

__all__ = ["LEASE_NAME", "Lease", "new_holder_id"]

logger = logging.getLogger(__name__)

LEASE_NAME = "scheduler"


def new_holder_id() -> str:
    """host:pid:random — unique per scheduler object, readable in the lease row."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """A lease held in the database with an expiry, taken over by another holder only once it expired.

    The holder renews it every `ttl / 3`; a process that stops renewing (crash, hang, lost database)
    loses it after `ttl`, and a standby takes over. A clean shutdown releases it at once.
    """

    def __init__(
        self, store: SchedulerStore, ttl: timedelta, *, holder: str | None = None, name: str = LEASE_NAME
    ):
        self.store = store
        self.ttl = ttl
        self.holder = holder or new_holder_id()
        self.name = name

    @property
    def renew_every(self) -> float:
        return self.ttl.total_seconds() / 3

    async def acquire(self, now: datetime) -> bool:
        """Take the lease (or renew it when already ours); False while another holder's is still valid."""
        return await self.store.acquire_lease(self.name, self.holder, now, self.ttl)

    async def held(self, now: datetime) -> bool:
        """Whether this holder still holds an unexpired lease."""
        return await self.store.lease_holder(self.name, now) == self.holder

    async def release(self) -> None:
        await self.store.release_lease(self.name, self.holder)
