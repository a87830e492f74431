"""A per-user cooldown shared by prefix and slash commands (discord.py's own Cooldown per user id)."""

from __future__ import annotations

import time
from collections.abc import Callable

from discord.app_commands import Cooldown

__all__ = ["UserCooldowns"]


class UserCooldowns:
    """At most `rate` commands per `per` seconds for each user; `per == 0` turns the cooldown off."""

    def __init__(self, rate: int, per: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._per = per
        self._clock = clock
        self._buckets: dict[int, Cooldown] = {}

    def hit(self, user_id: int) -> tuple[Cooldown, float] | None:
        """Count one command for `user_id`; (bucket, seconds to wait) when over the limit, else None."""
        if self._per <= 0:
            return None
        now = self._clock()
        if len(self._buckets) > 10_000:
            self._forget_idle(now)
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = Cooldown(self._rate, self._per)
        retry_after = bucket.update_rate_limit(now)
        return None if retry_after is None else (bucket, retry_after)

    def _forget_idle(self, now: float) -> None:
        idle = [user for user, bucket in self._buckets.items() if now > bucket._last + self._per]
        for user in idle:
            del self._buckets[user]
