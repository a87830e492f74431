"""The SMTP server for real: smtplib, aiosmtplib and swaks against our server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import aiosmtplib
import anyio
import pytest
from aiosmtpd.smtp import SMTP as SinkSMTP
from aiosmtpd.smtp import Envelope, Session

from mailer import RelaySettings, run_smtp
from memory_core import (
    ConfigurationError,
    Importance,
    MemoryCore,
    MemoryDraft,
    Source,
    TenantIdentities,
    TenantMap,
    Unavailable,
)

from .conftest import RECIPIENT, SENDER, RecordingCore, crlf, fixture_bytes, send, serving, settings

pytestmark = pytest.mark.anyio

REMEMBERED = re.compile(r"^250 2\.0\.0 Remembered as #(\d+)")


def remembered_id(reply: str) -> int:
    match = REMEMBERED.match(reply)
    assert match is not None, reply
    return int(match.group(1))


async def test_gmail_forward_through_smtplib_is_remembered(core: MemoryCore) -> None:
    async with serving(core) as port:
        result = await send(
            port, fixture_bytes("gmail_forward.eml"), recipients=["lore+ops@teamlore.example"]
        )

    assert result.rcpt == [(250, b"2.1.5 Recipient OK")]
    memory = await core.get("default", remembered_id(result.text))
    assert memory.source is Source.EMAIL
    assert memory.kind == "email"
    assert memory.author == "Alice Martin"
    assert memory.author_id == "email:alice@acme.example"
    assert memory.title == "Postgres upgrade window"
    assert memory.source_ref == "<CAJx8kQ2vY1Lr0Gmail7f3@mail.gmail.com>"
    assert set(memory.tags) == {"ops", "infra", "database"}
    assert memory.created_at == datetime(2026, 3, 3, 16, 41, tzinfo=UTC)
    assert "Postgres cluster to version 17" in memory.text
    assert "batch import" not in memory.text


async def test_outlook_forward_through_aiosmtplib(core: MemoryCore) -> None:
    async with serving(core) as port:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="client.test", start_tls=False)
        async with smtp:
            errors, reply = await smtp.sendmail(
                SENDER, [RECIPIENT], crlf(fixture_bytes("outlook_forward.eml"))
            )

    assert errors == {}
    memory = await core.get("default", remembered_id(f"250 {reply}"))
    assert (memory.author, memory.title) == ("Erin Kowalski", "Decision: vendor for on-call paging")
    assert memory.importance is Importance.HIGH
    assert "Attachments: PagerDuty rollout plan.pdf" in memory.text


@pytest.fixture
def swaks() -> str:
    path = shutil.which("swaks")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("swaks is not installed (apt-get install -y swaks)")
        pytest.skip("swaks is not installed")
    return path


def _swaks(swaks: str, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [swaks, "--server", "127.0.0.1", "--port", str(port), "--helo", "client.test", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_swaks_delivers_apple_and_thunderbird_forwards(
    core: MemoryCore, swaks: str, tmp_path: Path
) -> None:
    ids = []
    async with serving(core) as port:
        for name in ("apple_forward.eml", "thunderbird_forward.eml"):
            message = tmp_path / name
            message.write_bytes(crlf(fixture_bytes(name)))
            done = await anyio.to_thread.run_sync(
                lambda m=message: _swaks(swaks, port, "--from", SENDER, "--to", RECIPIENT, "--data", f"@{m}")
            )
            assert done.returncode == 0, done.stdout + done.stderr
            match = re.search(r"<[-~] +250 2\.0\.0 Remembered as #(\d+)", done.stdout)
            assert match is not None, done.stdout
            ids.append(int(match.group(1)))

        refused = await anyio.to_thread.run_sync(
            lambda: _swaks(swaks, port, "--from", SENDER, "--to", "someone@elsewhere.example")
        )

    apple, thunderbird = await core.get_many("default", ids)
    assert (apple.author, apple.title, apple.tags) == (
        "Frank Li",
        "API rate limits for the partner integration",
        ("partners",),
    )
    assert apple.importance is Importance.HIGH
    assert (thunderbird.author, thunderbird.title) == ("Heidi Müller", "Release checklist for 4.2")
    assert thunderbird.tags == ()  # plus-address tags come from the envelope (swaks --to), not the To: header
    assert refused.returncode == 24  # "no RCPTs accepted"
    assert "550 5.1.1" in refused.stdout


async def test_forward_as_attachment_indexes_text_attachments(core: MemoryCore) -> None:
    async with serving(core) as port:
        result = await send(
            port, fixture_bytes("thunderbird_attached.eml"), recipients=["lore+postmortem@teamlore.example"]
        )

    memory = await core.get("default", remembered_id(result.text))
    assert (memory.author, memory.title) == ("Kowalski, Erin", "Incident 2291 timeline")
    assert memory.importance is Importance.CRITICAL
    assert set(memory.tags) == {"postmortem", "incident"}
    assert "--- timeline.txt ---" in memory.text
    assert "10:42 certificate renewed, errors stop" in memory.text


async def test_unknown_recipient_is_refused_and_never_relayed(recording: RecordingCore) -> None:
    async with serving(recording) as port:
        result = await send(
            port,
            fixture_bytes("gmail_forward.eml"),
            recipients=[
                "someone@elsewhere.example",
                "other@teamlore.example",
                "lore@teamlore.example.evil.example",
            ],
        )
    assert [code for code, _ in result.rcpt] == [550, 550, 550]
    assert all(message.startswith(b"5.1.1 ") for _, message in result.rcpt)
    assert result.data is None
    assert len(recording.failures) == 3
    assert recording.failures[0]["tenant"] is None
    assert recording.failures[0]["source"] is Source.EMAIL
    assert "someone@elsewhere.example" in recording.failures[0]["reason"]


async def test_sender_allowlist(recording: RecordingCore) -> None:
    mail_settings = settings(allowed_senders=("acme.example", "friend@partner.example"))
    async with serving(recording, mail_settings) as port:
        refused = await send(port, fixture_bytes("gmail_forward.eml"), sender="eve@evil.example")
        allowed_domain = await send(port, fixture_bytes("gmail_forward.eml"), sender="bob@eu.acme.example")
        allowed_address = await send(
            port, fixture_bytes("apple_forward.eml"), sender="Friend@Partner.example"
        )

    assert refused.rcpt[0][0] == 550
    assert refused.rcpt[0][1].startswith(b"5.7.1 Sender not allowed")
    assert refused.data is None
    assert recording.failures[0]["tenant"] == "default"
    assert "eve@evil.example" in recording.failures[0]["reason"]
    assert allowed_domain.text.startswith("250 ")
    assert allowed_address.text.startswith("250 ")


async def test_size_is_advertised_and_enforced(recording: RecordingCore) -> None:
    mail_settings = settings(max_message_bytes=4096)
    big = fixture_bytes("gmail_forward.eml") + b"\n" + b"filler line of text\n" * 400

    def declared_and_undeclared(port: int) -> tuple[Any, ...]:
        with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=30) as client:
            client.ehlo()
            advertised = client.esmtp_features.get("size")
            declared = client.mail(SENDER, [f"SIZE={len(big)}"])
            client.rset()
            client.mail(SENDER)  # a client that does not declare the size
            client.rcpt(RECIPIENT)
            undeclared = client.data(crlf(big))
            still_serving = client.noop()
        return advertised, declared, undeclared, still_serving

    async with serving(recording, mail_settings) as port:
        advertised, declared, undeclared, still_serving = await anyio.to_thread.run_sync(
            declared_and_undeclared, port
        )

    assert advertised == "4096"
    assert declared[0] == 552 and declared[1].startswith(b"5.3.4 Message too big")
    assert undeclared[0] == 552 and undeclared[1].startswith(b"5.3.4 Message too big")
    assert still_serving[0] == 250
    assert [failure["tenant"] for failure in recording.failures] == [None, "default"]


async def test_long_lines_are_taken_and_overlong_ones_refused(recording: RecordingCore) -> None:
    long_line = b"x" * 5000
    headers = b"From: a@acme.example\nSubject: long lines\nMessage-ID: <long@acme.example>\n\n"
    async with serving(recording) as port:
        taken = await send(port, headers + b"A long line follows.\n" + long_line + b"\n")
        refused = await send(port, headers + b"x" * 20_000 + b"\n")
        still = await send(port, fixture_bytes("gmail_forward.eml"))
    assert taken.text.startswith("250 2.0.0 Remembered as #")
    assert refused.text.startswith("554 5.6.0 Malformed message: a line is longer than")
    assert [failure["tenant"] for failure in recording.failures] == ["default"]
    assert still.text.startswith("250 2.0.0 Remembered as #")


async def test_same_message_twice_is_stored_once(core: MemoryCore) -> None:
    async with serving(core) as port:
        first = await send(port, fixture_bytes("gmail_forward.eml"))
        again = await send(port, fixture_bytes("gmail_forward.eml"))
        # A retry that reached us through another relay: same message, one more trace header.
        relayed = b"Received: from mx2.acme.example by teamlore.test; Wed, 4 Mar 2026 09:05:00 +0100\n"
        retried = await send(port, relayed + fixture_bytes("gmail_forward.eml"))

    memory_id = remembered_id(first.text)
    assert again.text == f"250 2.0.0 Already remembered as #{memory_id}"
    assert retried.text == f"250 2.0.0 Already remembered as #{memory_id}"
    assert (await core.stats("default")).memories == 1


async def test_same_message_id_with_a_changed_body_is_stored_once(core: MemoryCore) -> None:
    original = fixture_bytes("gmail_forward.eml")
    # A relay that stamps a line into the body: same Message-ID, different text.
    footer = original.replace(
        b"Keeping this for the team.", b"[Scanned by MailGuard] Keeping this for the team.", 1
    )
    assert footer != original
    async with serving(core) as port:
        first = await send(port, original)
        with_footer = await send(port, footer)
    memory_id = remembered_id(first.text)
    assert with_footer.text == f"250 2.0.0 Already remembered as #{memory_id}"
    assert (await core.stats("default")).memories == 1


async def test_malformed_mail_is_refused_and_recorded(recording: RecordingCore) -> None:
    garbage = b"Message-ID: <garbage-1@acme.example>\r\nSubject: \r\n\r\n\r\n"
    async with serving(recording) as port:
        result = await send(port, garbage)
        after = await send(port, fixture_bytes("gmail_forward.eml"))

    assert result.text.startswith("554 5.6.0 Malformed message")
    (failure,) = recording.failures
    assert (failure["tenant"], failure["source"], failure["ref"]) == (
        "default",
        Source.EMAIL,
        "<garbage-1@acme.example>",
    )
    assert failure["reason"].startswith("554 5.6.0")
    assert after.text.startswith("250 2.0.0 Remembered")


class FailingCore(RecordingCore):
    """The real core whose store fails the way the test says (a boundary fake: the database in trouble)."""

    def __init__(self, core: MemoryCore, error: Exception) -> None:
        super().__init__(core)
        self.error = error

    async def store(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error


async def test_core_trouble_means_try_again_later(core: MemoryCore, caplog: pytest.LogCaptureFixture) -> None:
    busy = FailingCore(core, Unavailable("database is locked"))
    async with serving(busy) as port:
        result = await send(port, fixture_bytes("gmail_forward.eml"))
    assert result.text == "451 4.3.0 Memory is busy, try again later"
    assert busy.failures[0]["ref"] == "<CAJx8kQ2vY1Lr0Gmail7f3@mail.gmail.com>"

    broken = FailingCore(core, RuntimeError("disk on fire"))
    with caplog.at_level(logging.ERROR, logger="mailer"):
        async with serving(broken) as port:
            result = await send(port, fixture_bytes("gmail_forward.eml"))
    match = re.fullmatch(r"451 4\.3\.0 Internal error, try again later \(ref ([0-9a-f]{6})\)", result.text)
    assert match is not None, result.text
    assert match.group(1) in caplog.text and "disk on fire" in caplog.text
    assert "disk on fire" not in result.text


async def test_recipients_of_two_tenants_get_one_memory_each(core: MemoryCore) -> None:
    tenants = TenantMap(
        {
            "acme": TenantIdentities(mail=("lore@teamlore.example",)),
            "beta": TenantIdentities(mail=("beta.example",)),
        }
    )
    mail_settings = settings(recipients=("lore@teamlore.example", "beta.example"))
    async with serving(core, mail_settings, tenants) as port:
        result = await send(
            port,
            fixture_bytes("gmail_forward.eml"),
            recipients=["lore+infra@teamlore.example", "memory@beta.example", "memory+x@beta.example"],
        )
    ids = [int(found) for found in re.findall(r"#(\d+)", result.text)]
    assert len(ids) == 2
    acme = await core.get("acme", ids[0])
    beta = await core.get("beta", ids[1])
    assert acme.tags[0] == "infra"
    assert beta.tags[0] == "x"
    assert (await core.stats("default")).memories == 0


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        if os.environ.get("CI"):
            pytest.fail("openssl is needed to make a test certificate")
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=teamlore.test",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return cert, key


async def test_starttls_and_auth(core: MemoryCore, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    mail_settings = settings(
        tls_cert_file=cert,
        tls_key_file=key,
        auth_users={"forwarder": "s3cret-pass"},
        allowed_senders=("acme.example",),
    )

    def conversation(port: int) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=30) as client:
            client.ehlo()
            seen["auth_before_tls"] = client.has_extn("auth")
            seen["starttls"] = client.starttls(context=context)[0]
            client.ehlo()
            seen["auth_after_tls"] = client.esmtp_features.get("auth", "")
            with pytest.raises(smtplib.SMTPAuthenticationError):
                client.login("forwarder", "wrong")
            seen["login"] = client.login("forwarder", "s3cret-pass")[0]
            client.mail("outsider@gmail.example")  # not on the allowlist, but authenticated
            seen["rcpt"] = client.rcpt(RECIPIENT)[0]
            seen["data"] = client.data(crlf(fixture_bytes("gmail_forward.eml")))
        return seen

    async with serving(core, mail_settings) as port:
        seen = await anyio.to_thread.run_sync(conversation, port)

    assert seen["auth_before_tls"] is False  # AUTH is never offered in clear
    assert seen["starttls"] == 220
    assert "PLAIN" in seen["auth_after_tls"]
    assert seen["login"] == 235
    assert seen["rcpt"] == 250
    assert seen["data"][0] == 250


async def test_required_starttls_and_auth(core: MemoryCore, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    mail_settings = settings(
        tls_cert_file=cert, tls_key_file=key, require_starttls=True, auth_users={"f": "p"}, auth_required=True
    )

    def refused(port: int) -> tuple[int, int]:
        with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=30) as client:
            client.ehlo()
            before_tls = client.mail(SENDER)[0]
            context = ssl.create_default_context(cafile=str(cert))
            context.check_hostname = False
            client.starttls(context=context)
            client.ehlo()
            before_auth = client.mail(SENDER)[0]
        return before_tls, before_auth

    async with serving(core, mail_settings) as port:
        before_tls, before_auth = await anyio.to_thread.run_sync(refused, port)
    assert before_tls == 530
    assert before_auth == 530


class Sink:
    """A second, local SMTP server standing in for the outgoing relay; keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.received = anyio.Event()

    async def handle_DATA(self, server: SinkSMTP, session: Session, envelope: Envelope) -> str:
        assert envelope.original_content is not None
        message = BytesParser(policy=default_policy).parsebytes(envelope.original_content)
        self.messages.append(message)  # type: ignore[arg-type]
        self.received.set()
        return "250 OK"


