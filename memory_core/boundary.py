"""What every front-end's error boundary shares: the one table lookup and the reference id of a failure.

Each front-end keeps ONE table from error type to what its protocol says (a chat sentence, an SMTP
line, an HTTP status, a tool error for a model) as a dict, and finds an error's entry with
`lookup_error`: along the error's MRO, so the most specific class listed wins (`TooLarge` before
`InvalidInput`, `UnknownIdentity` before `PermissionDenied`) whatever the order of the table. What no
table knows is unexpected: the boundary logs it with the traceback and a `new_reference()`, and tells
the user the same reference ("Something went wrong (ref ab12cd).").
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TypeVar

__all__ = ["lookup_error", "new_reference"]

_T = TypeVar("_T")


def lookup_error(table: Mapping[type[BaseException], _T], error: BaseException) -> _T | None:
    """The entry of the most specific class of `error` that `table` lists, or None."""
    for kind in type(error).__mro__:
        if kind in table:
            return table[kind]
    return None


def new_reference() -> str:
    """A short reference id (6 hex digits) for an unexpected error: shown to the user, written to the log."""
    return secrets.token_hex(3)
