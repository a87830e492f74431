"""Structured tool results: what an MCP client receives (and its JSON schema), built from core values."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from memory_core import Hit, Importance, Memory, PossibleConflict, Source, StoreResult, TagCount

__all__ = [
    "ContextBlock",
    "ContradictionView",
    "DeleteOutcome",
    "HitView",
    "MemoryView",
    "QueryOutcome",
    "StoreOutcome",
    "TagList",
]

_View = ConfigDict(frozen=True)


class MemoryView(BaseModel):
    """One memory. Cite it by `ref` (#42)."""

    model_config = _View

    id: int
    ref: str = Field(description="How people and answers name this memory, e.g. #42.")
    text: str
    title: str | None
    kind: str = Field(description="note, decision, incident, email, reflection, ...")
    tags: list[str]
    importance: Importance
    source: Source = Field(description="Where it came in: slack, discord, email, mcp, cli, api, ...")
    source_ref: str | None = Field(description="Link back to the origin: permalink, Message-ID, channel.")
    author: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    supersedes: int | None = Field(description="The older memory this one replaces.")
    superseded_by: int | None = Field(description="The newer memory that replaces this one, if any.")
    links: list[int] = Field(description="Memories this one cites (a reflection's sources).")

    @classmethod
    def of(cls, memory: Memory) -> MemoryView:
        return cls(
            id=memory.id,
            ref=memory.ref,
            text=memory.text,
            title=memory.title,
            kind=memory.kind,
            tags=list(memory.tags),
            importance=memory.importance,
            source=memory.source,
            source_ref=memory.source_ref,
            author=memory.author,
            created_at=memory.created_at,
            updated_at=memory.updated_at,
            expires_at=memory.expires_at,
            supersedes=memory.supersedes,
            superseded_by=memory.superseded_by,
            links=list(memory.links),
        )


class ContradictionView(BaseModel):
    """A stored memory the new one may contradict."""

    model_config = _View

    id: int = Field(description="The stored memory the new one may contradict.")
    ref: str
    author: str | None
    created_at: datetime
    reason: str = Field(description="Why, in one line: what each memory says.")

    @classmethod
    def of(cls, maybe: PossibleConflict) -> ContradictionView:
        return cls(
            id=maybe.id,
            ref=f"#{maybe.id}",
            author=maybe.author,
            created_at=maybe.created_at,
            reason=maybe.reason,
        )


class StoreOutcome(BaseModel):
    """The answer to store_memory."""

    model_config = _View

    id: int = Field(description="The stored memory, or the existing one when the text was already stored.")
    ref: str
    created: bool = Field(description="False when the same text was already stored: nothing new was written.")
    duplicate_of: int | None = Field(description="The existing memory with the same text, if any.")
    near_duplicates: list[int] = Field(description="Similar memories worth checking; nothing was merged.")
    redacted: list[str] = Field(description="Kinds of secrets replaced by [REDACTED:<kind>] in the text.")
    contradicts: list[ContradictionView] = Field(
        description="Stored memories this one may contradict (store again with supersedes=<id> to replace)."
    )
    message: str

    @classmethod
    def of(cls, result: StoreResult) -> StoreOutcome:
        memory = result.memory
        if not result.created:
            message = f"already stored as {memory.ref}; nothing new was written"
            if memory.supersedes is not None:
                message += f" (it replaces #{memory.supersedes})"
        elif result.near_duplicates:
            similar = ", ".join(f"#{i}" for i in result.near_duplicates)
            message = f"stored as {memory.ref}; similar memories: {similar}"
        else:
            message = f"stored as {memory.ref}"
        for maybe in result.contradicts:
            message += (
                f"; {maybe.warning} ({maybe.reason}): if it replaces #{maybe.id}, call store_memory again "
                f"with the same text and supersedes={maybe.id}"
            )
        return cls(
            id=memory.id,
            ref=memory.ref,
            created=result.created,
            duplicate_of=result.duplicate_of,
            near_duplicates=list(result.near_duplicates),
            redacted=list(result.redacted),
            contradicts=[ContradictionView.of(maybe) for maybe in result.contradicts],
            message=message,
        )


class HitView(BaseModel):
    """A memory that answers the question, best first."""

    model_config = _View

    id: int
    ref: str
    score: float = Field(description="Relevance after fusion and boosts; only the order is meaningful.")
    text: str
    title: str | None
    kind: str
    tags: list[str]
    importance: Importance
    author: str | None
    source: Source
    source_ref: str | None
    created_at: datetime
    superseded_by: int | None

    @classmethod
    def of(cls, hit: Hit) -> HitView:
        m = hit.memory
        return cls(
            id=m.id,
            ref=m.ref,
            score=round(hit.score, 4),
            text=m.text,
            title=m.title,
            kind=m.kind,
            tags=list(m.tags),
            importance=m.importance,
            author=m.author,
            source=m.source,
            source_ref=m.source_ref,
            created_at=m.created_at,
            superseded_by=m.superseded_by,
        )


class QueryOutcome(BaseModel):
    model_config = _View

    question: str
    hits: list[HitView] = Field(description="Best first; empty when nothing relevant is stored.")


class DeleteOutcome(BaseModel):
    model_config = _View

    deleted: int
    ref: str
    message: str


class TagList(BaseModel):
    model_config = _View

    tags: list[TagCount] = Field(description="Every tag in use with its count, most used first.")


class ContextBlock(BaseModel):
    """Relevant memories packed into one block that fits a token budget."""

    model_config = _View

    task: str
    context: str = Field(description="The block to put in your context; every line cites its memory id.")
    memory_ids: list[int] = Field(description="The memories in the block, most relevant first.")
    estimated_tokens: int = Field(description="Size of `context` in tokens, estimated as characters / 4.")
    token_budget: int
    omitted: int = Field(description="Relevant memories left out (or cut short) to stay within the budget.")