@pytest.fixture
async def relay() -> AsyncIterator[tuple[Sink, int]]:
    sink = Sink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SinkSMTP(sink, hostname="relay.test", loop=loop), host="127.0.0.1", port=0
    )
    yield sink, server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_confirmation_reply_goes_through_the_relay(core: MemoryCore, relay: tuple[Sink, int]) -> None:
    sink, relay_port = relay
    mail_settings = settings(
        confirm=True,
        relay=RelaySettings(
            host="127.0.0.1", port=relay_port, from_address="lore@teamlore.example", start_tls=False
        ),
    )
    async with serving(core, mail_settings) as port:
        result = await send(port, fixture_bytes("gmail_forward.eml"))
        with anyio.fail_after(10):
            await sink.received.wait()

    memory_id = remembered_id(result.text)
    (confirmation,) = sink.messages
    assert confirmation["To"] == SENDER
    assert confirmation["From"] == "lore@teamlore.example"
    assert confirmation["In-Reply-To"] == "<CAJx8kQ2vY1Lr0Gmail7f3@mail.gmail.com>"
    assert confirmation["Auto-Submitted"] == "auto-replied"
    assert confirmation["Subject"] == "Re: Postgres upgrade window"
    assert f"Remembered as #{memory_id}" in confirmation.get_content()


