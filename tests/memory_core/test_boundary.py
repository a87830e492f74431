"""The error boundary's shared parts: the MRO table lookup every front-end uses, and reference ids."""

from __future__ import annotations

import re

from memory_core import (
    CredentialDetected,
    InvalidInput,
    PermissionDenied,
    TeamloreError,
    TooLarge,
    UnknownIdentity,
    lookup_error,
    new_reference,
)


def test_the_most_specific_class_listed_wins_whatever_the_order() -> None:
    table: dict[type[BaseException], str] = {
        InvalidInput: "invalid",
        TooLarge: "too large",
        PermissionDenied: "denied",
        UnknownIdentity: "unknown",
    }
    assert lookup_error(table, TooLarge("x", limit=1, size=2)) == "too large"
    assert lookup_error(table, CredentialDetected(["password"])) == "invalid"  # via its base class
    assert lookup_error(table, UnknownIdentity("who?")) == "unknown"
    assert lookup_error(table, PermissionDenied("no")) == "denied"


def test_an_error_no_table_lists_is_unexpected() -> None:
    assert lookup_error({InvalidInput: 1}, TeamloreError("x")) is None
    assert lookup_error({InvalidInput: 1}, RuntimeError("bug")) is None


def test_references_are_short_and_fresh() -> None:
    refs = {new_reference() for _ in range(50)}
    assert len(refs) == 50 and all(re.fullmatch(r"[0-9a-f]{6}", r) for r in refs)
