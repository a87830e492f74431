"""Parse the dates mail clients print in forward headers (RFC 5322, Gmail, Outlook, Apple Mail)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

__all__ = ["parse_date"]

_WEEKDAYS = re.compile(r"\b(mon|tue|wed|thu|fri|sat|sun)(day|sday|nesday|rsday|urday)?\b\.?,?", re.IGNORECASE)
_ORDINAL = re.compile(r"\b(\d{1,2})(st|nd|rd|th)\b", re.IGNORECASE)
_OFFSET = re.compile(r"\s*(?:\(?(?:GMT|UTC)\)?)?\s*([+-])(\d{2}):?(\d{2})\)?$", re.IGNORECASE)
_CLOCK_12H = re.compile(r"\d\s*[AP]\.?M\b", re.IGNORECASE)
_ZONE_NAME = re.compile(r"\s+\(?([A-Z]{2,5})\)?$")

_ZONES = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 60, "WEST": 60, "IST": 330,
    "CET": 60, "CEST": 120, "MET": 60, "MEST": 120, "EET": 120, "EEST": 180, "MSK": 180,
    "EST": -300, "EDT": -240, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360,
    "PST": -480, "PDT": -420, "AKST": -540, "AKDT": -480, "HST": -600,
    "JST": 540, "KST": 540, "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780,
}  # fmt: skip

_FORMATS = (
    "%b %d %Y %I:%M %p", "%B %d %Y %I:%M %p", "%b %d %Y %I:%M:%S %p", "%B %d %Y %I:%M:%S %p",
    "%d %b %Y %I:%M %p", "%d %B %Y %I:%M %p", "%d %B %Y %I:%M:%S %p", "%d %b %Y %I:%M:%S %p",
    "%d %B %Y %H:%M:%S", "%d %B %Y %H:%M", "%d %b %Y %H:%M:%S", "%d %b %Y %H:%M",
    "%B %d %Y %H:%M:%S", "%B %d %Y %H:%M", "%b %d %Y %H:%M:%S", "%b %d %Y %H:%M",
    "%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
    "%d %B %Y", "%B %d %Y", "%d %b %Y", "%b %d %Y", "%Y-%m-%d",
)  # fmt: skip


def parse_date(value: str | None, *, default_tz: tzinfo | None = None) -> datetime | None:
    """An aware datetime, or None when the text is not a date we can read.

    A date printed without a zone (Gmail's "Tue, Mar 3, 2026 at 10:15 AM") is in the forwarder's
    zone, so the caller passes the outer mail's zone as `default_tz` (UTC when unknown).
    """
    if not value or not value.strip():
        return None
    text = " ".join(value.split())
    fallback = default_tz or UTC
    parsed = None
    if not _CLOCK_12H.search(text):  # parsedate reads "2:11 PM" as 02:11; leave those to the loose parser
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            parsed = None
    if parsed is not None and parsed.year >= 1970:
        if parsed.tzinfo is None:
            # Naive: either no zone at all (the forwarder's zone) or RFC 5322 "-0000" (UTC, origin unknown).
            return parsed.replace(tzinfo=UTC if text.endswith("-0000") else fallback)
        return parsed
    return _parse_loose(text, fallback)


def _parse_loose(text: str, fallback: tzinfo) -> datetime | None:
    zone: tzinfo | None = None
    match = _OFFSET.search(text)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        zone = timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
        text = text[: match.start()]
    else:
        named = _ZONE_NAME.search(text)
        if named and named.group(1).upper() in _ZONES:
            zone = timezone(timedelta(minutes=_ZONES[named.group(1).upper()]))
            text = text[: named.start()]
    text = _WEEKDAYS.sub(" ", text)
    text = _ORDINAL.sub(r"\1", text)
    text = re.sub(r"\b(at|um|à|a las|alle)\b", " ", text, flags=re.IGNORECASE)
    text = text.replace(",", " ")
    text = re.sub(r"(\d)\.(?=\s)", r"\1", text)  # "3. März" style day numbers
    text = re.sub(r"\b([AP])\.?M\.?\b", r"\1M", text, flags=re.IGNORECASE)
    text = " ".join(text.split())
    for fmt in _FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=zone or fallback)
    return None
