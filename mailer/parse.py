"""Bytes of a (forwarded) mail -> ParsedMail: original author, date, subject, clean body, tags, importance.

Pure and synchronous (the server runs it in a worker thread). Nothing here raises on odd input except
MalformedMail, when nothing readable can be taken from the bytes at all.

How a mail is read:
- MIME: text/plain is preferred in multipart/alternative, HTML is turned into text otherwise; inline
  text parts are the body; parts with a file name are attachments (listed by name, text ones indexed
  up to a budget); embedded images of multipart/related are skipped; attached message/rfc822 parts
  are forwarded messages.
- Forwarding: an inline forward block (see `forwards.py`) or, failing that, an attached message gives
  the original sender (the memory's author), date and subject; the forwarder's own words above it are
  kept as the note. A mail that forwards nothing is its own original.
- Cleaning: reply history, quoted lines and signatures are removed from note and body.
- Headers are read raw and decoded here (RFC 2047, any charset), because `policy.default` raises on
  some broken headers; a message `policy.default` cannot parse at all is re-read with `compat32`.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from email.message import Message

from memory_core import Importance

from .charsets import decode_bytes, decode_header_value
from .dates import parse_date
from .errors import MalformedMail
from .forwards import find_forward, is_forward_subject
from .labels import (
    bracket_tags,
    clean_subject,
    combine_importance,
    hashtags,
    header_importance,
    importance_markers,
    merge_tags,
    strip_supersedes,
    supersedes_markers,
    word_importance,
)
from .structure import check_structure
from .textclean import cut_reply_history, html_to_text, normalise, strip_quoted, strip_signature

__all__ = ["Attachment", "ParsedMail", "parse_mail"]

logger = logging.getLogger(__name__)

_MAX_DEPTH = 20
_TEXT_SUBTYPES = {"json", "xml", "csv", "x-yaml", "yaml", "x-sh", "x-python", "sql", "toml", "x-ini"}
_TEXT_SUFFIXES = (
    ".txt", ".md", ".markdown", ".rst", ".csv", ".tsv", ".log", ".json", ".yaml", ".yml", ".xml", ".ini",
    ".toml", ".cfg", ".conf", ".sql", ".py", ".sh", ".ics", ".vcf", ".diff", ".patch", ".html", ".htm",
)  # fmt: skip
_SIGNATURE_TYPES = {
    "application/pgp-signature",
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
}
_REPLY_SUBJECT = re.compile(r"^\s*(re|aw|sv|antw|odp)\s*(\[\d+\])?\s*:", re.IGNORECASE)
_TRUNCATED = "\n[... truncated]"


@dataclass(frozen=True)
class Attachment:
    """An attached file: its name, type and size, and its text when it is a text file that was indexed."""

    filename: str
    content_type: str
    size: int
    text: str | None = None


@dataclass(frozen=True)
class ParsedMail:
    """What teamlore remembers of one mail. `author_*`, `date` and `subject` describe the original
    message (for a forward, the forwarded one); `sender_*` is who sent this mail to us."""

    message_id: str | None
    sender_name: str | None
    sender_address: str | None
    author_name: str | None
    author_address: str | None
    date: datetime | None
    subject: str
    title: str
    note: str
    body: str
    forward_style: str | None
    tags: tuple[str, ...]
    importance: Importance
    attachments: tuple[Attachment, ...]
    automated: bool = False
    supersedes: tuple[int, ...] = ()  # `supersedes:#12` in the subject or the sender's own words
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def author(self) -> str | None:
        """How the author is shown: the display name, else the address."""
        return self.author_name or self.author_address


@dataclass
class _Content:
    """What a MIME walk collects from one message."""

    texts: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    @property
    def text(self) -> str:
        return normalise("\n\n".join(text for text in self.texts if text.strip()))


@dataclass
class _Budget:
    """Characters of attachment text still allowed, shared by every attachment of the mail."""

    chars: int


def parse_mail(
    data: bytes,
    *,
    max_text_chars: int = 16_000,
    attachment_text_chars: int = 4_000,
    max_tags: int = 12,
    max_depth: int = 32,
    max_header_lines: int = 1000,
) -> ParsedMail:
    """Parse one mail. Raises MalformedMail when there is nothing readable in it, or when it cannot be
    taken apart: nested deeper than `max_depth`, more than `max_header_lines` header fields, or any
    failure of the MIME parser itself (permanent: the same bytes would fail again on a retry)."""
    if not data.strip():
        raise MalformedMail("the message is empty")
    check_structure(data, max_depth=max_depth, max_header_lines=max_header_lines)
    try:
        return _parse(data, max_text_chars, attachment_text_chars, max_tags)
    except MalformedMail:
        raise
    except RecursionError as exc:
        raise MalformedMail("its MIME parts are nested too deeply to read") from exc
    except Exception as exc:
        logger.warning("a mail the parser could not take apart (%s)", type(exc).__name__, exc_info=exc)
        raise MalformedMail(f"the message could not be taken apart ({type(exc).__name__})") from exc


def _parse(data: bytes, max_text_chars: int, attachment_text_chars: int, max_tags: int) -> ParsedMail:
    message = _message_from_bytes(data)
    outer_headers = _headers(message)
    if not outer_headers and _looks_binary(data):
        raise MalformedMail("no mail headers and no readable text")
    budget = _Budget(attachment_text_chars)
    raw_limit = max_text_chars * 4
    outer = _collect(message, budget, raw_limit)
    outer_subject = outer_headers.get("subject", "")
    sender_name, sender_address = _address(outer_headers.get("from", ""))
    outer_date = parse_date(outer_headers.get("date"))
    zone: tzinfo = outer_date.tzinfo if outer_date and outer_date.tzinfo else UTC

    original_headers: dict[str, str] = {}
    attachments = list(outer.attachments)
    is_reply = bool(_REPLY_SUBJECT.match(outer_subject))
    block = find_forward(
        outer.text, outlook_markers=not is_reply, bare_headers=is_forward_subject(outer_subject)
    ) or find_forward(_dequote(outer.text), outlook_markers=False)
    if block is not None:
        style: str | None = block.style
        notes, headers, body = [block.note], block.headers, block.body
        while (
            inner := find_forward(body, outlook_markers=is_forward_subject(headers.get("subject", "")))
        ) is not None:
            notes.append(inner.note)
            headers, body = inner.headers, inner.body
        author_name, author_address = _address(headers.get("from", ""))
        date = parse_date(headers.get("date"), default_tz=zone)
        subject = headers.get("subject", "") or outer_subject
        note = "\n\n".join(filter(None, (_clean_note(text) for text in notes)))
        attachments += [_message_attachment(inner_message) for inner_message in outer.messages]
    elif outer.messages:
        style = "rfc822"
        notes = [outer.text]
        inner_message = outer.messages[0]
        original_headers = _headers(inner_message)
        inner_content = _collect(inner_message, budget, raw_limit)
        # A forward of a forward: go down to the message that was written, not the ones passing it on.
        while inner_content.messages and (
            not inner_content.text or is_forward_subject(original_headers.get("subject", ""))
        ):
            notes.append(inner_content.text)
            attachments += inner_content.attachments
            inner_message = inner_content.messages[0]
            original_headers = _headers(inner_message)
            inner_content = _collect(inner_message, budget, raw_limit)
        body = inner_content.text
        nested = find_forward(body, outlook_markers=False)
        if nested is not None:
            notes.append(nested.note)
            body = nested.body
        author_name, author_address = _address(original_headers.get("from", ""))
        date = parse_date(original_headers.get("date"), default_tz=zone)
        subject = original_headers.get("subject", "") or outer_subject
        note = "\n\n".join(filter(None, (_clean_note(text) for text in notes)))
        attachments += inner_content.attachments
        attachments += [_message_attachment(extra) for extra in outer.messages[1:]]
    else:
        style = None
        body, subject, note = outer.text, outer_subject, ""
        author_name, author_address = sender_name, sender_address
        date = outer_date

    body = _clean_body(body)
    # supersedes:#N is an instruction from whoever sends the mail to us: read from the outer subject and
    # their own words (the forward note, or the body of a mail that forwards nothing), never from a
    # forwarded third-party text, and taken out of the text remembered.
    own = note if style is not None else body
    supersedes = supersedes_markers("\n".join((outer_subject, own)))
    if supersedes:
        note, body = (strip_supersedes(note), body) if style is not None else (note, strip_supersedes(body))
    if _mostly_garbage(body):
        body = ""
    title = clean_subject(subject) or clean_subject(outer_subject)
    if not (body or note or title or any(item.text for item in attachments)):
        raise MalformedMail("no readable text in the message")

    signal_text = "\n".join((outer_subject, subject, note))
    tags = merge_tags(
        [
            bracket_tags(outer_subject),
            bracket_tags(subject),
            hashtags(outer_subject),
            hashtags(subject),
            hashtags(note),
            hashtags(body),
        ],
        max_tags,
    )
    importance = combine_importance(
        importance_markers(signal_text),
        [header_importance(outer_headers), header_importance(original_headers), word_importance(signal_text)],
    )
    return ParsedMail(
        message_id=_message_id(outer_headers.get("message-id", "")),
        sender_name=sender_name,
        sender_address=sender_address,
        author_name=author_name,
        author_address=author_address,
        date=_plausible(date),
        subject=subject,
        title=title,
        note=_truncate(note, max_text_chars),
        body=_truncate(body, max_text_chars),
        forward_style=style,
        tags=tags,
        importance=importance,
        attachments=tuple(attachments),
        automated=_automated(outer_headers),
        supersedes=supersedes,
        headers=outer_headers,
    )


# --- MIME -----------------------------------------------------------------------------------------


def _message_from_bytes(data: bytes) -> Message:
    try:
        return email.message_from_bytes(data, policy=email.policy.default)
    except Exception:
        return email.message_from_bytes(data, policy=email.policy.compat32)


def _headers(message: Message) -> dict[str, str]:
    """Every header once (the first wins), names lower-case, values decoded to one line of text."""
    hint = _declared_charset(message)
    headers: dict[str, str] = {}
    for name, value in message.raw_items():
        key = str(name).strip().lower()
        if key and key not in headers:
            headers[key] = decode_header_value(str(value), hint)
    return headers


def _declared_charset(message: Message) -> str | None:
    """The first charset the message declares for a part: the best guess for raw 8-bit headers."""
    try:
        for part in message.walk():
            charset = _charset(part)
            if charset and charset not in ("us-ascii", "ascii"):
                return charset
    except Exception:
        return None
    return None


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "text/plain"


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename() or part.get_param("name")
    except Exception:
        return None
    if not isinstance(name, str) or not name.strip():
        return None
    name = decode_header_value(name)
    return re.split(r"[\\/]", name)[-1][:200] or None


def _payload(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        return b""
    return payload if isinstance(payload, bytes) else b""


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [child for child in payload if isinstance(child, Message)]
    if isinstance(payload, str):
        return _salvage_parts(payload)
    return []


_BOUNDARY_LINE = re.compile(r"^--([^\s]{1,200}?)(--)?[ \t]*\r?$", re.MULTILINE)


def _salvage_parts(payload: str) -> list[Message]:
    """Split a multipart whose declared boundary is wrong or unreadable on the delimiter lines actually
    used in it; failing that, the raw payload is read as one plain-text part."""
    match = _BOUNDARY_LINE.search(payload)
    if match is not None:
        delimiter = re.compile(r"^--" + re.escape(match.group(1)) + r"(--)?[ \t]*\r?$", re.MULTILINE)
        chunks = [
            chunk.lstrip("\r\n") for chunk in delimiter.split(payload)[1:] if chunk and chunk.strip("-\r\n ")
        ]
        parts = [email.message_from_string(chunk, policy=email.policy.compat32) for chunk in chunks]
        parts = [part for part in parts if part.keys()]
        if parts:
            return parts
    fallback = Message()
    fallback.set_payload(payload)
    return [fallback]


def _collect(message: Message, budget: _Budget, raw_limit: int) -> _Content:
    content = _Content()
    _walk(message, content, budget, raw_limit, depth=0)
    return content


def _walk(part: Message, out: _Content, budget: _Budget, raw_limit: int, depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    ctype = _content_type(part)
    if ctype.startswith("multipart/"):
        children = _children(part)
        salvaged = not isinstance(part.get_payload(), list)
        if ctype == "multipart/alternative" or (
            salvaged and all(_content_type(child) in ("text/plain", "text/html") for child in children)
        ):
            children = _best_alternative(children)
        elif ctype in ("multipart/related", "multipart/signed") and not salvaged:
            # related: the first part is the document, the rest its embedded images;
            # signed: the first part is the message, the second its signature.
            children = children[:1] + [child for child in children[1:] if _disposition(child) == "attachment"]
        for child in children:
            _walk(child, out, budget, raw_limit, depth + 1)
        return
    if ctype in ("message/rfc822", "message/global"):
        inner = _inner_message(part)
        if inner is not None:
            out.messages.append(inner)
        return
    if ctype in _SIGNATURE_TYPES:
        return
    filename = _filename(part)
    disposition = _disposition(part)
    if ctype in ("text/plain", "text/html") and not filename and disposition != "attachment":
        text = _part_text(part, ctype, raw_limit)
        if text:
            out.texts.append(text)
        return
    if ctype.startswith("image/") and disposition != "attachment" and part.get("content-id"):
        return  # an inline image referenced from the HTML (logos, signatures)
    out.attachments.append(_attachment(part, ctype, filename, budget, raw_limit))


def _best_alternative(children: list[Message]) -> list[Message]:
    """text/plain when it has real content, else the richest part (the last, by RFC 2046).

    A plain part that is tiny next to a big HTML part is a stub ("view this mail in HTML") or junk.
    """
    html_size = max(
        (len(_payload(child)) for child in children if _content_type(child) == "text/html"), default=0
    )
    for child in children:
        if _content_type(child) == "text/plain" and _disposition(child) != "attachment":
            size = len(normalise(decode_bytes(_payload(child), _charset(child))))
            if size >= 3 and (size >= 200 or html_size <= 50 * size):
                return [child]
    return children[-1:]


def _part_text(part: Message, ctype: str, raw_limit: int) -> str:
    text = decode_bytes(_payload(part), _charset(part))
    if ctype == "text/html":
        # html2text is pure Python: bound its input so a huge newsletter cannot stall a worker.
        return html_to_text(text[: max(200_000, raw_limit * 5)])
    text = text[:raw_limit]
    if _param(part, "format").lower() == "flowed":
        text = _unflow(text, delete_space=_param(part, "delsp").lower() == "yes")
    return normalise(text)


def _param(part: Message, name: str) -> str:
    try:
        value = part.get_param(name)
    except Exception:
        return ""
    return value if isinstance(value, str) else ""


def _unflow(text: str, *, delete_space: bool) -> str:
    """Undo RFC 3676 format=flowed: a line ending in a space continues on the next line."""
    out: list[str] = []
    joining = False
    for raw_line in text.replace("\r\n", "\n").split("\n"):
        line = raw_line[1:] if raw_line.startswith(" ") else raw_line  # space-stuffing
        flowed = line.endswith(" ") and line != "-- "
        if flowed and delete_space:
            line = line[:-1]
        if joining and out:
            out[-1] += line
        else:
            out.append(line)
        joining = flowed
    return "\n".join(out)


def _is_text_file(ctype: str, filename: str | None) -> bool:
    maintype, _, subtype = ctype.partition("/")
    if maintype == "text" or subtype in _TEXT_SUBTYPES:
        return True
    return bool(filename) and str(filename).lower().endswith(_TEXT_SUFFIXES)


def _attachment(
    part: Message, ctype: str, filename: str | None, budget: _Budget, raw_limit: int
) -> Attachment:
    payload = _payload(part)
    name = filename or f"unnamed {ctype}"
    text: str | None = None
    if budget.chars > 0 and _is_text_file(ctype, filename) and b"\x00" not in payload[:4096]:
        decoded = decode_bytes(payload[: raw_limit * 4], _charset(part))
        if ctype == "text/html" or name.lower().endswith((".html", ".htm")):
            decoded = html_to_text(decoded)
        decoded = normalise(decoded)
        if decoded and not _mostly_garbage(decoded):
            text = decoded[: budget.chars]
            if len(decoded) > budget.chars:
                text += _TRUNCATED
            budget.chars -= len(text)
    return Attachment(filename=name, content_type=ctype, size=len(payload), text=text)


def _inner_message(part: Message) -> Message | None:
    children = _children(part)
    if children:
        return children[0]
    payload = _payload(part)  # a message/rfc822 wrongly sent base64-encoded
    return _message_from_bytes(payload) if payload.strip() else None


def _message_attachment(message: Message) -> Attachment:
    subject = _headers(message).get("subject", "") or "message"
    return Attachment(filename=f"{subject[:100]}.eml", content_type="message/rfc822", size=0)


# --- cleaning and small helpers -------------------------------------------------------------------


def _dequote(text: str) -> str:
    """One level of "> " quoting removed: some clients quote the whole forwarded message."""
    return "\n".join(re.sub(r"^\s?> ?", "", line) for line in text.split("\n"))


def _clean_note(text: str) -> str:
    return strip_signature(strip_quoted(normalise(text)))


def _clean_body(text: str) -> str:
    return strip_signature(strip_quoted(cut_reply_history(normalise(text))))


_ANGLE_ADDRESS = re.compile(r"^(.*?)<\s*([^<>\s]+@[^<>\s]+?)\s*>")
_BARE_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def _address(value: str) -> tuple[str | None, str | None]:
    """(name, address) from "Alice <a@x>", "Doe, John <j@x>", "Alice [mailto:a@x]", "a@x" or "Alice"."""
    value = " ".join(re.sub(r"\[mailto:([^\]]+)\]", r"<\1>", value).split())
    if not value:
        return None, None
    match = _ANGLE_ADDRESS.match(value)
    if match:
        name, address = match.group(1), match.group(2)
    else:
        bare = _BARE_ADDRESS.search(value)
        if bare is None:
            # Outlook prints only the display name for colleagues of the same organisation.
            return value.strip("<>\"' ") or None, None
        address = bare.group(0)
        name = (value[: bare.start()] + value[bare.end() :]).replace("()", "")
    name = name.strip().strip("\"'()").strip()
    return (name or None), address.strip().lower()


def _message_id(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    match = re.search(r"<[^<>\s]+>", value)
    return (match.group(0) if match else value.split()[0])[:500]


def _automated(headers: dict[str, str]) -> bool:
    """Mail that must never get an automatic reply (RFC 3834): auto-submitted, bulk or list mail."""
    auto = headers.get("auto-submitted", "no").strip().lower()
    precedence = headers.get("precedence", "").strip().lower()
    return auto not in ("", "no") or precedence in ("bulk", "junk", "list") or "list-id" in headers


def _plausible(date: datetime | None) -> datetime | None:
    """A date to keep as the memory's time: not in the future (clock skew aside), not before 1980."""
    if date is None:
        return None
    now = datetime.now(UTC)
    if date.year < 1980 or (date - now).total_seconds() > 86_400:
        return None
    return date


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + _TRUNCATED


def _looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    return sample.count(b"\x00") > 0 or sum(byte < 9 or 13 < byte < 32 for byte in sample) > len(sample) // 10


def _mostly_garbage(text: str) -> bool:
    """True for text that decoded into mostly replacement characters (binary sent as text)."""
    if not text:
        return False
    bad = text.count("\ufffd")
    return bad > 20 and bad > len(text) // 5
