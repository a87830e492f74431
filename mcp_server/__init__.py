"""teamlore's MCP front-end (official `mcp` SDK): tools and resources over stdio and streamable HTTP."""

from .caller import Caller
from .config import McpSettings
from .errors import error_text
from .http_app import McpHttpApp, build_mcp_http_app
from .server import build_server
from .stdio import run_stdio
from .tools import TOOL_NAMES

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
