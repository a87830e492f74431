"""The MCP tools: each translates typed arguments into one core call and the result into a view."""

# No `from __future__ import annotations`: the SDK reads these signatures to publish JSON schemas.

import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from memory_core import (
    Importance,
    MemoryCore,
    MemoryDraft,
    QualityReport,
    QueryFilters,
    Reflection,
    Scope,
    Source,
    Stats,
)

from .assemble import assemble_context as pack
from .caller import current_caller
from .errors import tool_errors
from .views import ContextBlock, DeleteOutcome, HitView, MemoryView, QueryOutcome, StoreOutcome, TagList

__all__ = ["TOOL_NAMES", "register_tools"]

TOOL_NAMES = (
    "store_memory",
    "query_memories",
    "get_memory",
    "delete_memory",
    "generate_reflection",
    "quality_report",
    "list_tags",
    "get_statistics",
    "assemble_context",
)

MemoryId = Annotated[int, Field(ge=1, description="A memory id: 42 for #42.")]
Tags = Annotated[
    tuple[Annotated[str, Field(min_length=1, max_length=64)], ...],
    Field(
        max_length=20, description="Tags without '#', e.g. [\"vpn\", \"infra\"]; a leading '#' is dropped."
    ),
]
FilterTags = Annotated[
    tuple[Annotated[str, Field(min_length=1, max_length=64)], ...],
    Field(max_length=20, description="Only memories that carry all of these tags."),
]
Since = Annotated[
    datetime | None,
    Field(
        description="Only memories stored at or after this time (ISO 8601: 2026-01-31 or 2026-01-31T09:00Z)."
    ),
]
Until = Annotated[datetime | None, Field(description="Only memories stored before this time (ISO 8601).")]

_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_WRITES = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
_DELETES = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False
)
_SAVES = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)


