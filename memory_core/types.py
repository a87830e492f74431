"""Frozen value types that cross the core's boundary: what front-ends send in and get back."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from .errors import InvalidInput

__all__ = [
    "TENANT_PATTERN",
    "Actor",
    "Conflict",
    "ExportRecord",
    "Finding",
    "FindingFix",
    "Hit",
    "Importance",
    "Memory",
    "MemoryDraft",
    "MemoryPatch",
    "PossibleConflict",
    "QualityReport",
    "QueryFilters",
    "Reflection",
    "ReflectionPoint",
    "Scope",
    "ScoreBreakdown",
    "Severity",
    "Source",
    "Stats",
    "StoreResult",
    "TagCount",
    "TimelineEntry",
    "TrendPoint",
    "check_number",
    "check_text",
    "has_visible",
    "scrub_text",
]

TENANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class Importance(StrEnum):
    """How much a memory matters; bounded boost in search, severity in reports."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class Source(StrEnum):
    """Which front-end a memory came in through."""

    SLACK = "slack"
    DISCORD = "discord"
    EMAIL = "email"
    MCP = "mcp"
    CLI = "cli"
    API = "api"
    WEB = "web"
    WEBHOOK = "webhook"
    GITHUB = "github"
    IMPORT = "import"
    CORE = "core"


# NaN and ±Infinity are refused wherever a value type takes a number (they compare false to every bound).
_Frozen = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

# --- text every value type takes: the one character rule -------------------------------------------------

# Control characters (Unicode category Cc) other than tab and newline; a carriage return is turned into
# a newline first, since CRLF text (Windows, mail) is ordinary input, not an attack.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me"})


def has_visible(text: str) -> bool:
    """True when some character of `text` shows (not only spaces, marks, zero-width or control ones)."""
    return any(unicodedata.category(ch) not in _INVISIBLE_CATEGORIES for ch in text)


def check_text(value: str, what: str = "text", *, required: bool = True) -> str:
    """`value` if every front-end may store and show it, else InvalidInput naming `what`.

    Refused: a lone surrogate (no UTF-8 form: no database, JSON answer or log line can hold it), NUL
    and other control characters except tab and newline, and (when `required`) text with no visible
    character at all (only spaces, zero-width or direction marks). CRLF and lone CR become newlines.
    """
    if not isinstance(value, str):
        raise InvalidInput(f"the {what} must be text")
    if _SURROGATE.search(value):
        raise InvalidInput(f"the {what} holds a lone surrogate (\\ud800-\\udfff), which is not a character")
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    bad = _CONTROL.search(value)
    if bad:
        raise InvalidInput(
            f"the {what} holds the control character U+{ord(bad.group()):04X}; "
            "only tab and newline are allowed"
        )
    if required and not value.strip():
        raise InvalidInput(f"the {what} is empty: there is nothing to remember")
    if required and not has_visible(value):
        raise InvalidInput(f"the {what} has no visible character: there is nothing to remember")
    return value


def scrub_text(value: str) -> str:
    """`value` without what `check_text` refuses (lone surrogates, control characters but tab and newline).

    For front-ends that ingest third-party content (a mail's body): they keep the readable rest rather
    than refuse the whole. Input a person typed is checked, not scrubbed.
    """
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _SURROGATE.sub("\ufffd", value))


def check_number(value: float, what: str) -> float:
    """`value` if it is a finite number, else InvalidInput (NaN and ±Infinity pass every bound check)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{what} must be a finite number")
    return value


def _optional_line(what: str) -> AfterValidator:
    """An optional field: checked like text; blank (nothing visible) becomes None."""

    def check(value: str | None) -> str | None:
        if value is None:
            return None
        value = check_text(value, what, required=False)
        return value.strip() if has_visible(value) else None

    return AfterValidator(check)


def _required(what: str) -> AfterValidator:
    return AfterValidator(lambda value: check_text(value, what))


Text = Annotated[str, _required("text")]
Title = Annotated[str | None, _optional_line("title")]
Author = Annotated[str | None, _optional_line("author")]
SourceRef = Annotated[str | None, _optional_line("source_ref")]
AuthorId = Annotated[str | None, _optional_line("author_id")]

MAX_TAG_CHARS = 64
Tag = Annotated[str, Field(min_length=1, max_length=MAX_TAG_CHARS)]

_TAG_SPACE = re.compile(r"\s+")


def normalise_tags(tags: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Tags are lower-case, without a leading '#', unique, in first-seen order.

    Whitespace inside a tag becomes '-' ("on call" -> "on-call"): tags are stored space-separated, so
    a space would make one tag read back as two.
    """
    seen: dict[str, None] = {}
    for tag in tags:
        check_text(tag, "tag", required=False)
        clean = _TAG_SPACE.sub("-", tag.strip().lstrip("#").strip().lower())
        if len(clean) > MAX_TAG_CHARS:
            raise InvalidInput(
                f"a tag is at most {MAX_TAG_CHARS} characters; {clean[:20]!a}... is {len(clean)}"
            )
        if clean and has_visible(clean):
            seen.setdefault(clean, None)
    return tuple(seen)


