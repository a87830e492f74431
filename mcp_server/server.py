"""Build the teamlore MCP server (tools and resources over one core) for either transport."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from mcp.server.mcpserver import MCPServer

from memory_core import MemoryCore

from .caller import Caller, CallerMiddleware
from .config import McpSettings
from .resources import register_resources
from .tools import register_tools

__all__ = ["INSTRUCTIONS", "build_server"]

INSTRUCTIONS = """\
teamlore is this team's shared memory: facts, decisions, incidents and how-tos that people stored from
Slack, Discord, email, the terminal and MCP clients.

- Before answering questions about the team's systems, decisions or habits, call query_memories (or
  assemble_context for a whole task) and cite what you use by id, e.g. #42.
- When the user states something the team should remember, or a decision is made, call store_memory
  with a self-contained text and a few tags.
- Memories are never merged silently: a duplicate store returns the existing id; outdated memories are
  replaced by storing the correction with `supersedes`.
- Errors start with a code (not_found, invalid_input, permission_denied, unavailable) and say what to do.
"""


def _version() -> str:
    try:
        return version("teamlore")
    except PackageNotFoundError:
        return "0"


def build_server(
    core: MemoryCore, *, local_caller: Caller | None, settings: McpSettings | None = None
) -> MCPServer:
    """The MCP server over `core`.

    `local_caller` is who every message comes from when it carries no HTTP request (stdio); None for
    HTTP, where each request's API key decides.
    """
    settings = settings or McpSettings()
    server: MCPServer = MCPServer(
        name="teamlore",
        title="teamlore team memory",
        instructions=INSTRUCTIONS,
        version=_version(),
        middleware=[CallerMiddleware(local_caller)],
    )
    register_tools(server, core)
    register_resources(server, core, recent_limit=settings.recent_limit)
    return server
