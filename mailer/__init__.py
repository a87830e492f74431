"""teamlore's SMTP front-end: forward a mail to teamlore and it is remembered."""

from .config import MailSettings, RelaySettings
from .errors import MalformedMail, SenderNotAllowed, smtp_reply
from .handler import MailHandler
from .parse import Attachment, ParsedMail, parse_mail
from .server import run_smtp

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
