"""Logging set-up for the process (the only place that configures logging): plain or JSON lines to stderr."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .settings import LoggingSettings

__all__ = ["PlainFormatter", "configure_logging", "escape_controls", "new_request_id", "request_id"]

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("teamlore_request_id", default=None)


def new_request_id() -> str:
    """An id for a request that came without one (X-Request-ID): every log line of the request carries it."""
    return uuid.uuid4().hex[:8]


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


# C0 and C1 controls (newline, carriage return, escape, ...) and the Unicode line and paragraph separators:
# whatever could end a log line early or drive a terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """`text` with control characters written as escapes (`\\n`, `\\x1b`): one log record, one line."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class PlainFormatter(logging.Formatter):
    """The plain format, with the message's control characters escaped.

    Messages carry what requests bring (paths, headers, user names, ids): `GET /x%0a2026-...ERROR ...`
    must not write a second, forged line. A traceback stays multi-line, every line of it indented, so
    no line of it can pass for a record of its own either.
    """

    def format(self, record: logging.LogRecord) -> str:
        saved = record.msg, record.args, record.exc_text
        record.msg, record.args = escape_controls(record.getMessage()), None
        try:
            return super().format(record)
        finally:
            record.msg, record.args, record.exc_text = saved

    def formatException(self, ei: Any) -> str:
        return "\n".join("    " + escape_controls(line) for line in super().formatException(ei).splitlines())

    def formatStack(self, stack_info: str) -> str:
        return "\n".join("    " + escape_controls(line) for line in stack_info.splitlines())


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


PLAIN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


def configure_logging(settings: LoggingSettings) -> None:
    """Send every log line to stderr (stdout stays clean for --json output and MCP stdio)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    if settings.format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(PlainFormatter(PLAIN_FORMAT))
    # The level filters what is written, not what is logged: front-ends' INFO lines still reach the
    # per-front-end health (teamlore.health) when only warnings are written.
    handler.setLevel(settings.level)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(min(logging.INFO, logging.getLevelNamesMapping()[settings.level]))
    # Libraries that are chatty at INFO about things an operator does not act on.
    for name in (
        "httpx",
        "httpcore",
        "sentence_transformers",
        "faiss",
        "apscheduler.executors",
        "aiosqlite",
        "mail.log",
    ):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(settings.level)))
