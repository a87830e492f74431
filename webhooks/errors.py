"""One table from core error to the webhook's HTTP answer (status, wire code), like the REST API's."""

from __future__ import annotations

import logging

from memory_core import (
    InvalidInput,
    PermissionDenied,
    TooLarge,
    Unavailable,
    UnknownIdentity,
    error_code,
    lookup_error,
    new_reference,
)

__all__ = ["error_answer"]

logger = logging.getLogger(__name__)

# Looked up along the error's MRO (`memory_core.lookup_error`): the most specific class listed wins.
# The wire code is the error class's own (`memory_core.error_code`), as the REST API sends it.
_STATUS: dict[type[BaseException], int] = {
    UnknownIdentity: 403,  # an unmapped repository: a credential (the signature) was fine
    PermissionDenied: 403,
    TooLarge: 413,
    InvalidInput: 422,
    Unavailable: 503,
}


def error_answer(exc: BaseException) -> tuple[int, dict[str, str], dict[str, str]]:
    """(status, JSON body, headers) for an error; anything unexpected is a 500 with a logged reference."""
    status = lookup_error(_STATUS, exc)
    if status is not None:
        headers = {"Retry-After": "30"} if status == 503 else {}
        return status, {"error": error_code(exc), "detail": str(exc)}, headers
    reference = new_reference()
    logger.error("unexpected webhook error (ref %s)", reference, exc_info=exc)
    return 500, {"error": "internal", "detail": f"internal error (ref {reference})", "ref": reference}, {}
