"""Platform-neutral replies to chat commands; each front-end renders them (plain text, embeds, blocks)."""

from __future__ import annotations

from dataclasses import dataclass

from memory_core import Hit, Memory, Reflection, StoreResult

from .grammar import CommandName

__all__ = [
    "ErrorReply",
    "ForgottenReply",
    "HelpReply",
    "QueryReply",
    "RecentReply",
    "ReflectionReply",
    "Reply",
    "StoredReply",
]


@dataclass(frozen=True, slots=True)
class StoredReply:
    """A store went through: a new memory, or the id it was already remembered as (`result.created`)."""

    result: StoreResult

    @property
    def memory(self) -> Memory:
        return self.result.memory


@dataclass(frozen=True, slots=True)
class QueryReply:
    """The hits that answer `question`, best first (empty when nothing matched)."""

    question: str
    hits: tuple[Hit, ...]


@dataclass(frozen=True, slots=True)
class RecentReply:
    """A query without a question: the newest memories that match its filters (`described`)."""

    described: str
    memories: tuple[Memory, ...]


@dataclass(frozen=True, slots=True)
class ReflectionReply:
    """A reflection, and the memories it cites (for who stored them, when, and the link back)."""

    reflection: Reflection
    sources: tuple[Memory, ...] = ()


@dataclass(frozen=True, slots=True)
class ForgottenReply:
    """The memory is deleted; `preview` is the start of its text, to confirm which one it was."""

    memory_id: int
    preview: str = ""


@dataclass(frozen=True, slots=True)
class HelpReply:
    """General help (`topic` None) or the help of one command."""

    topic: CommandName | None = None


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """What to tell the user when a command failed; `ref` names an unexpected error in the log."""

    message: str
    ref: str | None = None


Reply = StoredReply | QueryReply | RecentReply | ReflectionReply | ForgottenReply | HelpReply | ErrorReply
