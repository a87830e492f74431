"""The two signature schemes, as pure functions: teamlore's timestamped HMAC and GitHub's body HMAC."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["BadSignature", "sign_github", "sign_teamlore", "verify_github", "verify_teamlore"]


class BadSignature(Exception):
    """The delivery is not signed with the hook's secret, or not recently; the message says which."""


def sign_teamlore(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, b"<timestamp>." + body): X-Teamlore-Signature."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def sign_github(secret: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, body): GitHub's X-Hub-Signature-256."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_teamlore(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, *, now: float, tolerance: int
) -> None:
    """Raise BadSignature unless `signature` signs `timestamp.body` and the timestamp is within tolerance.

    The timestamp is inside the signed bytes, so an old delivery cannot be replayed with a new one.
    """
    if not timestamp or not signature:
        raise BadSignature("send X-Teamlore-Timestamp and X-Teamlore-Signature: sha256=<hex>")
    try:
        when = int(timestamp.strip())
    except ValueError:
        raise BadSignature("X-Teamlore-Timestamp must be Unix time in seconds") from None
    if abs(now - when) > tolerance:
        raise BadSignature(
            f"X-Teamlore-Timestamp is {abs(now - when):.0f} s from the server's clock "
            f"(at most {tolerance} s): sign each delivery when you send it"
        )
    if not hmac.compare_digest(sign_teamlore(secret, when, body), signature.strip()):
        raise BadSignature("the signature does not match this hook's secret")


def verify_github(secret: str, signature: str | None, body: bytes) -> None:
    """Raise BadSignature unless X-Hub-Signature-256 signs the body with the configured secret."""
    if not signature:
        raise BadSignature("missing X-Hub-Signature-256: set the webhook's Secret on GitHub")
    if not hmac.compare_digest(sign_github(secret, body), signature.strip()):
        raise BadSignature("X-Hub-Signature-256 does not match the configured secret")
