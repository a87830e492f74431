"""The one table from core errors to what a page says, with its HTTP status."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from memory_core import (
    ConfigurationError,
    Duplicate,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooLarge,
    Unavailable,
    UnknownIdentity,
    lookup_error,
    new_reference,
)

__all__ = ["page_error"]

logger = logging.getLogger(__name__)

# Looked up along the exception's MRO (`memory_core.lookup_error`): the most specific entry wins.
_TABLE: dict[type[BaseException], tuple[int, str, Callable[[Any], str]]] = {
    InvalidInput: (422, "That did not work", lambda e: f"{e}"),
    TooLarge: (413, "Too large", lambda e: f"{e}"),
    NotFound: (404, "Not found", lambda e: f"No memory #{e.memory_id}."),
    Duplicate: (409, "Already remembered", lambda e: f"Already remembered as #{e.existing_id}."),
    UnknownIdentity: (401, "Sign in again", lambda e: f"{e}"),
    PermissionDenied: (403, "Not allowed", lambda e: f"{e}"),
    Unavailable: (503, "Busy", lambda e: "Memory is busy, try again in a minute."),
    ConfigurationError: (503, "Needs its operator", lambda e: f"{e}"),
}


def page_error(exc: BaseException) -> tuple[int, str, str]:
    """(status, heading, message) for an error page. Unexpected errors get a reference id, logged here."""
    entry = lookup_error(_TABLE, exc)
    if entry is not None:
        status, heading, render = entry
        return status, heading, render(exc)
    ref = new_reference()
    logger.error("unexpected error in a web page (ref %s)", ref, exc_info=exc)
    return 500, "Something went wrong", f"Something went wrong (ref {ref})."
