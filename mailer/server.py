"""Run the SMTP ingest server on teamlore's own event loop, beside the other front-ends.

aiosmtpd's `Controller` runs a second event loop in a thread; the core's resources belong to the main
loop, so instead the aiosmtpd protocol is served with `loop.create_server` here. This needs the
asyncio backend of anyio (which `teamlore serve` uses).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import socket
import ssl
import weakref
from email.message import EmailMessage
from typing import Any, AnyStr

import anyio
import anyio.lowlevel
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from anyio.abc import TaskStatus
from pydantic import SecretStr

from memory_core import ConfigurationError, MemoryCore, TenantMap

from .config import MailSettings
from .confirm import deliver_confirmations
from .handler import MailHandler

__all__ = ["run_smtp"]

logger = logging.getLogger(__name__)

LINE_LENGTH_LIMIT = 16 * 1024


async def run_smtp(
    core: MemoryCore,
    settings: MailSettings,
    tenant_map: TenantMap,
    *,
    task_status: TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve SMTP until cancelled; `task_status.started(port)` reports the bound port (useful with port 0).

    On cancellation: stop accepting, give mails being stored `shutdown_grace_seconds` to finish, then
    close every connection (a client cut off before our 250 keeps its mail and retries).

    Raises:
        ConfigurationError: no recipients configured, unreadable TLS files, or the port cannot be bound.
    """
    if not settings.recipients:
        raise ConfigurationError(
            "TEAMLORE_MAIL__RECIPIENTS is empty: set the addresses or domains teamlore receives mail for"
        )
    loop = asyncio.get_running_loop()
    # getfqdn() may wait on DNS: once, in a thread, not per connection on the loop.
    hostname = settings.hostname or await anyio.to_thread.run_sync(socket.getfqdn)
    tls_context = _tls_context(settings)
    queue_size = settings.relay.queue_size if settings.relay else 0
    send, receive = anyio.create_memory_object_stream[EmailMessage](queue_size)
    handler = MailHandler(core, settings, tenant_map, confirmations=send if settings.confirm else None)
    authenticator = _Authenticator(settings.auth_users) if settings.auth_users else None
    connections: weakref.WeakSet[_TeamloreSMTP] = weakref.WeakSet()

    def make_protocol() -> _TeamloreSMTP:
        protocol = _TeamloreSMTP(
            handler,
            data_size_limit=settings.max_message_bytes,
            enable_SMTPUTF8=True,
            hostname=hostname,
            ident="teamlore ESMTP",
            tls_context=tls_context,
            require_starttls=settings.require_starttls,
            timeout=settings.idle_timeout_seconds,
            auth_required=settings.auth_required,
            authenticator=authenticator,
            loop=loop,
        )
        connections.add(protocol)
        return protocol

    try:
        server = await loop.create_server(make_protocol, host=settings.host, port=settings.port)
    except OSError as error:
        send.close()
        receive.close()
        raise ConfigurationError(
            f"cannot listen for mail on {settings.host}:{settings.port} "
            f"(TEAMLORE_MAIL__HOST / TEAMLORE_MAIL__PORT): {error}"
        ) from error
    port = int(server.sockets[0].getsockname()[1])
    logger.info(
        "SMTP listening on %s:%d for %s (STARTTLS %s, AUTH %s)",
        settings.host,
        port,
        ", ".join(settings.recipients),
        "on" if tls_context else "off",
        "required" if settings.auth_required else ("on" if authenticator else "off"),
    )
    try:
        async with anyio.create_task_group() as group:
            if settings.confirm and settings.relay is not None:
                group.start_soon(deliver_confirmations, settings.relay, receive)
            task_status.started(port)
            await anyio.sleep_forever()
    finally:
        with anyio.CancelScope(shield=True):
            server.close()
            await _close(handler, list(connections), settings.shutdown_grace_seconds)
            await server.wait_closed()
            send.close()
            receive.close()
            logger.info("SMTP server on port %d stopped", port)


async def _close(handler: MailHandler, connections: list[_TeamloreSMTP], grace: float) -> None:
    with anyio.move_on_after(grace):
        await handler.wait_idle()
    for protocol in connections:
        if protocol.transport is not None:
            protocol.transport.close()
    with anyio.move_on_after(1):
        # aiosmtpd offers no "connection closed" event; its connection_lost() clears `transport`.
        while any(protocol.transport is not None for protocol in connections):  # noqa: ASYNC110
            await anyio.sleep(0.01)
    await anyio.lowlevel.checkpoint()  # let the cancelled per-connection tasks finish


def _tls_context(settings: MailSettings) -> ssl.SSLContext | None:
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file)
    except (OSError, ssl.SSLError) as error:
        raise ConfigurationError(
            "cannot load the STARTTLS certificate "
            f"(TEAMLORE_MAIL__TLS_CERT_FILE / TEAMLORE_MAIL__TLS_KEY_FILE): {error}"
        ) from error
    return context


class _QuietSession(Session):
    """aiosmtpd's Session logs a deprecation warning whenever its own AUTH code sets `login_data`."""

    @property
    def login_data(self) -> Any:
        return self._login_data

    @login_data.setter
    def login_data(self, value: Any) -> None:
        self._login_data = value


class _TeamloreSMTP(SMTP):
    """aiosmtpd's SMTP protocol, with its own DATA refusals answered and recorded like every other one.

    aiosmtpd enforces the size limit itself (the SIZE= parameter of MAIL FROM, then the byte count
    during DATA) and the line-length limit, and pushes fixed "552 Error: ..." / "500 Line too long"
    lines before any handler hook runs, so `push` is the one place to see them.
    """

    # RFC 5321 says 1000 bytes, but real mailers send longer lines; like Postfix, take them
    # (a longer one is refused as malformed, never crashes anything).
    line_length_limit = LINE_LENGTH_LIMIT

    event_handler: MailHandler

    def _create_session(self) -> Session:
        return _QuietSession(self.loop)

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str) and status.startswith("552 Error"):
            await super().push(await self.event_handler.refuse_too_large(self.envelope))
        elif isinstance(status, str) and status.startswith("500 Line too long"):
            await super().push(await self.event_handler.refuse_long_line(self.envelope, LINE_LENGTH_LIMIT))
        else:
            await super().push(status)


class _Authenticator:
    """AUTH PLAIN / LOGIN against the configured users (constant-time comparison)."""

    def __init__(self, users: dict[str, SecretStr]) -> None:
        self._users = {name: secret.get_secret_value().encode() for name, secret in users.items()}

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        expected = self._users.get(auth_data.login.decode("utf-8", "replace"))
        valid = expected is not None and hmac.compare_digest(expected, auth_data.password)
        logger.info("SMTP AUTH %s for %r: %s", mechanism, auth_data.login, "ok" if valid else "refused")
        return AuthResult(success=valid, handled=False, auth_data=auth_data.login if valid else None)
