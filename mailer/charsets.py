"""Turn mail bytes and encoded headers into text, whatever charset they claim (or wrongly claim)."""

from __future__ import annotations

import codecs
import re
from email.header import decode_header

__all__ = ["decode_bytes", "decode_header_value", "strip_controls"]

# Labels seen in the wild that Python does not know, or knows under a narrower name than mailers mean.
_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "x-windows-949": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "ansi_x3.4-1968": "ascii",
    "us-ascii": "ascii",
    "unicode-1-1-utf-7": "utf-7",
    "cp-850": "cp850",
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "windows-874": "cp874",
    "tis-620": "cp874",
    # iso-8859-1 mail is nearly always cp1252 in practice (curly quotes in 0x80-0x9f).
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
}

_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff\ufffe]")


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):  # ValueError: a NUL in a forged label
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode text whose declared charset may be missing, unknown or wrong; never raises.

    Order: a byte-order mark wins; then the declared charset if the bytes decode cleanly with it;
    then UTF-8 (the usual truth behind a wrong label); then the declared charset with replacement;
    then cp1252, which maps every byte.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return strip_controls(data.decode("utf-16", errors="replace"))
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        charset = "utf-8"
    codec = _codec(charset)
    if codec is not None:
        try:
            return strip_controls(data.decode(codec))
        except (UnicodeDecodeError, ValueError):
            pass
    try:
        return strip_controls(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    if codec is not None and codec not in ("ascii", "utf-8"):
        return strip_controls(data.decode(codec, errors="replace"))
    return strip_controls(data.decode("cp1252", errors="replace"))


def strip_controls(text: str) -> str:
    """Drop control characters (NUL, escapes, BOMs) that no memory should hold; keep tabs and newlines."""
    return _CONTROLS.sub("", text)


def decode_header_value(raw: str, hint: str | None = None) -> str:
    """Decode a raw header value into one clean line of text.

    Handles RFC 2047 encoded-words in any charset, and raw 8-bit bytes (which the parser keeps as
    surrogate escapes) decoded with `hint`, the charset the message declares for its text.
    """
    text = raw
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        text = decode_bytes(text.encode("utf-8", "surrogateescape"), hint)
    if "=?" in text:
        try:
            parts = []
            for chunk, charset in decode_header(text):
                if isinstance(chunk, str):
                    parts.append(chunk)
                elif charset is None:
                    # decode_header hands back the unencoded stretches this way.
                    parts.append(chunk.decode("raw-unicode-escape", errors="replace"))
                else:
                    parts.append(decode_bytes(chunk, charset))
            text = "".join(parts)
        except Exception:
            pass
    return " ".join(strip_controls(text).split())