def _tags_before(value: object) -> object:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        return normalise_tags([v if isinstance(v, str) else str(v) for v in value])
    return value


Tags = Annotated[tuple[Tag, ...], BeforeValidator(_tags_before)]
"""Tags as every value type takes them: normalised (see normalise_tags) before validation."""


class Actor(BaseModel):
    """Who is asking: a platform-qualified id (`slack:T1:U2`), a display name, and admin rights."""

    model_config = _Frozen

    id: str
    name: str = ""
    is_admin: bool = False

    @property
    def display(self) -> str:
        return self.name or self.id


class MemoryDraft(BaseModel):
    """What a front-end hands to `store`: everything but what the core decides (id, hash, times)."""

    model_config = _Frozen

    text: Text
    kind: str = "note"
    tags: Tags = ()
    importance: Importance = Importance.NORMAL
    source: Source = Source.API
    source_ref: SourceRef = None
    title: Title = None
    author: Author = None
    author_id: AuthorId = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    supersedes: int | None = None
    links: tuple[int, ...] = ()  # ids this memory rests on (a reflection's sources)

    @field_validator("kind")
    @classmethod
    def _clean_kind(cls, value: str) -> str:
        value = value.strip().lower()
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", value):
            raise ValueError("kind must be a short lower-case word such as note, decision or incident")
        return value


class MemoryPatch(BaseModel):
    """Fields to change with `update`; None means leave as is (use `clear_expiry` to remove a TTL)."""

    model_config = _Frozen

    text: Text | None = None
    kind: str | None = None
    tags: Tags | None = None
    importance: Importance | None = None
    title: Title = None
    expires_at: datetime | None = None
    clear_expiry: bool = False
    # Marks this memory replaced by that one; the newer one's `supersedes` is set too unless it names one.
    superseded_by: int | None = None


class Memory(BaseModel):
    """One stored memory as front-ends see it (never an ORM row)."""

    model_config = _Frozen

    id: int
    tenant: str
    text: str
    kind: str
    tags: tuple[str, ...]
    importance: Importance
    source: Source
    source_ref: str | None
    title: str | None
    author: str | None
    author_id: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    supersedes: int | None
    superseded_by: int | None
    content_hash: str
    embedding_model: str
    access_count: int
    last_accessed_at: datetime | None
    links: tuple[int, ...] = ()

    @property
    def ref(self) -> str:
        """How users name a memory: `#42`."""
        return f"#{self.id}"

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class PossibleConflict(BaseModel):
    """A stored memory the new one may contradict: who wrote it, when, and why the core thinks so."""

    model_config = _Frozen

    id: int
    author: str | None
    created_at: datetime
    reason: str

    @property
    def warning(self) -> str:
        """`this may contradict #12 by alice on 3 Jan 2026`: how every front-end starts its warning."""
        by = f" by {self.author}" if self.author else ""
        return f"this may contradict #{self.id}{by} on {self.created_at.day} {self.created_at:%b %Y}"


class StoreResult(BaseModel):
    """The answer to a store: the memory, or the existing one when the text was already stored."""

    model_config = _Frozen

    memory: Memory
    created: bool
    duplicate_of: int | None = None
    near_duplicates: tuple[int, ...] = ()
    redacted: tuple[str, ...] = ()
    contradicts: tuple[PossibleConflict, ...] = ()  # stored memories this one may contradict

    @property
    def id(self) -> int:
        return self.memory.id


class QueryFilters(BaseModel):
    """Filters that narrow a query; all are optional and combine with AND (tags: all must be present)."""

    model_config = _Frozen

    tags: Tags = ()
    kind: Annotated[str | None, _optional_line("kind")] = None
    source: Source | None = None
    author: Author = None
    since: datetime | None = None
    until: datetime | None = None
    include_expired: bool = False
    include_superseded: bool = False


