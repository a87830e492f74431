"""The five secret shapes of issue #14 and the fields they may hide in: one table for every front-end's test.

Each value is a made-up credential of the exact shape a scanner (and the guard) looks for; the AWS one
is AWS's own documentation example. Short enough to fit in a tag (64 characters).
"""

from __future__ import annotations

SECRETS: dict[str, str] = {
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "github": "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "slack": "xoxb-1234567890-abcdefghijKLMN",
    "private_key": "-----BEGIN PRIVATE KEY-----",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.c2lnbmF0dXJlX18",
}
"""name -> a credential of that shape."""

FIELDS = ("text", "title", "author", "source_ref", "tags")
"""The user-supplied string fields of a memory the guard reads."""

CASES = [(field, name) for field in FIELDS for name in SECRETS]
CASE_IDS = [f"{field}-{name}" for field, name in CASES]


def carrying(secret: str) -> str:
    """A plausible value that carries `secret` among ordinary words."""
    return f"deploy note {secret} for staging"


def leaked(secret: str, *values: object) -> bool:
    """True when `secret` (case-blind: tags are lower-cased) shows anywhere in `values`."""
    needle = secret.lower()
    return any(needle in str(value).lower() for value in values)
