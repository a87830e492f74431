"""Signed tokens: the session cookie, its CSRF token, and one-time sign-in links (pure, no I/O)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

__all__ = ["Session", "SignInLink", "csrf_for", "read_link", "read_session", "sign_link", "sign_session"]


@dataclass(frozen=True)
class Session:
    """Who a cookie says is signed in: an API key id, until `expires` (Unix seconds); `nonce` ties CSRF."""

    key_id: int
    expires: int
    nonce: str


@dataclass(frozen=True)
class SignInLink:
    """A one-time sign-in link: a key id and an expiry; `nonce` makes each link usable once."""

    key_id: int
    expires: int
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, purpose: str, payload: str) -> str:
    # The purpose is part of the MAC, so a session cookie can never be replayed as a link or the reverse.
    return _b64(hmac.new(secret, f"{purpose}.{payload}".encode(), hashlib.sha256).digest())


def _sign(secret: bytes, purpose: str, body: dict[str, Any]) -> str:
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_mac(secret, purpose, payload)}"


def _read(secret: bytes, purpose: str, token: str) -> dict[str, Any] | None:
    payload, _, mac = token.partition(".")
    if not payload or not mac or not hmac.compare_digest(mac, _mac(secret, purpose, payload)):
        return None
    try:
        body = json.loads(_unb64(payload))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("k"), int) or not isinstance(body.get("e"), int):
        return None
    if not isinstance(body.get("n"), str):
        return None
    return body


def sign_session(secret: bytes, key_id: int, expires: int) -> str:
    return _sign(secret, "session", {"k": key_id, "e": expires, "n": secrets.token_urlsafe(16)})


def read_session(secret: bytes, token: str) -> Session | None:
    """The session a cookie carries, or None when it was not signed by us (expiry is the caller's)."""
    body = _read(secret, "session", token)
    return None if body is None else Session(body["k"], body["e"], body["n"])


def csrf_for(secret: bytes, nonce: str) -> str:
    """The CSRF token of a session (or of a sign-in form): forms carry it, POSTs must return it."""
    return _mac(secret, "csrf", nonce)


def sign_link(secret: bytes, key_id: int, expires: int) -> str:
    return _sign(secret, "link", {"k": key_id, "e": expires, "n": secrets.token_urlsafe(16)})


def read_link(secret: bytes, token: str) -> SignInLink | None:
    body = _read(secret, "link", token)
    return None if body is None else SignInLink(body["k"], body["e"], body["n"])