class ScoreBreakdown(BaseModel):
    """Why a hit ranks where it does: each signal and the bounded boosts applied to the fused score."""

    model_config = _Frozen

    vector_rank: int | None
    vector_similarity: float | None
    keyword_rank: int | None
    keyword_score: float | None
    fused: float
    date_boost: float = 0.0  # relative: the memory was written in a time the question names
    context: float = 0.0  # added: borrowed from a neighbouring turn of the same conversation
    importance_boost: float
    recency_boost: float
    final: float


class Hit(BaseModel):
    """A memory returned by a query, with its score and the breakdown behind it."""

    model_config = _Frozen

    memory: Memory
    score: float
    breakdown: ScoreBreakdown


class TagCount(BaseModel):
    model_config = _Frozen

    tag: str
    count: int


class Stats(BaseModel):
    """Counts that describe one tenant's memory and the index serving it."""

    model_config = _Frozen

    tenant: str
    memories: int
    expired: int
    by_kind: dict[str, int]
    by_source: dict[str, int]
    top_tags: tuple[TagCount, ...]
    indexed_vectors: int
    embedding_model: str
    embedding_dim: int
    oldest: datetime | None
    newest: datetime | None


class ExportRecord(BaseModel):
    """One line of `export` / `import_`: every field, plus the vector (base64 float32) and its model."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: int
    text: str
    kind: str = "note"
    tags: tuple[str, ...] = ()
    importance: Importance = Importance.NORMAL
    source: Source = Source.IMPORT
    source_ref: str | None = None
    title: str | None = None
    author: str | None = None
    author_id: str | None = None
    created_at: datetime
    updated_at: datetime | None = None
    expires_at: datetime | None = None
    supersedes: int | None = None
    superseded_by: int | None = None
    links: tuple[int, ...] = ()
    embedding_model: str | None = None
    embedding: str | None = None


class ReflectionPoint(BaseModel):
    """One key point of a reflection and the memory ids it rests on."""

    model_config = _Frozen

    text: str
    sources: tuple[int, ...]


class TimelineEntry(BaseModel):
    model_config = _Frozen

    when: datetime
    text: str
    id: int


class Conflict(BaseModel):
    """Memories that may contradict each other, and why the core thinks so.

    `newer` is the later memory of the pair; `current` the one that states the current position (the
    newer one, unless the older was restated after it) and `position` what it says.
    """

    model_config = _Frozen

    ids: tuple[int, ...]
    reason: str
    newer: int | None = None
    current: int | None = None
    position: str | None = None


class FindingFix(BaseModel):
    """The one-click fix of a finding: mark `memory_id` as superseded by `superseded_by`."""

    model_config = _Frozen

    action: str = "supersede"
    memory_id: int
    superseded_by: int


class Reflection(BaseModel):
    """A synthesis of related memories: summary, cited points, timeline, duplicates and conflicts.

    `id` is the saved reflection memory (None on a dry run). `synthesis` says who wrote the summary:
    "extractive", or "llm"; `notice` explains a fallback (e.g. the LLM endpoint timed out).
    """

    model_config = _Frozen

    id: int | None
    topic: str | None
    summary: str
    points: tuple[ReflectionPoint, ...]
    timeline: tuple[TimelineEntry, ...]
    duplicates: tuple[tuple[int, ...], ...]
    conflicts: tuple[Conflict, ...]
    sources: tuple[int, ...]
    synthesis: str = "extractive"
    notice: str | None = None


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Finding(BaseModel):
    """One problem the quality report found: kind (duplicate, stale, ...), severity, ids and a fix hint."""

    model_config = _Frozen

    kind: str
    severity: Severity
    memory_ids: tuple[int, ...]
    message: str
    hint: str
    fix: FindingFix | None = None


class TrendPoint(BaseModel):
    """One earlier report: when, its score, and how many findings of each kind it had."""

    model_config = _Frozen

    at: datetime
    score: int
    counts: dict[str, int] = Field(default_factory=dict)


class QualityReport(BaseModel):
    """A 0-100 score, the findings behind it, and the scores of earlier reports (oldest first)."""

    model_config = _Frozen

    id: int | None
    tenant: str
    score: int
    created_at: datetime
    findings: tuple[Finding, ...]
    trend: tuple[TrendPoint, ...]


class Scope(StrEnum):
    """What a key may do; each scope includes the ones before it: read < write < admin.

    read: query, get, list, reflect without saving, quality report without saving.
    write: also store, reflect and save, and delete the memories this key stored.
    admin: also delete anyone's memory.
    """

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: Scope) -> bool:
        """True when this scope includes `needed`."""
        return self.rank >= needed.rank


_RANK = {Scope.READ: 0, Scope.WRITE: 1, Scope.ADMIN: 2}