async def test_no_confirmation_for_automatic_mail(core: MemoryCore, relay: tuple[Sink, int]) -> None:
    sink, relay_port = relay
    mail_settings = settings(
        confirm=True,
        relay=RelaySettings(
            host="127.0.0.1", port=relay_port, from_address="lore@teamlore.example", start_tls=False
        ),
    )
    automatic = b"Auto-Submitted: auto-generated\n" + fixture_bytes("apple_forward.eml")
    async with serving(core, mail_settings) as port:
        result = await send(port, automatic)
        await anyio.sleep(0.5)
    assert result.text.startswith("250 ")
    assert sink.messages == []


async def test_stops_cleanly_and_frees_the_port(core: MemoryCore) -> None:
    async with serving(core) as port:
        idle = socket.create_connection(("127.0.0.1", port), timeout=5)  # a client that says nothing
        greeting = await anyio.to_thread.run_sync(idle.recv, 100)
    try:
        assert greeting.startswith(b"220 teamlore.test teamlore ESMTP")
        closed = await anyio.to_thread.run_sync(idle.recv, 100)
        assert closed == b""  # the server hung up on it when it stopped
    finally:
        idle.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


async def test_busy_port_is_a_configuration_error(core: MemoryCore) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ConfigurationError, match="TEAMLORE_MAIL__PORT"):
            await run_smtp(core, settings(port=taken.getsockname()[1]), TenantMap())


