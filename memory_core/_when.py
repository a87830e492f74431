"""Dates in questions: "on 13 October 2023", "in May 2023", "yesterday", "last week" as time windows."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

__all__ = ["question_windows"]

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"

# Most specific first: a day, then a month, then a year. Every pattern needs digits or a month name
# followed by a year, so "may" the verb and "march" the verb never count.
_DAY_PATTERNS = [
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month_number>\d{2})-(?P<day>\d{2})\b"),
]
_MONTH_PATTERN = re.compile(rf"\b{_MONTH},?\s+(?:of\s+)?{_YEAR}\b", re.IGNORECASE)
_YEAR_PATTERN = re.compile(rf"\b(?:in|during|since|of|from|throughout)\s+{_YEAR}\b", re.IGNORECASE)
_RELATIVE = re.compile(
    r"\b(?P<what>today|yesterday|this\s+week|last\s+week|this\s+month|last\s+month|this\s+year|last\s+year"
    r"|(?P<count>\d{1,3})\s+(?P<unit>days?|weeks?)\s+ago)\b",
    re.IGNORECASE,
)

Window = tuple[datetime, datetime]


def _day(d: date) -> Window:
    start = datetime(d.year, d.month, d.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _month(year: int, month: int) -> Window:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def _relative(match: re.Match[str], now: datetime) -> Window:
    what = " ".join(match.group("what").lower().split())
    today = now.astimezone(UTC).date()
    if match.group("count"):
        count = int(match.group("count"))
        days = count * (7 if match.group("unit").lower().startswith("week") else 1)
        return _day(today - timedelta(days=days))
    if what == "today":
        return _day(today)
    if what == "yesterday":
        return _day(today - timedelta(days=1))
    if what in ("this week", "last week"):
        monday = today - timedelta(days=today.weekday()) - timedelta(days=7 if what == "last week" else 0)
        return _day(monday)[0], _day(monday + timedelta(days=6))[1]
    if what in ("this month", "last month"):
        year, month = today.year, today.month
        if what == "last month":
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        return _month(year, month)
    year = today.year - (what == "last year")
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def question_windows(question: str, now: datetime) -> list[Window]:
    """The time windows a question names, as [start, end) in UTC; [] when it names none.

    Only the most specific kind found counts: "on 5 May 2023" gives that day, not also May or 2023.
    Impossible dates ("31 February 2024") are ignored.
    """
    found: list[Window] = []
    for pattern in _DAY_PATTERNS:
        for match in pattern.finditer(question):
            groups = match.groupdict()
            month = (
                int(groups["month_number"])
                if groups.get("month_number")
                else _MONTHS[groups["month"].lower()]
            )
            try:
                found.append(_day(date(int(groups["year"]), month, int(groups["day"]))))
            except ValueError:
                continue
    if not found:
        for match in _MONTH_PATTERN.finditer(question):
            found.append(_month(int(match.group("year")), _MONTHS[match.group("month").lower()]))
    if not found:
        for match in _YEAR_PATTERN.finditer(question):
            year = int(match.group("year"))
            found.append((datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)))
    if not found:
        found.extend(_relative(match, now) for match in _RELATIVE.finditer(question))
    return sorted(set(found))
