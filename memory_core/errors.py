"""The one error tree of the memory core; front-ends map it to their protocol through one table each.

TeamloreError
├── InvalidInput            the caller sent something the core will not take (fix the input)
│   ├── TooLarge            text or batch over a configured limit
│   └── CredentialDetected  text looks like it contains a secret (API key, token, private key, password)
├── NotFound                no such memory in this tenant (other tenants' ids are "not found" too)
├── Duplicate               the same text is already stored; carries the existing id
├── PermissionDenied        the actor may not do this (e.g. forget someone else's memory)
│   └── UnknownIdentity     a platform identity or API key that maps to no tenant
├── Unavailable             transient trouble (database locked, shutting down): retry later
└── ConfigurationError      the deployment is wrong and a person must act
    └── ModelMismatch       the database was built with another embedding model: run `teamlore reindex`

Each class has a wire `code` (`invalid_input`, `too_large`, ...): REST sends it as `error`, MCP starts its
tool-error text with it, so a client tells errors apart the same way on every protocol.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ConfigurationError",
    "CredentialDetected",
    "Duplicate",
    "InvalidInput",
    "ModelMismatch",
    "NotFound",
    "PermissionDenied",
    "TeamloreError",
    "TooLarge",
    "Unavailable",
    "UnknownIdentity",
    "error_code",
]


class TeamloreError(Exception):
    """Root of every error the core raises on purpose. `str(error)` is written for the end user."""

    code: ClassVar[str] = "error"


class InvalidInput(TeamloreError):
    """The input cannot be accepted as it is; the message says why and what to change."""

    code = "invalid_input"


class TooLarge(InvalidInput):
    """Text (or a batch) is over the configured limit."""

    code = "too_large"

    def __init__(self, message: str, *, limit: int, size: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.size = size


class CredentialDetected(InvalidInput):
    """A field looks like it contains a credential; `kinds` names what was found (never the secret).

    `field` is the field that holds it (text, title, author, source reference, tag): one message on
    every front-end.
    """

    code = "credential_detected"

    def __init__(self, kinds: list[str], *, field: str = "text") -> None:
        self.kinds = kinds
        self.field = field
        super().__init__(
            f"the {field} looks like it contains a secret ("
            + ", ".join(kinds)
            + "); remove it, or store it redacted"
        )


class NotFound(TeamloreError):
    """No memory with this id in this tenant."""

    code = "not_found"

    def __init__(self, memory_id: int) -> None:
        self.memory_id = memory_id
        super().__init__(f"no memory #{memory_id}")


class Duplicate(TeamloreError):
    """The same text is already stored in this tenant as `existing_id`."""

    code = "duplicate"

    def __init__(self, existing_id: int) -> None:
        self.existing_id = existing_id
        super().__init__(f"already remembered as #{existing_id}")


class PermissionDenied(TeamloreError):
    """The actor is not allowed to do this."""

    code = "permission_denied"


class UnknownIdentity(PermissionDenied):
    """A workspace, guild, mail address or API key that the tenant map does not know."""

    code = "unauthorized"


class Unavailable(TeamloreError):
    """Transient trouble; the same call may succeed shortly."""

    code = "unavailable"


class ConfigurationError(TeamloreError):
    """The deployment is misconfigured; a person must change a setting or run a command."""

    code = "configuration_error"


class ModelMismatch(ConfigurationError):
    """The database's vectors were made by another embedding model than the one configured."""

    code = "model_mismatch"

    def __init__(self, stored: str, stored_dim: int, configured: str, configured_dim: int) -> None:
        self.stored = stored
        self.configured = configured
        super().__init__(
            f"this database was built with the embedding model {stored!r} (dimension {stored_dim}), "
            f"but teamlore is configured with {configured!r} (dimension {configured_dim}). "
            "Run `teamlore reindex` to re-embed every memory with the configured model."
        )


def error_code(error: BaseException) -> str:
    """The wire code of `error`: its class's `code`, or "internal" for anything unexpected."""
    return error.code if isinstance(error, TeamloreError) else "internal"