async def test_no_recipients_is_a_configuration_error(core: MemoryCore) -> None:
    with pytest.raises(ConfigurationError, match="TEAMLORE_MAIL__RECIPIENTS"):
        await run_smtp(core, settings(recipients=()), TenantMap())


async def test_confirmation_names_a_memory_the_mail_may_contradict(
    core: MemoryCore, relay: tuple[Sink, int]
) -> None:
    old = await core.store("default", MemoryDraft(text="Backups are kept for 35 days.", author="alice"))
    sink, relay_port = relay
    mail_settings = settings(
        confirm=True,
        relay=RelaySettings(
            host="127.0.0.1", port=relay_port, from_address="lore@teamlore.example", start_tls=False
        ),
    )
    mail = crlf(
        f"From: Bob <{SENDER}>\nTo: {RECIPIENT}\nSubject: Backups\n"
        "Message-ID: <backups-14@acme.example>\n\nBackups are kept for 14 days now.\n".encode()
    )
    async with serving(core, mail_settings) as port:
        result = await send(port, mail)
        with anyio.fail_after(10):
            await sink.received.wait()
    new = remembered_id(result.text)
    body = sink.messages[0].get_content()
    assert f"#{new}: this may contradict #{old.id} by alice on " in body
    assert f"send the same mail again with supersedes:#{old.id} in the subject" in body

    # Doing what the confirmation says (a new Message-ID, as a mail client's "send again" gives) keeps one
    # memory and marks the old one replaced by it.
    again = mail.replace(b"Subject: Backups", f"Subject: Backups supersedes:#{old.id}".encode())
    again = again.replace(b"<backups-14@", b"<backups-14-again@")
    async with serving(core, mail_settings) as port:
        result = await send(port, again)
    assert result.text == f"250 2.0.0 Already remembered as #{new}; it replaces #{old.id}", result.text
    assert (await core.get("default", old.id)).superseded_by == new
    assert (await core.get("default", new)).title == "Backups"  # the marker is not part of the title


