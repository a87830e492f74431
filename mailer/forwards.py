"""Find the forwarded message inside a mail body: Gmail, Outlook, Apple Mail and Thunderbird blocks.

Each client writes a marker line, then a small header block ("From: ...", "Date:"/"Sent: ...",
"Subject: ...", "To: ..."), then the original body:

    Gmail         ---------- Forwarded message ---------     From / Date / Subject / To
    Thunderbird   -------- Forwarded Message --------         Subject / Date / From / To
    Apple Mail    Begin forwarded message:                     From / Subject / Date / To
    Outlook       ______________________ (or -----Original Message-----)     From / Sent / To / Subject

Outlook's markers also introduce plain reply history, so they count as a forward only at the top of
the mail being forwarded to us, or when the enclosing subject says it was forwarded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .textclean import FROM_LABEL, RULE

__all__ = ["ForwardBlock", "find_forward", "is_forward_subject"]

_EXPLICIT_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("thunderbird", re.compile(r"^\s*-{4,}\s*Forwarded Message\s*-{4,}\s*$")),
    (
        "gmail",
        re.compile(
            r"^\s*-{4,}\s*(Forwarded message|Mensaje reenviado|Message transféré|Weitergeleitete Nachricht|"
            r"Messaggio inoltrato|Doorgestuurd bericht|Mensagem encaminhada)\s*-{4,}\s*$",
            re.IGNORECASE,
        ),
    ),
    (
        "apple",
        re.compile(
            r"^\s*(Begin forwarded message|Anfang der weitergeleiteten Nachricht|Début du message réexpédié|"
            r"Inicio del mensaje reenviado|Inizio messaggio inoltrato)\s*:\s*$",
            re.IGNORECASE,
        ),
    ),
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{3,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original)\s*-{3,}\s*$",
    re.IGNORECASE,
)

_LABELS = {
    "from": ("from", "von", "de", "van", "da", "från", "fra", "od"),
    "date": ("date", "sent", "gesendet", "datum", "envoyé", "enviado", "fecha", "data", "verzonden",
             "inviato", "skickat", "sendt"),
    "subject": ("subject", "betreff", "objet", "asunto", "onderwerp", "oggetto", "ämne", "assunto", "emne"),
    "to": ("to", "an", "à", "a", "para", "aan", "till", "til", "do"),
    "cc": ("cc", "kopie", "copie"),
    "reply-to": ("reply-to", "antwort an", "répondre à"),
}  # fmt: skip
_LABEL_OF = {word: canonical for canonical, words in _LABELS.items() for word in words}
_HEADER_LINE = re.compile(r"^\s*\**\s*([A-Za-zÀ-ÿ][A-Za-zÀ-ÿ -]{0,20}?)\s*\**\s*:\s*\**\s*(.*)$")
_FORWARD_SUBJECT = re.compile(
    r"^\s*(\[[^\]]*\]\s*)*(fwd?|fw|tr|wg|rv|enc|i|doorst|vs|vb)\s*(\[\d+\])?\s*:", re.IGNORECASE
)


@dataclass(frozen=True)
class ForwardBlock:
    """A forwarded message found in a body: the text before it, its header fields, and its body."""

    style: str
    note: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


def is_forward_subject(subject: str) -> bool:
    """True when a subject starts with a forward prefix (Fwd:, FW:, WG:, TR:, RV:, ...)."""
    return bool(_FORWARD_SUBJECT.match(subject))


def find_forward(
    text: str, *, outlook_markers: bool = True, bare_headers: bool = False
) -> ForwardBlock | None:
    """The first forward block in `text`, or None.

    `outlook_markers` lets Outlook's separators (which also start reply history) count;
    `bare_headers` accepts a header block with no marker at all (Outlook mobile), for mail whose
    subject says it is a forward.
    """
    lines = text.split("\n")
    for index, line in enumerate(lines):
        style = _marker_style(lines, index, outlook_markers=outlook_markers)
        start = index + 1
        if style is None and bare_headers and FROM_LABEL.match(line):
            style, start = "outlook", index
        if style is None:
            continue
        parsed = _header_block(lines, start)
        if parsed is None:
            continue
        headers, body_start = parsed
        if bare_headers and style == "outlook" and start == index and not _complete(headers):
            continue
        note = "\n".join(lines[:index])
        return ForwardBlock(style=style, note=note, headers=headers, body="\n".join(lines[body_start:]))
    return None


def _marker_style(lines: list[str], index: int, *, outlook_markers: bool) -> str | None:
    line = lines[index]
    for style, pattern in _EXPLICIT_MARKERS:
        if pattern.match(line):
            return style
    if outlook_markers and (_ORIGINAL_MESSAGE.match(line) or RULE.match(line)):
        return "outlook"
    return None


def _complete(headers: dict[str, str]) -> bool:
    return {"from", "date", "subject"} <= headers.keys()


def _header_block(lines: list[str], start: int) -> tuple[dict[str, str], int] | None:
    """Parse "Label: value" lines from `start` (after blank lines); None unless a From: is among them."""
    index = start
    while index < len(lines) and not lines[index].strip():
        index += 1
    headers: dict[str, str] = {}
    last: str | None = None
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            break
        match = _HEADER_LINE.match(line)
        label = _LABEL_OF.get(match.group(1).strip().lower()) if match else None
        if match and label:
            if label not in headers:
                headers[label] = match.group(2).strip()
            last = label
        elif last in ("to", "cc", "subject") and headers:
            # A long To:/Cc: list or subject wrapped onto the next line.
            headers[last] = f"{headers[last]} {line.strip()}"
        elif headers:
            break
        else:
            return None
        index += 1
    if "from" not in headers:
        return None
    return headers, index
