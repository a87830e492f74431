"""GitHub events -> memory drafts, as pure functions: which events are remembered, and in what words.

Remembered: a pull request closed and merged, an issue closed as completed, a release published.
Everything else (pushes, comments, reviews, an issue closed as not planned, ...) is not a memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from memory_core import InvalidInput, scrub_text

__all__ = ["GitHubItem", "item_for", "repository_of"]

# A label with one of these names makes the memory of that kind (case-insensitive).
_KIND_LABELS = {"decision": "decision", "incident": "incident"}
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)  # PR templates are full of them
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_TAG_CHARS = re.compile(r"[^a-z0-9_.-]+")
_MAX_DESCRIPTION = 2000
_MAX_TAGS = 16  # a pull request with dozens of labels is still remembered, with the first ones


@dataclass(frozen=True)
class GitHubItem:
    """What one remembered event says, ready to become a memory draft."""

    repository: str
    text: str
    title: str
    kind: str
    tags: tuple[str, ...]
    author: str | None
    url: str | None
    when: datetime | None


def _field(payload: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def _text(payload: Any, *path: str) -> str | None:
    # GitHub's text is third-party content, like a mail's body: keep the readable rest of a description
    # with a stray control character rather than refuse the whole event.
    value = _field(payload, *path)
    value = scrub_text(value).strip() if isinstance(value, str) else None
    return value or None


def repository_of(payload: Any) -> str | None:
    """`owner/name` of the event's repository (None for organisation-wide events such as some pings)."""
    return _text(payload, "repository", "full_name")


def first_paragraphs(body: str | None, count: int) -> str:
    """The first `count` paragraphs of a Markdown description, without HTML comments, within 2000 chars."""
    if not body or count <= 0:
        return ""
    paragraphs = [p.strip() for p in _PARAGRAPH_BREAK.split(_COMMENT.sub("", body.replace("\r\n", "\n")))]
    kept = "\n\n".join([p for p in paragraphs if p][:count])
    return kept if len(kept) <= _MAX_DESCRIPTION else kept[: _MAX_DESCRIPTION - 1].rstrip() + "…"


def _labels(item: Any) -> list[str]:
    labels = _field(item, "labels")
    names = [_text(label, "name") for label in labels] if isinstance(labels, list) else []
    return [n for n in names if n]


def _tag(label: str) -> str:
    return _TAG_CHARS.sub("-", label.strip().lower()).strip("-")[:64]


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _require(payload: Any, what: str, *path: str) -> str:
    value = _text(payload, *path)
    if value is None:
        raise InvalidInput(f"this {what} payload has no {'.'.join(path)}: is it really from GitHub?")
    return value


def _issue_like(payload: Any, key: str, verb: str, default_kind: str, count: int) -> GitHubItem:
    """A merged pull request or a completed issue: same shape, different words."""
    repository = _require(payload, key, "repository", "full_name")
    item = _field(payload, key)
    title = _require(payload, key, key, "title")
    number = _field(item, "number")
    labels = _labels(item)
    kind = next((_KIND_LABELS[n.lower()] for n in labels if n.lower() in _KIND_LABELS), default_kind)
    url = _text(item, "html_url")
    ref = f"#{number}" if isinstance(number, int) else ""
    parts = [f"{verb} {ref} in {repository}: {title}".replace("  ", " ")]
    description = first_paragraphs(_text(item, "body"), count)
    if description:
        parts.append(description)
    if url:
        parts.append(url)
    return GitHubItem(
        repository=repository,
        text="\n\n".join(parts),
        title=title[:500],
        kind=kind,
        tags=tuple(t for t in ("github", *(_tag(n) for n in labels)) if t)[:_MAX_TAGS],
        author=_text(item, "user", "login"),
        url=url,
        when=_when(_text(item, "merged_at") or _text(item, "closed_at")),
    )


def _release(payload: Any, count: int) -> GitHubItem:
    repository = _require(payload, "release", "repository", "full_name")
    release = _field(payload, "release")
    tag = _require(payload, "release", "release", "tag_name")
    name = _text(release, "name") or tag
    url = _text(release, "html_url")
    heading = f"Released {name} of {repository}" + (f" (tag {tag})" if name != tag else "")
    parts = [heading + (" as a pre-release" if _field(release, "prerelease") is True else "")]
    notes = first_paragraphs(_text(release, "body"), count)
    if notes:
        parts.append(notes)
    if url:
        parts.append(url)
    return GitHubItem(
        repository=repository,
        text="\n\n".join(parts),
        title=name[:500],
        kind="release",
        tags=("github", "release"),
        author=_text(release, "author", "login"),
        url=url,
        when=_when(_text(release, "published_at")),
    )


def item_for(event: str, payload: Any, *, paragraphs: int) -> GitHubItem | None:
    """The memory an event makes, or None when the event is not one teamlore remembers.

    Raises:
        InvalidInput: a remembered event whose payload lacks what GitHub always sends.
    """
    action = _field(payload, "action")
    if event == "pull_request" and action == "closed" and _field(payload, "pull_request", "merged") is True:
        return _issue_like(payload, "pull_request", "Merged pull request", "change", paragraphs)
    if event == "issues" and action == "closed" and _field(payload, "issue", "state_reason") == "completed":
        return _issue_like(payload, "issue", "Completed issue", "issue", paragraphs)
    if event == "release" and action == "published":
        return _release(payload, paragraphs)
    return None
