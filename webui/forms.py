"""Form and query-string input -> the core's value types, with a message per field (pure, no I/O)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, cast

from pydantic import ValidationError

from memory_core import Actor, Importance, Memory, MemoryDraft, MemoryPatch, QueryFilters, Source

__all__ = [
    "MODES",
    "FieldErrors",
    "SearchForm",
    "draft_from",
    "errors_of",
    "extended",
    "filters_from",
    "parse_date",
    "parse_tags",
    "patch_from",
]

Mode = Literal["hybrid", "vector", "keyword"]
MODES: tuple[Mode, ...] = ("hybrid", "keyword", "vector")
_TAG_SPLIT = re.compile(r"[,\s]+")
_MAX_FIELD = 100_000  # longer than any text the core takes; past it the core's own size message applies


class FieldErrors(Exception):
    """Input that cannot become a value type: one message per form field (shown next to it)."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def errors_of(exc: ValidationError) -> dict[str, str]:
    """A value type's validation errors keyed by the form field they belong to."""
    out: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "text"
        message = str(error["msg"]).removeprefix("Value error, ")
        out.setdefault("expires" if field == "expires_at" else field, message)
    return out


def _get(form: Mapping[str, str], name: str) -> str:
    return str(form.get(name) or "").strip()[:_MAX_FIELD]


def parse_tags(text: str) -> tuple[str, ...]:
    """`infra, vpn` or `#infra #vpn` -> ("infra", "vpn")."""
    return tuple(t for t in _TAG_SPLIT.split(text) if t.strip("#"))


def parse_date(text: str, field: str, *, end_of_day: bool = False) -> datetime | None:
    """A date (2026-01-31) or a date and time (2026-01-31T09:30) as UTC; empty -> None."""
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max if end_of_day else time.min, tzinfo=UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise FieldErrors({field: f"{text!r} is not a date such as 2026-01-31"}) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _importance(text: str) -> Importance:
    try:
        return Importance(text or "normal")
    except ValueError:
        raise FieldErrors({"importance": "choose low, normal, high or critical"}) from None


def _future(expires: datetime | None, now: datetime) -> datetime | None:
    if expires is not None and expires <= now:
        raise FieldErrors({"expires": "the expiry must be in the future"})
    return expires


def draft_from(form: Mapping[str, str], actor: Actor, now: datetime) -> MemoryDraft:
    """The store form -> a draft written by `actor` through the web."""
    replaces = _get(form, "supersedes").lstrip("#")
    if replaces and (not replaces.isdigit() or len(replaces) > 18):
        raise FieldErrors({"supersedes": "give the id of the memory this one replaces, e.g. 42"})
    try:
        return MemoryDraft(
            text=_get(form, "text"),
            kind=_get(form, "kind") or "note",
            tags=parse_tags(_get(form, "tags")),
            importance=_importance(_get(form, "importance")),
            source=Source.WEB,
            title=_get(form, "title") or None,
            author=actor.display,
            author_id=actor.id,
            expires_at=_future(parse_date(_get(form, "expires"), "expires", end_of_day=True), now),
            supersedes=int(replaces) if replaces else None,
        )
    except ValidationError as exc:
        raise FieldErrors(errors_of(exc)) from None


def patch_from(form: Mapping[str, str], current: Memory, now: datetime) -> MemoryPatch:
    """The edit form -> a patch that changes only what differs from `current` (the text is re-checked)."""
    text = _get(form, "text")
    if not text:
        raise FieldErrors({"text": "the text is empty: write what to remember"})
    expires = parse_date(_get(form, "expires"), "expires", end_of_day=True)
    clear = form.get("no_expiry") == "on" or (expires is None and current.expires_at is not None)
    if expires is not None and (current.expires_at is None or expires.date() != current.expires_at.date()):
        _future(expires, now)
    else:
        expires = None
    kind = _get(form, "kind") or None
    if kind is not None:
        try:  # the store path's rule for kinds, and its message
            kind = MemoryDraft(text=text, kind=kind).kind
        except ValidationError as exc:
            raise FieldErrors({"kind": errors_of(exc).get("kind", "not a kind")}) from None
    try:
        return MemoryPatch(
            text=text if text != current.text else None,
            kind=kind,
            tags=parse_tags(_get(form, "tags")),
            importance=_importance(_get(form, "importance")),
            expires_at=None if clear else expires,
            clear_expiry=clear,
        )
    except ValidationError as exc:
        raise FieldErrors(errors_of(exc)) from None


class SearchForm:
    """The search page's inputs, kept as typed (to fill the form again) and as core filters."""

    def __init__(self, params: Mapping[str, str]) -> None:
        self.values = {
            name: _get(params, name)
            for name in ("q", "tags", "kind", "source", "author", "since", "until", "limit", "mode")
        }
        self.values["include_expired"] = "on" if params.get("include_expired") == "on" else ""

    @property
    def question(self) -> str:
        return self.values["q"]


def filters_from(form: SearchForm) -> tuple[QueryFilters, int, Mode]:
    """Filters, limit and mode of a search; FieldErrors names each bad field."""
    v = form.values
    errors: dict[str, str] = {}
    source: Source | None = None
    if v["source"]:
        try:
            source = Source(v["source"])
        except ValueError:
            errors["source"] = "choose one of the listed sources"
    limit = 10
    if v["limit"]:
        if not v["limit"].isdigit() or not 1 <= int(v["limit"]) <= 100:
            errors["limit"] = "limit must be between 1 and 100"
        else:
            limit = int(v["limit"])
    mode = v["mode"] or "hybrid"
    if mode not in MODES:
        errors["mode"] = "choose hybrid, keyword or vector"
    since = until = None
    for name in ("since", "until"):
        try:
            value = parse_date(v[name], name, end_of_day=name == "until")
        except FieldErrors as exc:
            errors.update(exc.fields)
            continue
        since, until = (value, until) if name == "since" else (since, value)
    if since and until and since > until:
        errors["until"] = "until is before since"
    if errors:
        raise FieldErrors(errors)
    try:
        filters = QueryFilters(
            tags=parse_tags(v["tags"]),
            kind=v["kind"] or None,
            source=source,
            author=v["author"] or None,
            since=since,
            until=until,
            include_expired=v["include_expired"] == "on",
        )
    except ValidationError as exc:
        raise FieldErrors(errors_of(exc)) from None
    return filters, limit, cast(Mode, mode)


def extended(memory: Memory, now: datetime, days: int) -> datetime:
    """A new expiry `days` after now (or after the current expiry, when that is later)."""
    base = max(now, memory.expires_at) if memory.expires_at else now
    return base + timedelta(days=days)
