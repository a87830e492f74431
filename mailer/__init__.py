"""teamlore's SMTP front-end: forward a mail to teamlore and it is remembered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from memory_core import lazy_exports

if TYPE_CHECKING:
    from .config import MailSettings, RelaySettings
    from .errors import MalformedMail, SenderNotAllowed, smtp_reply
    from .handler import MailHandler
    from .parse import Attachment, ParsedMail, parse_mail
    from .server import run_smtp

# Names resolve on first use (memory_core._lazy), so importing one light module of the package, or
# the package for its settings model, does not pull in every heavy dependency (see teamlore.cli).
_WHERE = {
    "MailSettings": ".config",
    "RelaySettings": ".config",
    "MalformedMail": ".errors",
    "SenderNotAllowed": ".errors",
    "smtp_reply": ".errors",
    "MailHandler": ".handler",
    "Attachment": ".parse",
    "ParsedMail": ".parse",
    "parse_mail": ".parse",
    "run_smtp": ".server",
}


__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "Attachment",
    "MailHandler",
    "MailSettings",
    "MalformedMail",
    "ParsedMail",
    "RelaySettings",
    "SenderNotAllowed",
    "parse_mail",
    "run_smtp",
    "smtp_reply",
]
