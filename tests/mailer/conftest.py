"""Mail test helpers: our SMTP server on 127.0.0.1 (ephemeral port) and real SMTP clients against it."""

from __future__ import annotations

import functools
import mailbox
import smtplib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest

from mailer import MailSettings, run_smtp
from memory_core import MemoryCore, Source, TenantMap

FIXTURES = Path(__file__).parent / "fixtures"
RECIPIENT = "lore@teamlore.example"
SENDER = "bob@acme.example"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def corpus(shared_data: Path) -> list[tuple[str, bytes]]:
    """Each .eml file of the shared mail corpus and each message of each mbox, read in place."""
    root = shared_data / "mail"
    messages = [(str(path.relative_to(root)), path.read_bytes()) for path in sorted(root.rglob("*.eml"))]
    for path in sorted(root.rglob("*.mbox")):
        box = mailbox.mbox(path, create=False)
        try:
            messages += [(f"{path.relative_to(root)}#{key}", box.get_bytes(key)) for key in box.iterkeys()]
        finally:
            box.close()
    return messages


def settings(**overrides: Any) -> MailSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "hostname": "teamlore.test",
        "recipients": ("lore@teamlore.example",),
        "shutdown_grace_seconds": 2,
    }
    values.update(overrides)
    return MailSettings(**values)


@asynccontextmanager
async def serving(
    core: Any, mail_settings: MailSettings | None = None, tenants: TenantMap | None = None
) -> AsyncIterator[int]:
    """Run our SMTP server on the test's event loop; yields the bound port, stops it on exit."""
    async with anyio.create_task_group() as group:
        port = await group.start(
            functools.partial(run_smtp, core, mail_settings or settings(), tenants or TenantMap())
        )
        try:
            yield port
        finally:
            group.cancel_scope.cancel()


@dataclass
class Transaction:
    """What the server answered at each step of one SMTP transaction (smtplib in a worker thread)."""

    mail: tuple[int, bytes]
    rcpt: list[tuple[int, bytes]] = field(default_factory=list)
    data: tuple[int, bytes] | None = None

    @property
    def text(self) -> str:
        assert self.data is not None
        return f"{self.data[0]} {self.data[1].decode()}"


def crlf(data: bytes) -> bytes:
    """Line endings as SMTP carries them (what any MTA does before relaying a file)."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def smtplib_transaction(
    port: int,
    data: bytes,
    *,
    sender: str = SENDER,
    recipients: Sequence[str] = (RECIPIENT,),
    mail_options: Sequence[str] = (),
    client: smtplib.SMTP | None = None,
) -> Transaction:
    """MAIL, RCPT..., DATA with the stdlib client, recording every reply (blocking: run in a thread)."""
    own = client is None
    smtp = client or smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=30)
    try:
        if own:
            smtp.ehlo()
        result = Transaction(mail=smtp.mail(sender, list(mail_options)))
        if result.mail[0] == 250:
            result.rcpt = [smtp.rcpt(address) for address in recipients]
            if any(code == 250 for code, _ in result.rcpt):
                result.data = smtp.data(crlf(data))
            else:
                smtp.rset()
        else:
            smtp.rset()
        return result
    finally:
        if own:
            smtp.quit()


async def send(port: int, data: bytes, **kwargs: Any) -> Transaction:
    return await anyio.to_thread.run_sync(functools.partial(smtplib_transaction, port, data, **kwargs))


class RecordingCore:
    """The real core, with the ingest failures the mail front-end records kept for the test to read."""

    def __init__(self, core: MemoryCore) -> None:
        self._core = core
        self.failures: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._core, name)

    async def record_ingest_failure(
        self, tenant: str | None, *, source: Source, reason: str, ref: str | None = None
    ) -> None:
        self.failures.append({"tenant": tenant, "source": source, "reason": reason, "ref": ref})
        await self._core.record_ingest_failure(tenant, source=source, reason=reason, ref=ref)


@pytest.fixture
def recording(core: MemoryCore) -> RecordingCore:
    return RecordingCore(core)
