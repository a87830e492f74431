"""Pure text hygiene: normalisation and content hashes for duplicates, and credential detection."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["CREDENTIAL_PATTERNS", "content_hash", "find_credentials", "normalise_text", "redact_credentials"]

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
