"""One table from core error to the webhook's HTTP answer (status, wire code), like the REST API's."""

from __future__ import annotations

import logging
import secrets

from memory_core import InvalidInput, PermissionDenied, TeamloreError, TooLarge, Unavailable, UnknownIdentity

__all__ = ["error_answer"]

logger = logging.getLogger(__name__)

_TABLE: list[tuple[type[TeamloreError], int, str]] = [
    (UnknownIdentity, 403, "unknown_identity"),
    (PermissionDenied, 403, "permission_denied"),
    (TooLarge, 413, "too_large"),
    (InvalidInput, 422, "invalid_input"),
    (Unavailable, 503, "unavailable"),
]


def error_answer(exc: Exception) -> tuple[int, dict[str, str], dict[str, str]]:
    """(status, JSON body, headers) for an error; anything unexpected is a 500 with a logged reference."""
    for kind, status, code in _TABLE:
        if isinstance(exc, kind):
            headers = {"Retry-After": "30"} if status == 503 else {}
            return status, {"error": code, "detail": str(exc)}, headers
    reference = secrets.token_hex(3)
    logger.error("unexpected webhook error (ref %s)", reference, exc_info=exc)
    return 500, {"error": "internal", "detail": f"internal error (ref {reference})", "ref": reference}, {}
