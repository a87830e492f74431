"""teamlore's MCP front-end (official `mcp` SDK): tools and resources over stdio and streamable HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from memory_core import lazy_exports

if TYPE_CHECKING:
    from .caller import Caller
    from .config import McpSettings
    from .errors import error_text
    from .http_app import McpHttpApp, build_mcp_http_app
    from .server import build_server
    from .stdio import run_stdio
    from .tools import TOOL_NAMES

# Names resolve on first use (memory_core._lazy), so importing one light module of the package, or
# the package for its settings model, does not pull in every heavy dependency (see teamlore.cli).
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


__getattr__ = lazy_exports(__name__, _WHERE)


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
