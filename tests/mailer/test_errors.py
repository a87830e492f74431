"""The one table from error to SMTP reply."""

from __future__ import annotations

import logging
import re

import pytest

from mailer.errors import MalformedMail, SenderNotAllowed, is_refusal, smtp_reply
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
)


@pytest.mark.parametrize(
    ("error", "start"),
    [
        (UnknownIdentity("x"), "550 5.1.1 "),
        (SenderNotAllowed("eve@evil.example may not send"), "550 5.7.1 "),
        (PermissionDenied("no"), "550 5.7.1 "),
        (TooLarge("too long", limit=10, size=20), "552 5.3.4 "),
        (MalformedMail("no readable text"), "554 5.6.0 "),
        (CredentialDetected(["aws-access-key"]), "550 5.6.0 "),
        (InvalidInput("empty"), "550 5.6.0 "),
        (NotFound(3), "550 5.6.0 "),  # a supersedes:#3 naming no memory of the team
        (Duplicate(42), "250 2.0.0 Already remembered as #42"),
        (Unavailable("locked"), "451 4.3.0 "),
        (ConfigurationError("bad"), "451 4.3.5 "),
    ],
)
def test_table(error: Exception, start: str) -> None:
    assert smtp_reply(error).startswith(start)


def test_unexpected_errors_get_a_reference_that_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="mailer.errors"):
        reply = smtp_reply(RuntimeError("boom"))
    match = re.fullmatch(r"451 4\.3\.0 Internal error, try again later \(ref ([0-9a-f]{6})\)", reply)
    assert match is not None
    assert match.group(1) in caplog.text
    assert "boom" in caplog.text  # the traceback is in the log, not in the reply
    assert "boom" not in reply


def test_replies_are_one_ascii_line() -> None:
    reply = smtp_reply(InvalidInput("Betreff «Übergabe»\nzweite Zeile " + "x" * 1000))
    assert reply.isascii()
    assert "\n" not in reply
    assert len(reply) <= 400


def test_is_refusal() -> None:
    assert not is_refusal("250 2.0.0 Remembered as #1")
    assert is_refusal("451 4.3.0 busy")
    assert is_refusal("550 5.1.1 unknown")