async def test_a_mail_that_says_supersedes_replaces_that_memory(core: MemoryCore) -> None:
    old = await core.store("default", MemoryDraft(text="The release train leaves on Thursdays."))
    mail = crlf(
        f"From: Bob <{SENDER}>\nTo: {RECIPIENT}\nSubject: Release train\n"
        "Message-ID: <train-1@acme.example>\n\n"
        f"The release train now leaves on Tuesdays.\nsupersedes:#{old.id}\n".encode()
    )
    async with serving(core) as port:
        result = await send(port, mail)
    new = remembered_id(result.text)
    assert result.text.endswith(f"; it replaces #{old.id}")
    memory = await core.get("default", new)
    assert memory.supersedes == old.id and "supersedes" not in memory.text
    assert (await core.get("default", old.id)).superseded_by == new


async def test_supersedes_that_cannot_hold_is_refused_and_stores_nothing(core: MemoryCore) -> None:
    one = await core.store("default", MemoryDraft(text="Standups are at 09:30."))
    two = await core.store("default", MemoryDraft(text="Standups are in room 4."))
    head = f"From: Bob <{SENDER}>\nTo: {RECIPIENT}\n"
    cases = {
        f"Subject: Standups supersedes:#{one.id} supersedes:#{two.id}": "a mail replaces one memory",
        "Subject: Standups supersedes:#99999": "99999",
    }
    async with serving(core) as port:
        for subject, reason in cases.items():
            result = await send(port, crlf(f"{head}{subject}\n\nStandups move to 10:00.\n".encode()))
            assert result.text.startswith("550 5.6.0 Can't store that:"), result.text
            assert reason in result.text
    assert (await core.stats("default")).memories == 2


async def test_supersedes_to_two_tenants_is_refused(core: MemoryCore) -> None:
    tenants = TenantMap(
        {
            "acme": TenantIdentities(mail=("lore@teamlore.example",)),
            "beta": TenantIdentities(mail=("beta.example",)),
        }
    )
    old = await core.store("acme", MemoryDraft(text="The VPN is vpn.acme.example."))
    mail_settings = settings(recipients=("lore@teamlore.example", "beta.example"))
    mail = crlf(
        f"From: Bob <{SENDER}>\nTo: {RECIPIENT}\nSubject: VPN supersedes:#{old.id}\n\n"
        "The VPN is vpn2.acme.example.\n".encode()
    )
    async with serving(core, mail_settings, tenants) as port:
        result = await send(port, mail, recipients=["lore@teamlore.example", "memory@beta.example"])
    assert result.text.startswith("550 5.6.0") and "one team" in result.text, result.text
    assert (await core.stats("acme")).memories == 1 and (await core.stats("beta")).memories == 0
