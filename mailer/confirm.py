"""Optional confirmation replies ("Remembered as #42") sent through the configured outgoing relay."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib
from anyio.abc import ObjectReceiveStream

from .config import RelaySettings
from .parse import ParsedMail

__all__ = ["confirmation", "deliver_confirmations"]

logger = logging.getLogger(__name__)


def confirmation(
    mail: ParsedMail, *, to: str, sender: str, reply: str, notes: Sequence[str] = ()
) -> EmailMessage:
    """The reply to the person who sent us `mail`, threaded under it, marked auto-replied (RFC 3834).

    `notes` are extra lines for the sender, such as a memory the mail may contradict.
    """
    outcome = reply.split(" ", 2)[-1] if reply.startswith("250") else reply
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"Re: {mail.title or mail.subject or 'your mail'}"[:200]
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-replied"
    if mail.message_id:
        message["In-Reply-To"] = mail.message_id
        message["References"] = mail.message_id
    lines = [f"{outcome} in teamlore."]
    if mail.title:
        lines.append(f"Title: {mail.title}")
    if mail.author:
        lines.append(f"Author: {mail.author}")
    lines.extend(f"\n{note}" for note in notes)
    lines.append("\nAsk for it from chat with /query, or forget it with /forget and the id.")
    message.set_content("\n".join(lines))
    return message


async def deliver_confirmations(relay: RelaySettings, messages: ObjectReceiveStream[EmailMessage]) -> None:
    """Send queued confirmations one by one until the stream closes; a failed one is logged and dropped."""
    async with messages:
        async for message in messages:
            try:
                await aiosmtplib.send(
                    message,
                    hostname=relay.host,
                    port=relay.port,
                    username=relay.username,
                    password=relay.password.get_secret_value() if relay.password else None,
                    use_tls=relay.use_tls,
                    start_tls=relay.start_tls,
                    validate_certs=relay.validate_certs,
                    timeout=relay.timeout_seconds,
                )
            except (aiosmtplib.SMTPException, OSError) as error:
                logger.warning("confirmation to %s not sent through %s: %s", message["To"], relay.host, error)
            else:
                logger.info("confirmation sent to %s", message["To"])
