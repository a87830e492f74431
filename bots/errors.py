"""The one table from core errors to the words of a chat reply (Slack, Discord and `teamlore shell`).

STYLE.md fixes the words: "Can't store that: {reason}", "No memory #{id}.", "Already remembered as
#{id}.", "Memory is busy, try again in a minute.", and "Something went wrong (ref ab12cd)." for anything
unexpected, logged here with the same reference id (this is the boundary that handles it). Front-ends
add their own protocol errors (a Discord cooldown, say) in their own `errors.py` and delegate the rest here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from memory_core import (
    ConfigurationError,
    Duplicate,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TeamloreError,
    Unavailable,
    UnknownIdentity,
    lookup_error,
    new_reference,
)

from .replies import ErrorReply

__all__ = ["CHAT_ERRORS", "error_reply"]

logger = logging.getLogger(__name__)


def _sentence(error: BaseException) -> str:
    text = str(error).strip().rstrip(".")
    return text[:1].upper() + text[1:] + "." if text else ""


def _invalid(error: TeamloreError, action: str) -> ErrorReply:
    return ErrorReply(f"Can't {action} that: {str(error).strip().rstrip('.')}.")


def _not_found(error: TeamloreError, action: str) -> ErrorReply:
    return ErrorReply(f"No memory #{error.memory_id}." if isinstance(error, NotFound) else "No such memory.")


def _duplicate(error: TeamloreError, action: str) -> ErrorReply:
    return ErrorReply(
        f"Already remembered as #{error.existing_id}."
        if isinstance(error, Duplicate)
        else "Already remembered."
    )


def _unknown_identity(error: TeamloreError, action: str) -> ErrorReply:
    return ErrorReply(f"{_sentence(error)} Ask an admin to add it to teamlore's tenant map.")


def _denied(error: TeamloreError, action: str) -> ErrorReply:
    return ErrorReply(f"Not allowed: {str(error).strip().rstrip('.')}.")


def _busy(error: TeamloreError, action: str) -> ErrorReply:
    return ErrorReply("Memory is busy, try again in a minute.")


def _misconfigured(error: TeamloreError, action: str) -> ErrorReply:
    # A person must read the log, as for an unexpected error: hence a reference id.
    ref = new_reference()
    logger.error("teamlore is misconfigured (ref %s): %s", ref, error)
    return ErrorReply(f"teamlore is not set up right; an admin must check the log (ref {ref}).", ref)


# Looked up along the error's MRO (`memory_core.lookup_error`): the most specific class listed wins.
CHAT_ERRORS: dict[type[BaseException], Callable[[TeamloreError, str], ErrorReply]] = {
    InvalidInput: _invalid,
    NotFound: _not_found,
    Duplicate: _duplicate,
    UnknownIdentity: _unknown_identity,
    PermissionDenied: _denied,
    Unavailable: _busy,
    ConfigurationError: _misconfigured,
}


def error_reply(error: BaseException, *, action: str = "do") -> ErrorReply:
    """The reply for `error` raised while doing `action` (store, query, reflect, forget).

    Expected core errors become their table entry; anything else is logged with a fresh reference id.
    """
    reply = lookup_error(CHAT_ERRORS, error)
    if reply is not None and isinstance(error, TeamloreError):
        return reply(error, action)
    ref = new_reference()
    logger.error("unexpected error while trying to %s (ref %s)", action, ref, exc_info=error)
    return ErrorReply(f"Something went wrong (ref {ref}).", ref)
