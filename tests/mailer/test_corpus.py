"""Every message of the shared mail corpus (ham, spam, broken MIME, odd charsets) through the real server."""

from __future__ import annotations

import re
import smtplib
from pathlib import Path

import anyio
import pytest

from memory_core import Source

from .conftest import RecordingCore, corpus, fixture_bytes, send, serving, smtplib_transaction

pytestmark = pytest.mark.anyio

REPLY = re.compile(
    r"^(250 2\.0\.0 (Remembered|Already remembered) as #(\d+)|55[04] 5\.6\.0 .+|552 5\.3\.4 .+)"
)


def deliver_all(port: int, messages: list[tuple[str, bytes]]) -> dict[str, tuple[int, bytes]]:
    """One SMTP session, one transaction per message, like an MTA flushing its queue."""
    replies: dict[str, tuple[int, bytes]] = {}
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=60) as client:
        client.ehlo()
        for name, data in messages:
            result = smtplib_transaction(port, data, client=client)
            assert result.data is not None, (name, result)
            replies[name] = result.data
    return replies


async def test_every_corpus_message_is_stored_or_properly_refused(
    shared_data: Path, recording: RecordingCore
) -> None:
    messages = corpus(shared_data)
    assert len(messages) >= 160

    async with serving(recording) as port:
        replies = await anyio.to_thread.run_sync(deliver_all, port, messages)
        # The server still answers, on a new connection, and still stores mail.
        after = await send(port, fixture_bytes("gmail_forward.eml"))

    assert after.text.startswith("250 2.0.0 Remembered as #")
    stored: set[int] = set()
    refused = []
    for name, (code, message) in replies.items():
        line = f"{code} {message.decode()}"
        match = REPLY.match(line)
        assert match is not None, f"{name}: {line}"
        if code == 250:
            stored.add(int(match.group(3)))
        else:
            refused.append(name)
    memories = await recording.get_many("default", sorted(stored))
    assert len(memories) == len(stored)
    assert all(memory.source is Source.EMAIL and memory.text.strip() for memory in memories)
    # Many corpus messages are variants of one mail (DKIM, SPF, DMARC cases) under one Message-ID: the
    # Message-ID makes ingest idempotent, so each is stored once, then answered "already remembered".
    assert len(stored) >= 80
    assert len(refused) <= 5, refused
    assert len(recording.failures) == len(refused)
