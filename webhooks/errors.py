"""One table from core error to the webhook's HTTP answer (status, wire code), like the REST API's."""

from __future__ import annotations

import logging

from memory_core import (
    InvalidInput,
    PermissionDenied,
    TooLarge,
    Unavailable,
    UnknownIdentity,
    lookup_error,
    new_reference,
)

__all__ = ["error_answer"]

logger = logging.getLogger(__name__)

# Looked up along the error's MRO (`memory_core.lookup_error`): the most specific class listed wins.
_STATUS: dict[type[BaseException], tuple[int, str]] = {
    UnknownIdentity: (403, "unknown_identity"),
    PermissionDenied: (403, "permission_denied"),
    TooLarge: (413, "too_large"),
    InvalidInput: (422, "invalid_input"),
    Unavailable: (503, "unavailable"),
}


def error_answer(exc: BaseException) -> tuple[int, dict[str, str], dict[str, str]]:
    """(status, JSON body, headers) for an error; anything unexpected is a 500 with a logged reference."""
    entry = lookup_error(_STATUS, exc)
    if entry is not None:
        status, code = entry
        headers = {"Retry-After": "30"} if status == 503 else {}
        return status, {"error": code, "detail": str(exc)}, headers
    reference = new_reference()
    logger.error("unexpected webhook error (ref %s)", reference, exc_info=exc)
    return 500, {"error": "internal", "detail": f"internal error (ref {reference})", "ref": reference}, {}
