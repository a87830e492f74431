"""Remember which Slack deliveries were already taken, so retries and replays are acknowledged, not re-run.

Slack retries an event when it saw no 200 within three seconds (header `X-Slack-Retry-Num`, same
`event_id`), and a signed request could be replayed within its five-minute window. Every delivery has a
stable id: `event_id` for Events API callbacks, `trigger_id` for slash commands, shortcuts and button
clicks. The first time an id is seen the request runs; later deliveries of it are answered 200 and
dropped. An id is remembered as soon as it is seen (not when the work is done), so a retry that arrives
while the first delivery is still being worked on is dropped too.

The window is per process. Behind several replicas a retry can reach another process; the core still
stores an exact text once ("Already remembered as #42"), so nothing is stored twice, but a mention may
then be answered twice.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["Deliveries", "delivery_key"]


def delivery_key(body: dict[str, Any]) -> str | None:
    """The stable id of a delivery: `event:<event_id>` or `trigger:<trigger_id>` (None if it has neither)."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("trigger_id"):
        return f"trigger:{body['trigger_id']}"
    return None


class Deliveries:
    """A bounded, time-limited set of delivery ids (oldest forgotten first)."""

    def __init__(
        self,
        window_seconds: float,
        *,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = window_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first(self, key: str) -> bool:
        """True the first time `key` is seen within the window (and remember it), False for a repeat."""
        now = self._clock()
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at < self._window and len(self._seen) < self._max_entries:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now
        return True

    def __len__(self) -> int:
        return len(self._seen)
