"""The one table from core errors to the tool-error text a model reads (and can act on)."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar, cast

from mcp_types import CallToolResult, TextContent

from memory_core import (
    ConfigurationError,
    Duplicate,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unavailable,
    UnknownIdentity,
    lookup_error,
    new_reference,
)

from .caller import caller_tenant

__all__ = ["error_text", "tool_errors"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# Looked up along the exception's MRO (`memory_core.lookup_error`): the most specific entry wins. Every
# text starts with the error class's wire `code` (memory_core.errors), the same code REST sends as `error`.
_TABLE: dict[type[BaseException], Callable[[Any], str]] = {
    InvalidInput: lambda e: f"{e.code}: {e}",
    NotFound: lambda e: f"{e.code}: no memory #{e.memory_id}; use query_memories to find ids",
    Duplicate: lambda e: f"{e.code}: already stored as #{e.existing_id}; use get_memory to read it",
    UnknownIdentity: lambda e: f"{e.code}: {e}",
    PermissionDenied: lambda e: f"{e.code}: {e}",
    Unavailable: lambda e: f"{e.code}: retry shortly",
    ConfigurationError: lambda e: f"{e.code}: the memory server needs its operator: {e}",
}


def error_text(exc: BaseException) -> str:
    """What the model is told. Unexpected errors get a reference id, logged here with the traceback."""
    render = lookup_error(_TABLE, exc)
    if render is not None:
        return render(exc)
    ref = new_reference()
    logger.error("unexpected error in an MCP call (ref %s)", ref, exc_info=exc)
    return f"internal error (ref {ref})"


def tool_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Wrap a tool: errors become an is_error result with `error_text`; one INFO line per call.

    The SDK passes a returned CallToolResult through unchanged, which keeps our text free of its
    "Error executing tool ..." prefix; the signature (and so the schemas) stay the tool's own.
    """

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        try:
            result = await fn(*args, **kwargs)
        except Exception as exc:
            text = error_text(exc)
            code = text.split(":", 1)[0].split(" (", 1)[0]
            logger.info("mcp %s tenant=%s -> %s (%.0f ms)", fn.__name__, caller_tenant(), code, _ms(started))
            return cast(R, CallToolResult(content=[TextContent(type="text", text=text)], is_error=True))
        logger.info("mcp %s tenant=%s -> ok (%.0f ms)", fn.__name__, caller_tenant(), _ms(started))
        return result

    return wrapper


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
