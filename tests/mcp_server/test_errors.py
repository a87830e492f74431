"""The one error table: each core error becomes text a model can act on."""

from __future__ import annotations

import logging
import re

import pytest

from mcp_server import error_text
from memory_core import (
    ConfigurationError,
    CredentialDetected,
    Duplicate,
    InvalidInput,
    ModelMismatch,
    NotFound,
    PermissionDenied,
    TooLarge,
    Unavailable,
    UnknownIdentity,
)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (NotFound(42), "not_found: no memory #42; use query_memories to find ids"),
        (InvalidInput("the text is empty"), "invalid_input: the text is empty"),
        (TooLarge("too long", limit=10, size=20), "too_large: too long"),
        (
            CredentialDetected(["github token"]),
            "credential_detected: the text looks like it contains a secret",
        ),
        (Duplicate(7), "duplicate: already stored as #7"),
        (PermissionDenied("only alice can forget it"), "permission_denied: only alice can forget it"),
        (UnknownIdentity("unknown API key"), "unauthorized: unknown API key"),
        (Unavailable("db locked"), "unavailable: retry shortly"),
        (ModelMismatch("a", 1, "b", 2), "model_mismatch: the memory server needs its operator: "),
        (ConfigurationError("bad url"), "configuration_error: the memory server needs its operator: bad url"),
    ],
)
def test_core_errors_map_to_model_readable_text(error: Exception, expected: str) -> None:
    assert error_text(error).startswith(expected)


def test_anything_else_is_internal_with_a_reference_that_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="mcp_server.errors"):
        text = error_text(KeyError("password=hunter2"))
    match = re.fullmatch(r"internal error \(ref ([0-9a-f]{6})\)", text)
    assert match is not None and "hunter2" not in text
    (record,) = caplog.records
    assert match.group(1) in record.getMessage() and record.exc_info is not None
