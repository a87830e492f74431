"""A token bucket per client address for sign-in attempts (in this process's memory)."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["SignInLimiter"]

_MAX_CLIENTS = 10_000  # a flood of addresses must not grow the table without bound


class SignInLimiter:
    """`take(client)` is 0 when an attempt may go ahead, else the seconds to wait.

    Not `memory_core.RateLimiter`: that one is keyed by API key id, a set the database bounds; client
    addresses come from anyone, so this one forgets idle clients when the table grows large.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(per_minute)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str) -> float:
        now = self._clock()
        if len(self._buckets) > _MAX_CLIENTS:
            self._buckets = {c: b for c, b in self._buckets.items() if now - b[1] < 60}
        tokens, last = self._buckets.get(client, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens >= 1:
            self._buckets[client] = (tokens - 1, now)
            return 0.0
        self._buckets[client] = (tokens, now)
        return (1 - tokens) / self._rate
