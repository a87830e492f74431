"""Dates named in questions become time windows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memory_core._when import question_windows

NOW = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)  # a Wednesday


def day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Calvin book on 1st September 2023?", [(day(2023, 9, 1), day(2023, 9, 2))]),
        ("What happened on January 5, 2024?", [(day(2024, 1, 5), day(2024, 1, 6))]),
        ("What did Sam make on 18 August, 2023 that was bland?", [(day(2023, 8, 18), day(2023, 8, 19))]),
        ("deploy on 2025-12-31", [(day(2025, 12, 31), day(2026, 1, 1))]),
        ("Which hobby did Dave pick up in October 2023?", [(day(2023, 10, 1), day(2023, 11, 1))]),
        ("what changed in Dec 2025", [(day(2025, 12, 1), day(2026, 1, 1))]),
        ("Which cities did Dave travel to in 2023?", [(day(2023, 1, 1), day(2024, 1, 1))]),
        ("what did we decide yesterday?", [(day(2026, 3, 17), day(2026, 3, 18))]),
        ("incidents last week", [(day(2026, 3, 9), day(2026, 3, 16))]),
        ("what shipped last month", [(day(2026, 2, 1), day(2026, 3, 1))]),
        ("the outage 3 days ago", [(day(2026, 3, 15), day(2026, 3, 16))]),
    ],
)
def test_windows(question: str, expected: list[tuple[datetime, datetime]]) -> None:
    assert question_windows(question, NOW) == expected


@pytest.mark.parametrize(
    "question",
    [
        "What may Caroline do next?",
        "Where did the march start?",
        "Who has 2023 tickets",  # a bare number is not a time
        "how many approvals does a PR need",
    ],
)
def test_no_window(question: str) -> None:
    assert question_windows(question, NOW) == []


def test_an_impossible_day_falls_back_to_its_month() -> None:
    assert question_windows("What happened on 31 February 2024?", NOW) == [(day(2024, 2, 1), day(2024, 3, 1))]


def test_the_most_specific_mention_wins() -> None:
    windows = question_windows("In 2023, what did Evan do on 9th December 2023?", NOW)
    assert windows == [(day(2023, 12, 9), day(2023, 12, 10))]