def _utc(value: datetime | None) -> datetime | None:
    """Dates without a zone are taken as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def register_tools(server: MCPServer, core: MemoryCore) -> None:
    """Add every teamlore tool to `server`; each call's tenant comes from its caller, never an argument."""

    async def store_memory(
        text: Annotated[str, Field(min_length=1, description="The fact, decision or note, self-contained.")],
        tags: Tags = (),
        importance: Annotated[Importance, Field(description="How much it matters.")] = Importance.NORMAL,
        kind: Annotated[
            str,
            Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$", description="note, decision, incident, howto, ..."),
        ] = "note",
        title: Annotated[str | None, Field(max_length=500, description="Optional short title.")] = None,
        ttl_days: Annotated[
            int | None, Field(ge=1, le=3650, description="Hide the memory from queries after this many days.")
        ] = None,
        source_ref: Annotated[
            str | None, Field(max_length=1000, description="Where it comes from: a URL, ticket or file path.")
        ] = None,
        supersedes: Annotated[
            int | None, Field(ge=1, description="Id of an older memory this one replaces.")
        ] = None,
        redact_secrets: Annotated[
            bool, Field(description="Replace secrets found in the text instead of refusing it.")
        ] = False,
    ) -> StoreOutcome:
        """Save something the team should remember (a fact, decision, incident, how-to) to shared memory.

        Write it self-contained: someone reading it months later without this conversation must
        understand it. Storing the same text twice returns the existing id instead of a copy, and
        similar memories are listed in near_duplicates. Stored memories it may contradict are listed in
        contradicts: if the new memory replaces one, call store_memory again with the same text and
        supersedes=<that id> (the old one then drops out of answers). Text that looks like a credential
        is refused unless redact_secrets is true. Needs write access.
        """
        caller = current_caller()
        caller.require(Scope.WRITE, "store memories")
        expires = datetime.now(UTC) + timedelta(days=ttl_days) if ttl_days else None
        draft = MemoryDraft(
            text=text,
            tags=tags,
            importance=importance,
            kind=kind,
            title=title,
            expires_at=expires,
            source=Source.MCP,
            source_ref=source_ref,
            supersedes=supersedes,
            author=caller.actor.name,
            author_id=caller.actor.id,
        )
        return StoreOutcome.of(await core.store(caller.tenant, draft, redact=redact_secrets))

    async def query_memories(
        question: Annotated[str, Field(min_length=1, max_length=2000, description="What you want to know.")],
        tags: FilterTags = (),
        kind: Annotated[str | None, Field(description="Only this kind, e.g. decision.")] = None,
        author: Annotated[str | None, Field(description="Only memories stored by this person.")] = None,
        since: Since = None,
        until: Until = None,
        limit: Annotated[int, Field(ge=1, le=50, description="Most hits to return.")] = 8,
        include_expired: Annotated[
            bool, Field(description="Also search memories whose TTL ran out.")
        ] = False,
        include_superseded: Annotated[
            bool, Field(description="Also search memories replaced by newer ones (history).")
        ] = False,
    ) -> QueryOutcome:
        """Search the team's shared memory (meaning and keywords) and return the best matching memories.

        Use it before answering questions about the team's systems, decisions, incidents or habits.
        Ask in natural language; filters narrow the search. Cite what you use by ref (#42). An empty
        list means nothing relevant is stored. Memories replaced by newer ones are left out unless
        include_superseded is true; then superseded_by names the replacement.
        """
        caller = current_caller()
        filters = QueryFilters(
            tags=tags,
            kind=kind,
            author=author,
            since=_utc(since),
            until=_utc(until),
            include_expired=include_expired,
            include_superseded=include_superseded,
        )
        hits = await core.query(caller.tenant, question, filters=filters, limit=limit)
        return QueryOutcome(question=question, hits=[HitView.of(hit) for hit in hits])

    async def get_memory(memory_id: MemoryId) -> MemoryView:
        """Read one memory in full by its id (42 for #42): text, tags, author, source link and history."""
        caller = current_caller()
        return MemoryView.of(await core.get(caller.tenant, memory_id))

    async def delete_memory(memory_id: MemoryId) -> DeleteOutcome:
        """Delete a memory for good (text and vector; the audit log keeps who deleted which id).

        Only whoever stored it, or an admin, may delete it; prefer storing a correction with
        `supersedes` when the memory is outdated rather than wrong. Needs write access.
        """
        caller = current_caller()
        caller.require(Scope.WRITE, "delete memories")
        await core.delete(caller.tenant, memory_id, actor=caller.actor)
        return DeleteOutcome(deleted=memory_id, ref=f"#{memory_id}", message=f"#{memory_id} was deleted")

    async def generate_reflection(
        topic: Annotated[
            str | None,
            Field(max_length=500, description="What to reflect on; omit to reflect on a time window."),
        ] = None,
        since: Since = None,
        until: Until = None,
        tags: FilterTags = (),
        limit: Annotated[int, Field(ge=1, le=100, description="Most memories to gather.")] = 30,
        save: Annotated[
            bool,
            Field(description="Keep the reflection as a memory of kind reflection (needs write access)."),
        ] = True,
    ) -> Reflection:
        """Synthesise what the team knows about a topic (or a time window): a summary, key points citing
        memory ids, a timeline, duplicates and possible contradictions.

        Give a topic, or since/until, or both. Saved as a new memory unless save is false; reflecting
        again on the same topic replaces the earlier reflection.
        """
        caller = current_caller()
        if save:
            caller.require(Scope.WRITE, "save a reflection (call again with save=false)")
        filters = QueryFilters(tags=tags, since=_utc(since), until=_utc(until))
        return await core.reflect(
            caller.tenant, topic, filters=filters, limit=limit, dry_run=not save, actor=caller.actor
        )

    async def quality_report(
        save: Annotated[
            bool, Field(description="Keep the report so trends show (ignored for read-only keys).")
        ] = True,
    ) -> QualityReport:
        """Check the health of the team's memory: a 0-100 score and findings (duplicates, stale or
        expired memories, contradictions, knowledge gaps, ingest failures), each naming memory ids and
        a fix. Read-only keys get the report without it being kept.
        """
        caller = current_caller()
        return await core.quality_report(caller.tenant, save=save and caller.scope.allows(Scope.WRITE))

    async def list_tags() -> TagList:
        """Every tag in use in the team's memory with how many memories carry it, most used first."""
        return TagList(tags=await core.list_tags(current_caller().tenant))

    async def get_statistics() -> Stats:
        """Counts of the team's memory: memories, expired ones, by kind, by source, top tags, and the
        embedding model and index size."""
        return await core.stats(current_caller().tenant)

    async def assemble_context(
        task: Annotated[
            str,
            Field(min_length=1, max_length=2000, description="The task or question you need context for."),
        ],
        token_budget: Annotated[
            int, Field(ge=100, le=32000, description="Most tokens the block may take (estimated as chars/4).")
        ] = 2000,
        tags: FilterTags = (),
        max_memories: Annotated[int, Field(ge=1, le=50, description="Most memories to consider.")] = 20,
    ) -> ContextBlock:
        """Get the team memory relevant to a task as ONE compact text block that fits a token budget,
        ready to read before you start. Each line cites its memory id (#42); the most relevant come
        first and the rest is cut at the budget. Replaced (superseded) memories are left out.
        """
        caller = current_caller()
        filters = QueryFilters(tags=tags, include_superseded=False)
        hits = await core.query(caller.tenant, task, filters=filters, limit=max_memories)
        return pack(task, [hit.memory for hit in hits], token_budget)

    _add(server, store_memory, "Store a memory", _WRITES)
    _add(server, query_memories, "Search memories", _READ_ONLY)
    _add(server, get_memory, "Read a memory", _READ_ONLY)
    _add(server, delete_memory, "Delete a memory", _DELETES)
    _add(server, generate_reflection, "Reflect on a topic", _SAVES)
    _add(server, quality_report, "Memory quality report", _SAVES)
    _add(server, list_tags, "List tags", _READ_ONLY)
    _add(server, get_statistics, "Memory statistics", _READ_ONLY)
    _add(server, assemble_context, "Assemble context for a task", _READ_ONLY)


def _add(
    server: MCPServer, fn: Callable[..., Awaitable[object]], title: str, annotations: ToolAnnotations
) -> None:
    description = inspect.cleandoc(fn.__doc__ or "")
    server.add_tool(tool_errors(fn), title=title, description=description, annotations=annotations)
