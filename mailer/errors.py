"""The mail front-end's errors and its ONE table from error type to SMTP reply (RFC 5321 + RFC 3463 codes).

    memory_core.InvalidInput
    └── MalformedMail           the bytes are not a mail we can read anything from
    memory_core.PermissionDenied
    └── SenderNotAllowed        the envelope sender is not on the allowlist

Everything the server answers on purpose comes from `smtp_reply`; an exception the table does not know
is answered `451 4.3.0` (the sender's MTA keeps the mail and retries) with a short reference id that is
also written to the log with the traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from memory_core import (
    ConfigurationError,
    CredentialDetected,
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

__all__ = ["MalformedMail", "SenderNotAllowed", "is_refusal", "smtp_reply"]

logger = logging.getLogger(__name__)

_MAX_REPLY_CHARS = 400


class MalformedMail(InvalidInput):
    """The message is malformed beyond repair: nothing readable could be taken from it."""


class SenderNotAllowed(PermissionDenied):
    """The envelope sender is not on the sender allowlist."""


# The one table. Looked up along the exception's MRO (`memory_core.lookup_error`): the most specific wins
# (UnknownIdentity before PermissionDenied, TooLarge and MalformedMail before InvalidInput).
_REPLIES: dict[type[BaseException], Callable[[Any], str]] = {
    UnknownIdentity: lambda e: "550 5.1.1 Unknown recipient: no teamlore memory receives mail here",
    SenderNotAllowed: lambda e: f"550 5.7.1 Sender not allowed: {e}",
    PermissionDenied: lambda e: f"550 5.7.1 Not allowed: {e}",
    TooLarge: lambda e: f"552 5.3.4 Message too big: {e}",
    # 554 (transaction failed), permanent: the same bytes fail again, so no sender should retry them.
    MalformedMail: lambda e: f"554 5.6.0 Malformed message: {e}",
    CredentialDetected: lambda e: f"550 5.6.0 Not stored: {e}",
    InvalidInput: lambda e: f"550 5.6.0 Can't store that: {e}",
    NotFound: lambda e: f"550 5.6.0 Can't store that: supersedes: names {e} in this team",
    Duplicate: lambda e: f"250 2.0.0 Already remembered as #{e.existing_id}",
    Unavailable: lambda e: "451 4.3.0 Memory is busy, try again later",
    ConfigurationError: lambda e: "451 4.3.5 teamlore is misconfigured; an administrator has been told",
}


def _clean(reply: str) -> str:
    """SMTP replies are one ASCII line; error text may quote a subject in any script."""
    line = " ".join(reply.split())
    line = line.encode("ascii", "replace").decode("ascii")
    return line if len(line) <= _MAX_REPLY_CHARS else line[: _MAX_REPLY_CHARS - 3] + "..."


def smtp_reply(error: BaseException) -> str:
    """The SMTP reply line for `error`; unexpected errors are logged with the reference id they get."""
    render = lookup_error(_REPLIES, error)
    if render is not None:
        if isinstance(error, ConfigurationError):
            logger.error("mail refused for now, configuration problem: %s", error)
        return _clean(render(error))
    ref = new_reference()
    logger.error("unexpected error while handling mail (ref %s)", ref, exc_info=error)
    return f"451 4.3.0 Internal error, try again later (ref {ref})"


def is_refusal(reply: str) -> bool:
    """True for a reply that does not accept the mail (4xx: try later, 5xx: refused)."""
    return not reply.startswith("2")
