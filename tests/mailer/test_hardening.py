"""Issue #14 on SMTP, through a real client: the guard on Subject, names, Message-ID, body and tags;
mails the parser cannot take apart (554 5.6.0, quickly); a reused Message-ID on a different mail."""

from __future__ import annotations

import time

import pytest

from memory_core import MemoryCore
from tests.secret_shapes import CASE_IDS, CASES, SECRETS, carrying, leaked

from .conftest import RecordingCore, send, serving, settings

pytestmark = pytest.mark.anyio

_DATE = "Date: Tue, 3 Mar 2026 10:00:00 +0000"


def _mail(field: str, secret: str, *, message_id: str = "<note-1@acme.example>", date: str = _DATE) -> bytes:
    """A plain mail with `secret` in the header or body that `field` is stored from."""
    subject = carrying(secret) if field == "title" else "deploy note"
    if field == "tags":
        subject += f" [{secret}]"  # a bracket tag in the subject becomes a tag
    sender = f'"Bob {secret}" <bob@acme.example>' if field == "author" else "Bob <bob@acme.example>"
    if field == "source_ref":
        message_id = f"<{secret}@acme.example>"
    body = carrying(secret) if field == "text" else "The staging deploy moved to Tuesdays."
    head = (
        f"From: {sender}\nTo: lore@teamlore.example\nSubject: {subject}\n{date}\nMessage-ID: {message_id}\n"
    )
    return (head + "\n" + body + "\n").encode()


def _everything(memories: list[object]) -> str:
    return "".join(m.model_dump_json() for m in memories)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("field", "name"), CASES, ids=CASE_IDS)
async def test_mail_redacts_or_refuses_a_secret_in_every_field(
    recording: RecordingCore, field: str, name: str
) -> None:
    secret = SECRETS[name]
    # A Message-ID holds no spaces: the parser drops "<-----BEGIN PRIVATE KEY-----@...>" as not an id.
    reaches = not (field == "source_ref" and " " in secret)
    async with serving(recording) as port:  # default: redact_credentials=true
        stored = await send(port, _mail(field, secret))
    assert stored.text.startswith("250 2.0.0 Remembered as #"), stored.text
    assert ("redacted" in stored.text) is reaches, stored.text
    async with serving(recording, settings(redact_credentials=False)) as port:
        other_day = "Date: Wed, 4 Mar 2026 10:00:00 +0000"  # another mail, not the one stored
        refused = await send(port, _mail(field, secret, message_id="<note-2@acme.example>", date=other_day))
    if reaches:
        assert refused.text.startswith("550 5.6.0 Not stored:") and "secret" in refused.text, refused.text
    assert not leaked(secret, stored.text, refused.text)
    memories = await recording.recent("default", limit=10)
    assert len(memories) == 1 and not leaked(secret, _everything(memories))
    assert not leaked(secret, str(recording.failures))


def _nested(depth: int) -> bytes:
    head = f"From: bob@acme.example\nSubject: deep\n{_DATE}\nMessage-ID: <deep-{depth}@acme.example>\n"
    lines = [head + 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b0"\n']
    for level in range(1, depth):
        lines.append(f'--b{level - 1}\nContent-Type: multipart/mixed; boundary="b{level}"\n')
    lines.append(f"--b{depth - 1}\nContent-Type: text/plain\n\nthe innermost text\n")
    lines += [f"--b{level}--\n" for level in range(depth - 1, -1, -1)]
    return "\n".join(lines).encode()


async def test_deep_nesting_gets_a_permanent_554_quickly(recording: RecordingCore) -> None:
    async with serving(recording) as port:
        started = time.perf_counter()
        deep = await send(port, _nested(1000))
        elapsed = time.perf_counter() - started
        limited = await send(port, _nested(40))  # over the default limit of 32
        fine = await send(port, _nested(10))
    assert deep.text.startswith("554 5.6.0 Malformed message: its MIME parts are nested more than 32 deep")
    assert elapsed < 5, elapsed
    assert limited.text.startswith("554 5.6.0")
    assert fine.text.startswith("250 2.0.0 Remembered as #"), fine.text
    async with serving(recording, settings(max_mime_depth=8)) as port:
        assert (await send(port, _nested(10))).text.startswith("554 5.6.0")


async def test_too_many_header_fields_get_554(recording: RecordingCore) -> None:
    many = "".join(f"X-Junk-{i}: {i}\n" for i in range(2000))
    data = f"From: bob@acme.example\nSubject: headers\n{many}\nbody text\n".encode()
    async with serving(recording) as port:
        answer = await send(port, data)
    assert answer.text.startswith("554 5.6.0 Malformed message: the message has 2002 header fields")


async def test_a_different_mail_reusing_a_message_id_is_stored(core: MemoryCore) -> None:
    first = _mail("text", "").replace(b"deploy note  for staging", b"the VPN moved to vpn2.corp")
    other = (
        b"From: Mallory <mallory@evil.example>\nSubject: totally different\n"
        b"Date: Wed, 4 Mar 2026 11:00:00 +0000\nMessage-ID: <note-1@acme.example>\n\n"
        b"Ignore the earlier mail: the office closes on Friday.\n"
    )
    async with serving(core) as port:
        stored = await send(port, first)
        again = await send(port, first)
        reused = await send(port, other)
    assert stored.text.startswith("250 2.0.0 Remembered as #")
    assert again.text.startswith("250 2.0.0 Already remembered as #")
    assert reused.text.startswith("250 2.0.0 Remembered as #") and reused.text != stored.text
    texts = sorted(m.text for m in await core.recent("default"))
    assert len(texts) == 2 and any("office closes" in t for t in texts)
