"""MCP resources: one memory as `memory://{id}`, and the newest memories as `memory://recent`."""

from __future__ import annotations

import re

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from memory_core import Memory, MemoryCore, NotFound, TeamloreError

from .assemble import memory_line
from .caller import current_caller
from .errors import error_text

__all__ = ["register_resources", "render_memory"]

_MEMORY_ID = re.compile(r"[1-9][0-9]{0,18}")


def render_memory(memory: Memory) -> str:
    """A memory as Markdown: a heading with its ref, the facts a reader needs, then the text."""
    title = f"{memory.ref} {memory.title}" if memory.title else memory.ref
    facts = [
        f"- kind: {memory.kind}; importance: {memory.importance.value}",
        f"- stored: {memory.created_at.isoformat(timespec='seconds')} by {memory.author or 'unknown'}"
        f" via {memory.source.value}",
    ]
    if memory.tags:
        facts.append("- tags: " + ", ".join(f"#{t}" for t in memory.tags))
    if memory.source_ref:
        facts.append(f"- source: {memory.source_ref}")
    if memory.expires_at:
        facts.append(f"- expires: {memory.expires_at.isoformat(timespec='seconds')}")
    if memory.supersedes:
        facts.append(f"- replaces #{memory.supersedes}")
    if memory.superseded_by:
        facts.append(f"- replaced by #{memory.superseded_by}")
    if memory.links:
        facts.append("- cites: " + ", ".join(f"#{i}" for i in memory.links))
    return f"# {title}\n\n" + "\n".join(facts) + f"\n\n{memory.text}\n"


def register_resources(server: MCPServer, core: MemoryCore, *, recent_limit: int) -> None:
    """Add the resources; like the tools, they read the caller's tenant only."""

    @server.resource(
        "memory://{id}",
        name="memory",
        title="A memory",
        description="One memory by id (memory://42 for #42), as Markdown.",
        mime_type="text/markdown",
    )
    async def memory_by_id(id: str) -> str:
        # Taken as text and checked here: the SDK's own int conversion fails `memory://abc` as an
        # internal error (-32603, with a traceback) instead of telling the client what a URI looks like.
        if not _MEMORY_ID.fullmatch(id):
            shown = ascii(id)[1:-1][:40]
            raise ResourceNotFoundError(
                f"invalid_input: memory://{shown} names no memory; "
                "ids are whole numbers (memory://42 for #42)"
            )
        try:
            return render_memory(await core.get(current_caller().tenant, int(id)))
        except NotFound as exc:
            raise ResourceNotFoundError(error_text(exc)) from exc
        except TeamloreError as exc:
            raise ResourceError(error_text(exc)) from exc

    @server.resource(
        "memory://recent",
        name="recent-memories",
        title="Recent memories",
        description=f"The {recent_limit} newest memories, one line each, newest first.",
        mime_type="text/markdown",
    )
    async def recent_memories() -> str:
        try:
            memories = await core.recent(current_caller().tenant, limit=recent_limit)
        except TeamloreError as exc:
            raise ResourceError(error_text(exc)) from exc
        if not memories:
            return "No memories stored yet.\n"
        return "\n".join(memory_line(m) for m in memories) + "\n"
