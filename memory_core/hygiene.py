"""Pure text hygiene: normalisation and hashes for duplicates, credential detection and the one guard."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from .errors import CredentialDetected

__all__ = [
    "CREDENTIAL_PATTERNS",
    "GUARDED_FIELDS",
    "content_hash",
    "find_credentials",
    "guard_draft",
    "guard_fields",
    "guard_value",
    "normalise_text",
    "redact_credentials",
    "redact_secrets",
]

_Model = TypeVar("_Model", bound=BaseModel)

_SPACE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """The form two texts share when they are 'the same': NFKC, case-folded, whitespace collapsed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CredentialPattern:
    kind: str
    pattern: re.Pattern[str]


# Each pattern names a kind that the user sees ("looks like an AWS access key"), never the match.
CREDENTIAL_PATTERNS: tuple[CredentialPattern, ...] = (
    CredentialPattern(
        "private key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY"
            r"(?: BLOCK)?-----|\Z)",
            re.DOTALL,
        ),
    ),
    CredentialPattern("AWS access key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b")),
    CredentialPattern(
        "AWS secret key",
        re.compile(r"(?i)aws_?secret(?:_?access)?_?key\s*[:=]\s*['\"]?[A-Za-z0-9/+=]{40}\b['\"]?"),
    ),
    CredentialPattern("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    CredentialPattern("Slack token", re.compile(r"\bxox[abposre]-[0-9A-Za-z\-]{10,}\b")),
    CredentialPattern("Slack app token", re.compile(r"\bxapp-\d-[0-9A-Za-z\-]{10,}\b")),
    CredentialPattern(
        "Slack webhook URL",
        re.compile(r"https://hooks\.slack\.com/services/T[0-9A-Z]+/B[0-9A-Z]+/[0-9A-Za-z]+"),
    ),
    CredentialPattern(
        "GitHub token", re.compile(r"\b(?:gh[pousr]_[0-9A-Za-z]{36,}|github_pat_[0-9A-Za-z_]{60,})\b")
    ),
    CredentialPattern("GitLab token", re.compile(r"\bglpat-[0-9A-Za-z_\-]{20,}\b")),
    CredentialPattern("Stripe key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}\b")),
    CredentialPattern("OpenAI key", re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{32,}\b")),
    CredentialPattern(
        "JSON web token", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")
    ),
    CredentialPattern(
        "password",
        re.compile(
            r"(?i)\b(?:password|passwd|pwd|passphrase|client[_-]?secret|secret[_-]?key|api[_-]?key"
            r"|access[_-]?token|auth[_-]?token)\s*(?:[:=]|\bis\b)\s*['\"]?"
            r"(?!(?:\*+|<[^>\s]*>|\.{3}|x{3,}|\[redacted[^\]]*\]|none|null)(?:['\"\s,;.]|$))"
            r"(?P<secret>[^\s'\"]{4,})"
        ),
    ),
    CredentialPattern(
        "password in URL",
        re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s/:@]+:(?P<secret>[^\s/@]{3,})@[^\s/]+", re.IGNORECASE),
    ),
)


def find_credentials(text: str) -> list[str]:
    """The kinds of credential the text seems to contain, in pattern order (empty: none)."""
    return [p.kind for p in CREDENTIAL_PATTERNS if p.pattern.search(text)]


def redact_credentials(text: str) -> tuple[str, list[str]]:
    """Replace each credential by `[REDACTED:<kind>]`; return the new text and the kinds found."""
    kinds: list[str] = []
    for p in CREDENTIAL_PATTERNS:
        replacement = f"[REDACTED:{p.kind}]"

        def _sub(match: re.Match[str], replacement: str = replacement) -> str:
            # Keep the words around the secret ("password=") so the memory still reads well.
            if "secret" in match.re.groupindex and match.group("secret") is not None:
                start, end = match.span("secret")
                whole_start = match.start()
                return (
                    match.group(0)[: start - whole_start] + replacement + match.group(0)[end - whole_start :]
                )
            return replacement

        text, count = p.pattern.subn(_sub, text)
        if count:
            kinds.append(p.kind)
    return text, kinds


# --- the guard: one refuse-or-redact rule for every user-supplied string of a memory -------------------

GUARDED_FIELDS: tuple[str, ...] = ("text", "title", "author", "source_ref", "tags")
"""The fields of a draft or patch the credential guard reads (every string a user can supply)."""

_FIELD_NAMES = {"text": "text", "title": "title", "author": "author", "source_ref": "source reference"}


def guard_value(value: str, field: str, *, redact: bool) -> tuple[str, list[str]]:
    """`value` with credentials redacted (or CredentialDetected naming `field`), and the kinds found."""
    kinds = find_credentials(value)
    if not kinds:
        return value, []
    if not redact:
        raise CredentialDetected(kinds, field=_FIELD_NAMES.get(field, field))
    redacted, found = redact_credentials(value)
    return redacted, found


def guard_fields(values: Mapping[str, object], *, redact: bool) -> tuple[dict[str, object], tuple[str, ...]]:
    """The guarded fields of `values` that changed, and the kinds of credential redacted (unique, in order).

    Strings are redacted in place ("password=[REDACTED:password]"); a tag holding a secret is dropped
    (a redacted tag would group unrelated memories under "[redacted:...]"). Refused (redact False):
    CredentialDetected, whose message names the field and the kinds, never the secret.
    """
    changes: dict[str, object] = {}
    kinds: dict[str, None] = {}
    for field in GUARDED_FIELDS:
        value = values.get(field)
        if isinstance(value, str):
            clean, found = guard_value(value, field, redact=redact)
            if found:
                changes[field] = clean
        elif isinstance(value, tuple | list) and field == "tags":
            kept: list[str] = []
            found = []
            for tag in value:
                tag_kinds = _tag_credentials(str(tag))
                if tag_kinds and not redact:
                    raise CredentialDetected(tag_kinds, field="tag")
                found.extend(tag_kinds)
                if not tag_kinds:
                    kept.append(str(tag))
            if found:
                changes[field] = tuple(kept)
        else:
            continue
        kinds.update(dict.fromkeys(found))
    return changes, tuple(kinds)


# Tags reach the guard normalised (lower case, spaces as '-'), so they are read case-blind, with and
# without their dashes read back as spaces ("-----begin-private-key-----").
_TAG_PATTERNS = tuple(
    CredentialPattern(p.kind, re.compile(p.pattern.pattern, p.pattern.flags | re.IGNORECASE))
    for p in CREDENTIAL_PATTERNS
)


def _tag_credentials(tag: str) -> list[str]:
    spaced = re.sub(r"(?<=\w)-(?=\w)", " ", tag)
    return [p.kind for p in _TAG_PATTERNS if p.pattern.search(tag) or p.pattern.search(spaced)]


def guard_draft(draft: _Model, *, redact: bool) -> tuple[_Model, tuple[str, ...]]:
    """A MemoryDraft or MemoryPatch through `guard_fields`: the same object when nothing was found."""
    changes, kinds = guard_fields({f: getattr(draft, f, None) for f in GUARDED_FIELDS}, redact=redact)
    return (draft.model_copy(update=changes) if changes else draft), kinds


def redact_secrets(text: str) -> str:
    """`text` with every credential redacted: how the query log keeps a question (findings quote it),
    and how a front-end compares a value of its own with one the guard stored (a Message-ID)."""
    return redact_credentials(text)[0] if find_credentials(text) else text
