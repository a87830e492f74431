"""Pure text helpers for mail bodies: HTML to readable text, quoted replies and signatures removed."""

from __future__ import annotations

import html
import logging
import re

import html2text

__all__ = ["cut_reply_history", "html_to_text", "normalise", "strip_quoted", "strip_signature"]

logger = logging.getLogger(__name__)

_EMPTY_LINK = re.compile(r"\[\s*\]\([^)\s]*\)")
_MAILTO = re.compile(r"\[([^\]\n]*)\]\(mailto:[^)\s]*\)")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^>\s]+)>")
_MD_ESCAPE_LINE = re.compile(r"^(\s*)\\([-+#>*])", re.MULTILINE)
_MD_ESCAPE_NUMBER = re.compile(r"^(\s*\d+)\\\.", re.MULTILINE)
_HR = re.compile(r"^\s*\* \* \*\s*$", re.MULTILINE)
_TAGS = re.compile(r"<[^>]*>")
_SCRIPT_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def html_to_text(markup: str) -> str:
    """Readable plain text from an HTML body: links kept inline, images and emphasis dropped."""
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_mailto_links = True
    converter.unicode_snob = True
    converter.single_line_break = False
    try:
        text = converter.handle(markup)
    except Exception:
        logger.debug("html2text failed; falling back to tag stripping", exc_info=True)
        text = html.unescape(_TAGS.sub(" ", _SCRIPT_STYLE.sub(" ", markup)))
    text = _EMPTY_LINK.sub("", text)  # linked images without alt text
    text = _MAILTO.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _MD_ESCAPE_LINE.sub(r"\1\2", text)
    text = _MD_ESCAPE_NUMBER.sub(r"\1.", text)
    # An <hr> is how Outlook separates a forwarded or quoted message in HTML; keep a plain marker.
    text = _HR.sub("________________________________", text)
    return normalise(text)


def normalise(text: str) -> str:
    """Unix newlines, no trailing spaces, at most one blank line in a row, trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip()


# "On Tue, 3 Mar 2026 at 10:15, Alice <a@x> wrote:" and its translations; may wrap over two lines.
_ATTRIBUTION = re.compile(
    r"^\s*(On\b.{0,300}\bwrote|Am\b.{0,300}\bschrieb.{0,100}|Le\b.{0,300}\ba écrit|"
    r"El\b.{0,300}\bescribió|Op\b.{0,300}\bschreef.{0,100}|Il\b.{0,300}\bha scritto)\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
_QUOTED = re.compile(r"^\s*>")


def strip_quoted(text: str) -> str:
    """Remove quoted reply lines (`> ...`) and the "On ... wrote:" line that introduces them.

    A text that is nothing but quotation (some clients quote the whole forwarded message) is
    un-quoted instead, so nothing the sender meant to keep is lost.
    """
    lines = text.split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if _QUOTED.match(line):
            index += 1
            continue
        if _ATTRIBUTION.match(line) and _next_is_quote(lines, index + 1):
            index += 1
            continue
        pair = f"{line} {lines[index + 1].strip()}" if index + 1 < len(lines) else ""
        if pair and _ATTRIBUTION.match(pair) and _next_is_quote(lines, index + 2):
            index += 2
            continue
        kept.append(line)
        index += 1
    result = normalise("\n".join(kept))
    if result or not text.strip():
        return result
    return normalise("\n".join(re.sub(r"^\s*>+ ?", "", line) for line in lines))


def _next_is_quote(lines: list[str], start: int) -> bool:
    for line in lines[start:]:
        if line.strip():
            return bool(_QUOTED.match(line))
    return True


_SIG_DELIMITER = re.compile(r"^-- ?$")
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(Sent from my \w[\w ]{0,30}|Sent from (Outlook|Mail|Yahoo Mail|Gmail)\b.*|"
    r"Get Outlook for (iOS|Android)\b.*|Sent from Mail for Windows\b.*|Von meinem \w+ gesendet|"
    r"Envoyé de mon \w+|Enviado desde mi \w+)\s*$",
    re.IGNORECASE,
)
_MAX_LOOSE_SIGNATURE_LINES = 15


def strip_signature(text: str) -> str:
    """Cut the signature: after an RFC 3676 "-- " line, or a bare "--" line near the end, or a
    "Sent from my iPhone"-style line."""
    lines = text.split("\n")
    # Non-blank lines after each line, counted once from the end (keeps this linear on long bodies).
    after = [0] * len(lines)
    count = 0
    for index in range(len(lines) - 1, -1, -1):
        after[index] = count
        count += bool(lines[index].strip())
    for index, line in enumerate(lines):
        if line == "-- " or (_SIG_DELIMITER.match(line) and after[index] <= _MAX_LOOSE_SIGNATURE_LINES):
            return normalise("\n".join(lines[:index]))
        if after[index] <= 2 and _MOBILE_SIGNATURE.match(line):
            return normalise("\n".join(lines[:index]))
    return normalise(text)


# Where an Outlook-style reply history starts inside a message body.
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{3,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original)\s*-{3,}\s*$",
    re.IGNORECASE,
)
RULE = re.compile(r"^\s*_{10,}\s*$")
FROM_LABEL = re.compile(r"^\s*(From|Von|De|Van|Da)\s*:\s*\S", re.IGNORECASE)
_SENT_LABEL = re.compile(r"^\s*(Sent|Gesendet|Envoyé|Enviado|Verzonden|Inviato|Date)\s*:\s*\S", re.IGNORECASE)


def _history_starts(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _ORIGINAL_MESSAGE.match(line):
        return True
    following = [other for other in lines[index + 1 : index + 4] if other.strip()]
    if RULE.match(line):
        return bool(following) and bool(FROM_LABEL.match(following[0]))
    return bool(FROM_LABEL.match(line)) and bool(following) and bool(_SENT_LABEL.match(following[0]))


def cut_reply_history(text: str) -> str:
    """Drop the earlier messages of a thread that mail clients append below a reply."""
    lines = text.split("\n")
    for index in range(1, len(lines)):
        if _history_starts(lines, index):
            return normalise("\n".join(lines[:index]))
    return normalise(text)
