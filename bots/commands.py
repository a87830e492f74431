"""Run a parsed chat command against the memory core and return a platform-neutral reply."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from memory_core import Actor, MemoryDraft, QueryFilters, Source

from .errors import error_reply
from .grammar import Command, ForgetCommand, HelpCommand, QueryCommand, ReflectCommand, StoreCommand
from .render import describe_filters, truncate
from .replies import (
    ErrorReply,
    ForgottenReply,
    HelpReply,
    QueryReply,
    RecentReply,
    ReflectionReply,
    Reply,
    StoredReply,
)

if TYPE_CHECKING:
    from memory_core import MemoryCore

__all__ = ["ErrorTable", "execute"]


class ErrorTable(Protocol):
    """Words an error as a reply: `bots.errors.error_reply` or a front-end's own table."""

    def __call__(self, error: BaseException, *, action: str) -> ErrorReply: ...


logger = logging.getLogger(__name__)

_ACTIONS = {
    StoreCommand: "store",
    QueryCommand: "query",
    ReflectCommand: "reflect",
    ForgetCommand: "forget",
    HelpCommand: "help",
}


async def execute(
    core: MemoryCore,
    tenant: str,
    actor: Actor,
    command: Command,
    *,
    source: Source,
    source_ref: str | None = None,
    now: datetime | None = None,
    author: Actor | None = None,
    title: str | None = None,
    errors: ErrorTable = error_reply,
) -> Reply:
    """Do what `command` says for `actor` in `tenant`; never raises for a failed command.

    Core errors and unexpected exceptions come back as an ErrorReply worded by `errors`: the shared
    chat table by default, or a front-end's own table (which delegates to the shared one); unexpected
    ones are logged with a reference id. `author` is who wrote the stored text when that is not the
    actor (a message saved by someone else); `source_ref` is the link back (permalink, Message-ID);
    `now` stamps a stored memory. One INFO line is logged per command.
    """
    action = _ACTIONS[type(command)]
    try:
        reply = await _run(core, tenant, actor, command, source, source_ref, now, author, title)
    except Exception as error:  # the chat boundary: every failure becomes a reply
        reply = errors(error, action=action)
    logger.info("%s %s by %s in tenant %s: %s", source.value, action, actor.id, tenant, _outcome(reply))
    return reply


async def _run(
    core: MemoryCore,
    tenant: str,
    actor: Actor,
    command: Command,
    source: Source,
    source_ref: str | None,
    now: datetime | None,
    author: Actor | None,
    title: str | None,
) -> Reply:
    if isinstance(command, StoreCommand):
        writer = author or actor
        draft = MemoryDraft(
            text=command.text,
            kind=command.kind,
            tags=command.tags,
            importance=command.importance,
            source=source,
            source_ref=source_ref,
            title=title,
            author=writer.display,
            author_id=writer.id,
            created_at=now,
            expires_at=command.expires_at,
            supersedes=command.supersedes,
        )
        return StoredReply(await core.store(tenant, draft))
    if isinstance(command, QueryCommand):
        filters = QueryFilters(
            tags=command.tags,
            author=command.author,
            since=command.since,
            until=command.until,
            include_superseded=command.include_superseded,
        )
        if command.question:
            hits = await core.query(tenant, command.question, filters=filters, limit=command.limit)
            return QueryReply(command.question, tuple(hits))
        memories = await core.recent(tenant, limit=command.limit, filters=filters)
        return RecentReply(describe_filters(filters), tuple(memories))
    if isinstance(command, ReflectCommand):
        filters = QueryFilters(tags=command.tags, since=command.since, until=command.until)
        reflection = await core.reflect(tenant, command.topic, filters=filters, actor=actor)
        sources = await core.get_many(tenant, reflection.sources)
        return ReflectionReply(reflection, tuple(sources))
    if isinstance(command, ForgetCommand):
        memory = await core.get(tenant, command.memory_id)
        await core.delete(tenant, command.memory_id, actor=actor)
        return ForgottenReply(command.memory_id, truncate(memory.text, 80))
    return HelpReply(command.topic)


def _outcome(reply: Reply) -> str:
    if isinstance(reply, StoredReply):
        created = "stored" if reply.result.created else "duplicate of"
        return f"{created} #{reply.memory.id}"
    if isinstance(reply, QueryReply):
        return f"{len(reply.hits)} hits"
    if isinstance(reply, RecentReply):
        return f"{len(reply.memories)} recent"
    if isinstance(reply, ReflectionReply):
        return f"reflection #{reply.reflection.id} over {len(reply.reflection.sources)} memories"
    if isinstance(reply, ForgottenReply):
        return f"forgot #{reply.memory_id}"
    if isinstance(reply, ErrorReply):
        return f"refused ({reply.message})" if reply.ref is None else f"failed (ref {reply.ref})"
    return "help"
