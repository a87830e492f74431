"""teamlore's MCP front-end (official `mcp` SDK): tools and resources over stdio and streamable HTTP."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .caller import Caller
    from .config import McpSettings
    from .errors import error_text
    from .http_app import McpHttpApp, build_mcp_http_app
    from .server import build_server
    from .stdio import run_stdio
    from .tools import TOOL_NAMES

# Names resolve on first use (PEP 562), so importing one light module of the package, or the
# package for its settings model, does not pull in every heavy dependency (see teamlore.cli).
_WHERE = {
    "Caller": ".caller",
    "McpSettings": ".config",
    "error_text": ".errors",
    "McpHttpApp": ".http_app",
    "build_mcp_http_app": ".http_app",
    "build_server": ".server",
    "run_stdio": ".stdio",
    "TOOL_NAMES": ".tools",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "TOOL_NAMES",
    "Caller",
    "McpHttpApp",
    "McpSettings",
    "build_mcp_http_app",
    "build_server",
    "error_text",
    "run_stdio",
]
