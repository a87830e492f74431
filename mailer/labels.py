"""What a mail says besides its text: [bracket] tags, #hashtags, plus-addresses, priority, supersedes:#N."""

from __future__ import annotations

import re
from collections.abc import Iterable

from memory_core import Importance

__all__ = [
    "bracket_tags",
    "clean_subject",
    "combine_importance",
    "hashtags",
    "header_importance",
    "importance_markers",
    "merge_tags",
    "plus_tags",
    "strip_supersedes",
    "supersedes_markers",
    "word_importance",
]

_TAG = r"[A-Za-z0-9][A-Za-z0-9_.\-/]{0,62}"
_BRACKET = re.compile(r"\[\s*(" + _TAG + r")\s*\]")
# A hashtag starts with a letter and is not part of a word, URL fragment or HTML entity.
_HASHTAG = re.compile(r"(?<![\w&#/=?])#([A-Za-z][A-Za-z0-9_\-]{0,62})(?![\w#])")
_PREFIX = re.compile(
    r"^\s*((re|aw|sv|vs|antw|fwd?|fw|tr|wg|rv|enc|doorst|vb)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
_MARKER = re.compile(r"(?<!\S)!(low|high|critical)\b", re.IGNORECASE)
# The chat grammar's `supersedes:#12` (the # optional), as a word of its own.
_SUPERSEDES = re.compile(r"(?<!\S)supersedes:\s?#?(\d{1,18})(?![\w#])", re.IGNORECASE)
_URGENT_WORDS = re.compile(
    r"\b(urgent|urgente|dringend|asap|emergency|important|high priority|critical|outage|sev[ -]?[01]|p0)\b",
    re.IGNORECASE,
)
_HEX_COLOUR = re.compile(r"[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}")
_CODE_WORDS = frozenset(
    {"include", "define", "undef", "if", "ifdef", "ifndef", "else", "elif", "endif", "pragma", "import",
     "error", "warning", "line", "region", "endregion", "bin", "main", "top", "content", "header", "footer"}
)  # fmt: skip
# Subject tags that say where a mail came from, not what it is about.
_NOISE_TAGS = frozenset({"external", "ext", "extern", "fwd", "fw", "spam", "suspected-spam", "bulk"})

_RANK = {Importance.LOW: 0, Importance.NORMAL: 1, Importance.HIGH: 2, Importance.CRITICAL: 3}


def clean_subject(subject: str) -> str:
    """The subject without Re:/Fwd: prefixes, [bracket] tags, !importance and supersedes:#N markers."""
    text = subject
    for _ in range(5):  # "Fwd: [infra] Re: ..." interleaves prefixes and tags
        before = text
        text = _PREFIX.sub("", text)
        text = re.sub(r"^\s*" + _BRACKET.pattern, "", text)
        if text == before:
            break
    text = _BRACKET.sub(" ", text)
    text = _MARKER.sub(" ", text)
    text = _SUPERSEDES.sub(" ", text)
    return " ".join(text.split()).strip(" -:")


def bracket_tags(subject: str) -> list[str]:
    return [tag for tag in _BRACKET.findall(subject) if tag.lower() not in _NOISE_TAGS]


def hashtags(text: str) -> list[str]:
    """#hashtags in prose; not CSS colours (#ffcc00) or code (#include, #endif)."""
    return [
        tag
        for tag in _HASHTAG.findall(text)
        if not _HEX_COLOUR.fullmatch(tag) and tag.lower() not in _CODE_WORDS
    ]


def plus_tags(address: str) -> list[str]:
    """`lore+infra+db@acme.com` -> ["infra", "db"]."""
    local = address.rpartition("@")[0] if "@" in address else address
    return [part for part in local.split("+")[1:] if re.fullmatch(_TAG, part)]


def merge_tags(groups: Iterable[Iterable[str]], limit: int) -> tuple[str, ...]:
    """Lower-case, unique, first seen first, at most `limit`."""
    seen: dict[str, None] = {}
    for group in groups:
        for tag in group:
            clean = tag.strip().lstrip("#").strip(".-/").lower()
            if clean and len(seen) < limit:
                seen.setdefault(clean, None)
    return tuple(seen)


def supersedes_markers(text: str) -> tuple[int, ...]:
    """The ids of `supersedes:#12` markers, each once, first seen first."""
    return tuple(dict.fromkeys(int(found) for found in _SUPERSEDES.findall(text)))


def strip_supersedes(text: str) -> str:
    """`text` without its supersedes:#N markers (they are instructions, not what the mail says)."""
    if not _SUPERSEDES.search(text):
        return text
    lines = [" ".join(_SUPERSEDES.sub(" ", line).split()) if _SUPERSEDES.search(line) else line
             for line in text.splitlines()]  # fmt: skip
    return "\n".join(lines).strip()


def importance_markers(text: str) -> Importance | None:
    """An explicit `!low` / `!high` / `!critical` marker (the chat grammar's), highest wins."""
    found = [Importance(marker.lower()) for marker in _MARKER.findall(text)]
    return max(found, key=_RANK.__getitem__) if found else None


def header_importance(headers: dict[str, str]) -> Importance | None:
    """From Importance, X-Priority, Priority and X-MSMail-Priority (header names lower-case)."""
    levels: list[Importance] = []
    for name in ("importance", "x-msmail-priority", "priority"):
        value = headers.get(name, "").strip().lower()
        if value in ("high", "urgent"):
            levels.append(Importance.HIGH)
        elif value in ("low", "non-urgent"):
            levels.append(Importance.LOW)
    match = re.match(r"\s*(\d)", headers.get("x-priority", ""))
    if match:
        level = int(match.group(1))
        if level <= 2:
            levels.append(Importance.HIGH)
        elif level >= 4:
            levels.append(Importance.LOW)
    return max(levels, key=_RANK.__getitem__) if levels else None


def word_importance(text: str) -> Importance | None:
    """HIGH when the text says it is urgent (urgent, ASAP, emergency, outage, sev1, ...)."""
    return Importance.HIGH if _URGENT_WORDS.search(text) else None


def combine_importance(explicit: Importance | None, others: Iterable[Importance | None]) -> Importance:
    """An explicit marker wins; otherwise the highest signal; NORMAL when nothing says anything."""
    if explicit is not None:
        return explicit
    found = [level for level in others if level is not None]
    return max(found, key=_RANK.__getitem__) if found else Importance.NORMAL
