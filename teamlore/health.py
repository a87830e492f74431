"""Per-front-end health for /readyz and /metrics: is each enabled front-end up, its last activity and error.

Three sources feed it, none of which asks a front-end to know about it:

- the runtime: a route front-end (REST, MCP over HTTP, Slack events, webhooks) is up while the web server
  serves; a service (Discord, SMTP, scheduler, Slack Socket Mode) is up while its supervisor runs it, and
  down with the exception as its last error when it fails (until the restart);
- the HTTP request middleware: each request is activity of the front-end its path belongs to, and a 5xx
  answer is an error of it;
- the log: every front-end writes one INFO line per handled request and logs the errors it handles
  (house style), so a record from a front-end's package logger is activity, and one at ERROR an error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import metrics

__all__ = ["FrontendHealth", "FrontendState"]

# Logger name prefix -> front-end (the Frontend names of teamlore.frontends).
_LOGGERS: tuple[tuple[str, str], ...] = (
    ("bots.slack", "slack"),
    ("bots.discord", "discord"),
    ("mailer", "mail"),
    ("scheduler", "scheduler"),
    ("mcp_server", "mcp-http"),
    ("webhooks", "webhooks"),
    ("webui", "webui"),
)
# The request middleware's front-end label (by path) -> front-end.
_HTTP: dict[str, str] = {
    "api": "web",
    "web": "webui",  # every path no other part claims is the web app's (health paths are not counted)
    "mcp": "mcp-http",
    "slack": "slack",
    "webhooks": "webhooks",
}
_MESSAGE_CHARS = 300


@dataclass
class FrontendState:
    name: str
    up: bool = False
    last_activity: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    errors: int = 0

    def as_json(self) -> dict[str, Any]:
        def when(value: float | None) -> str | None:
            return None if value is None else datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")

        error = (
            None if self.last_error is None else {"at": when(self.last_error_at), "message": self.last_error}
        )
        return {
            "up": self.up,
            "last_activity": when(self.last_activity),
            "last_error": error,
            "errors": self.errors,
        }


class FrontendHealth:
    """The state of each enabled front-end; safe to update from worker threads (logging can be there)."""

    def __init__(self, names: Iterable[str], clock: Callable[[], float] = time.time) -> None:
        self._states = {name: FrontendState(name) for name in names}
        self._clock = clock
        self._lock = threading.Lock()
        for name in self._states:
            metrics.FRONTEND_UP.labels(frontend=name).set(0)

    def _update(self, name: str, change: Callable[[FrontendState, float], None]) -> bool:
        """Apply `change` to the front-end's state; False for a front-end not enabled in this process."""
        state = self._states.get(name)
        if state is None:
            return False
        with self._lock:
            change(state, self._clock())
        return True

    def mark_up(self, name: str) -> None:
        def change(state: FrontendState, _now: float) -> None:
            state.up = True

        if self._update(name, change):
            metrics.FRONTEND_UP.labels(frontend=name).set(1)

    def mark_down(self, name: str, error: BaseException | str | None = None) -> None:
        def change(state: FrontendState, _now: float) -> None:
            state.up = False

        if self._update(name, change):
            metrics.FRONTEND_UP.labels(frontend=name).set(0)
        if error is not None:
            self.error(name, error if isinstance(error, str) else f"{type(error).__name__}: {error}")

    def activity(self, name: str) -> None:
        now = self._clock()

        def change(state: FrontendState, _now: float) -> None:
            state.last_activity = now

        if self._update(name, change):
            metrics.FRONTEND_LAST_ACTIVITY.labels(frontend=name).set(now)

    def error(self, name: str, message: str) -> None:
        def change(state: FrontendState, now: float) -> None:
            state.last_error = message[:_MESSAGE_CHARS]
            state.last_error_at = now
            state.errors += 1

        if self._update(name, change):
            metrics.FRONTEND_ERRORS.labels(frontend=name).inc()

    def http_request(self, label: str, status: int, command: str) -> None:
        """What the request middleware saw: activity of the path's front-end, an error if 5xx."""
        name = _HTTP.get(label, "web")
        self.activity(name)
        if status >= 500:
            self.error(name, f"HTTP {status} on {command}")

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: state.as_json() for name, state in self._states.items()}

    def log_handler(self) -> logging.Handler:
        """A handler for the root logger that turns front-end log records into activity and errors."""
        return _HealthLogHandler(self)


class _HealthLogHandler(logging.Handler):
    def __init__(self, health: FrontendHealth) -> None:
        super().__init__(logging.INFO)
        self._health = health

    def emit(self, record: logging.LogRecord) -> None:
        name = next((f for prefix, f in _LOGGERS if record.name.startswith(prefix)), None)
        if name is None:
            return
        self._health.activity(name)
        if record.levelno >= logging.ERROR:
            try:
                message = record.getMessage()
            except Exception:  # a malformed log call must not break logging
                message = str(record.msg)
            self._health.error(name, message)
