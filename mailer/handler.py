"""The aiosmtpd handler: RCPT and DATA hooks that translate an SMTP transaction into core calls.

Replies (all through `errors.smtp_reply`, the one table):
    RCPT  250 2.1.5 ours | 550 5.1.1 not ours (never relayed) | 550 5.7.1 sender not allowed
    DATA  250 2.0.0 Remembered as #42 | 250 2.0.0 Already remembered as #42 (same mail again)
          | either with "; it replaces #12" (supersedes:#12)
          | 552 5.3.4 too big | 550 5.6.0 malformed | 451 4.3.0 try later (with a ref for the log)
Every refusal or failure is also recorded with `core.record_ingest_failure` for the quality report.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from email.message import EmailMessage

import anyio
from aiosmtpd.smtp import SMTP, Envelope, Session
from anyio.streams.memory import MemoryObjectSendStream

from memory_core import (
    Duplicate,
    InvalidInput,
    Memory,
    MemoryCore,
    MemoryDraft,
    Source,
    StoreResult,
    TeamloreError,
    TenantMap,
    TooLarge,
    redact_secrets,
)

from .addresses import EnvelopePolicy
from .compose import memory_draft
from .config import MailSettings
from .confirm import confirmation
from .errors import MalformedMail, is_refusal, smtp_reply
from .parse import ParsedMail, parse_mail

__all__ = ["MailHandler"]

logger = logging.getLogger(__name__)

_MESSAGE_ID = re.compile(rb"^message-id:\s*(<[^>\r\n]{1,500}>)", re.IGNORECASE | re.MULTILINE)


class MailHandler:
    """Hooks for aiosmtpd's SMTP protocol (`handle_RCPT`, `handle_DATA`, `handle_exception`)."""

    def __init__(
        self,
        core: MemoryCore,
        settings: MailSettings,
        tenants: TenantMap,
        *,
        confirmations: MemoryObjectSendStream[EmailMessage] | None = None,
    ) -> None:
        self._core = core
        self._settings = settings
        self._policy = EnvelopePolicy(settings.recipients, settings.allowed_senders, tenants)
        self._confirmations = confirmations
        self._in_flight = 0
        self._idle = anyio.Event()
        self._idle.set()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        tenant: str | None = None
        try:
            tenant = self._policy.tenant_of(address)
            self._policy.check_sender(envelope.mail_from, authenticated=bool(session.authenticated))
        except TeamloreError as error:
            reply = smtp_reply(error)
            logger.info("mail from %s to %s refused: %s", envelope.mail_from, address, reply)
            await self._record(tenant, f"{reply} (from {envelope.mail_from} to {address})", None)
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._in_flight == 0:
            self._idle = anyio.Event()
        self._in_flight += 1
        try:
            return await self._ingest(envelope)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def wait_idle(self) -> None:
        """Return once no mail is being stored (used for a graceful shutdown)."""
        await self._idle.wait()

    async def handle_exception(self, error: Exception) -> str:
        """aiosmtpd calls this for an exception outside our hooks; the table gives a 451 with a ref."""
        return smtp_reply(error)

    async def refuse_too_large(self, envelope: Envelope | None) -> str:
        """aiosmtpd enforces the size limit itself (SIZE= at MAIL, byte count in DATA); see server.py."""
        limit = self._settings.max_message_bytes
        return await self._refuse(
            envelope, TooLarge(f"the limit is {limit} bytes", limit=limit, size=limit + 1)
        )

    async def refuse_long_line(self, envelope: Envelope | None, limit: int) -> str:
        """aiosmtpd refused a DATA line over its limit; see server.py."""
        return await self._refuse(envelope, MalformedMail(f"a line is longer than {limit} bytes"))

    async def _refuse(self, envelope: Envelope | None, error: TeamloreError) -> str:
        reply = smtp_reply(error)
        recipients = list(envelope.rcpt_tos) if envelope is not None else []
        sender = envelope.mail_from if envelope is not None else None
        logger.info("mail from %s to %s refused: %s", sender, recipients, reply)
        for tenant in self._tenants(recipients) or [None]:
            await self._record(tenant, f"{reply} (from {sender})", None)
        return reply

    async def _ingest(self, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        by_tenant = self._tenants(envelope.rcpt_tos)
        ref = _peek_message_id(data)
        mail: ParsedMail | None = None
        try:
            mail = await anyio.to_thread.run_sync(
                functools.partial(
                    parse_mail,
                    data,
                    max_text_chars=self._settings.max_text_chars,
                    attachment_text_chars=self._settings.attachment_text_chars,
                    max_tags=self._settings.max_tags,
                    max_depth=self._settings.max_mime_depth,
                    max_header_lines=self._settings.max_header_lines,
                )
            )
            if mail.supersedes and len(by_tenant) > 1:
                raise InvalidInput(
                    f"supersedes:#{mail.supersedes[0]} names a memory of one team: "
                    "send this mail to that team's address only"
                )
            results = [await self._store(tenant, mail, rcpts) for tenant, rcpts in by_tenant.items()]
            reply = _stored_reply(results, mail.supersedes)
        except Exception as error:
            results = []
            reply = smtp_reply(error)
        logger.info("mail %s from %s to %s: %s", ref, envelope.mail_from, envelope.rcpt_tos, reply)
        if is_refusal(reply):
            reason = f"{reply} (from {envelope.mail_from})"
            for tenant in by_tenant:
                await self._record(tenant, reason, ref or _content_ref(data))
        elif mail is not None:
            self._confirm(envelope, mail, reply, _contradiction_notes(results))
        return reply

    async def _store(self, tenant: str, mail: ParsedMail, recipients: list[str]) -> StoreResult:
        # Cut to the core's own limit too, so a long mail is kept shortened rather than refused.
        max_chars = min(self._settings.max_text_chars, self._core.settings.max_text_chars)
        draft = memory_draft(
            mail, recipients=recipients, max_chars=max_chars, max_tags=self._settings.max_tags
        )
        if draft.source_ref and draft.supersedes is None:
            # The same mail again (a retry, a relay that stamped a footer into the body) is one memory;
            # a *different* mail reusing the Message-ID is stored as its own (see _same_mail).
            ref = redact_secrets(draft.source_ref)  # as the core's guard stored it
            existing = await self._core.find_by_source_ref(tenant, ref, source=Source.EMAIL)
            if existing is not None and _same_mail(existing, draft):
                return StoreResult(memory=existing, created=False, duplicate_of=existing.id)
            if existing is not None:
                logger.info(
                    "mail %s reuses the Message-ID of #%d for another mail: stored",
                    ref,
                    existing.id,
                )
        return await self._core.store(tenant, draft, redact=self._settings.redact_credentials)

    def _tenants(self, recipients: list[str]) -> dict[str, list[str]]:
        """Accepted recipients grouped by tenant: one memory per tenant, whatever the number of addresses."""
        grouped: dict[str, list[str]] = {}
        for address in recipients:
            grouped.setdefault(self._policy.tenant_of(address), []).append(address)
        return grouped

    async def _record(self, tenant: str | None, reason: str, ref: str | None) -> None:
        try:
            await self._core.record_ingest_failure(tenant, source=Source.EMAIL, reason=reason, ref=ref)
        except TeamloreError as error:
            # The refusal itself has been answered; losing its record only weakens the quality report.
            logger.warning("could not record the mail ingest failure (%s): %s", reason, error)

    def _confirm(self, envelope: Envelope, mail: ParsedMail, reply: str, notes: list[str]) -> None:
        relay = self._settings.relay
        if not self._settings.confirm or relay is None or self._confirmations is None:
            return
        if mail.automated or not envelope.mail_from:
            return  # RFC 3834: never answer automatic mail or bounces
        message = confirmation(
            mail, to=envelope.mail_from, sender=relay.from_address, reply=reply, notes=notes
        )
        try:
            self._confirmations.send_nowait(message)
        except anyio.WouldBlock:
            logger.warning("confirmation to %s dropped: the relay queue is full", envelope.mail_from)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            logger.info("confirmation to %s dropped: shutting down", envelope.mail_from)


def _stored_reply(results: list[StoreResult], supersedes: tuple[int, ...]) -> str:
    # The core applied the mail's supersedes:#N (a stored copy included) or raised: say so.
    replaced = "".join(f"; it replaces #{memory_id}" for memory_id in supersedes)
    if all(not result.created for result in results):
        return smtp_reply(Duplicate(results[0].id)) + "".join(f", #{r.id}" for r in results[1:]) + replaced
    refs = ", ".join(f"#{result.id}" for result in results)
    redacted = sorted({kind for result in results for kind in result.redacted})
    note = f" (redacted: {', '.join(redacted)})" if redacted else ""
    return f"250 2.0.0 Remembered as {refs}{note}{replaced}"


def _contradiction_notes(results: list[StoreResult]) -> list[str]:
    """One line per stored memory the mail may contradict, with how to replace it."""
    return [
        f"#{result.id}: {maybe.warning} ({maybe.reason}). If #{result.id} replaces it, send the same mail "
        f"again with supersedes:#{maybe.id} in the subject."
        for result in results
        for maybe in result.contradicts
    ]


def _same_mail(existing: Memory, draft: MemoryDraft) -> bool:
    """Whether `draft` is the mail `existing` was stored from: same sender, subject and Date header.

    The body is not compared (relays and list servers stamp lines into it). A mail without a Date
    header is not judged here: the core's exact-duplicate check on its text decides.
    """
    if draft.created_at is None:
        return False
    title = redact_secrets(draft.title) if draft.title else None  # stored through the guard
    return (
        existing.author_id == draft.author_id
        and existing.title == title
        and existing.created_at == draft.created_at
    )


def _peek_message_id(data: bytes) -> str | None:
    """The Message-ID for logs and failure records, even when the mail cannot be parsed."""
    header_end = data.find(b"\r\n\r\n")
    match = _MESSAGE_ID.search(data[: header_end if header_end > 0 else 65536])
    return redact_secrets(match.group(1).decode("ascii", "replace")) if match else None


def _content_ref(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()[:16]
