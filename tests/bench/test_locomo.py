"""The LoCoMo harness: data parsing, and a small slice run end to end through the public API."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.locomo import load_locomo, parse_evidence, parse_session_date, run_locomo
from memory_core.testing import HashingEmbedder

VALID = {"D8:6", "D9:17", "D11:26", "D30:5", "D9:1", "D4:4"}


@pytest.mark.parametrize(
    ("raw", "found", "unusable"),
    [
        (["D8:6; D9:17"], {"D8:6", "D9:17"}, 0),
        (["D:11:26"], {"D11:26"}, 0),
        (["D30:05"], {"D30:5"}, 0),
        (["D9:1 D4:4 D4:6"], {"D9:1", "D4:4"}, 1),  # D4:6 is not a turn of this conversation
        (["D"], set(), 1),
        ([], set(), 0),
    ],
)
def test_malformed_evidence_is_repaired(raw: list[str], found: set[str], unusable: int) -> None:
    assert parse_evidence(raw, VALID) == (found, unusable)


def test_session_dates() -> None:
    assert parse_session_date("1:56 pm on 8 May, 2023") == datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    assert parse_session_date("12:09 am on 13 September, 2023") == datetime(2023, 9, 13, 0, 9, tzinfo=UTC)


def test_the_data_gives_1982_scorable_questions(shared_data: Path) -> None:
    conversations = load_locomo(shared_data / "locomo10.json")
    assert len(conversations) == 10
    assert sum(len(c.questions) for c in conversations) == 1982
    assert sum(c.unusable_evidence for c in conversations) == 3
    assert sum(len(c.turns) for c in conversations) == 5882


@pytest.mark.anyio
async def test_a_slice_runs_through_the_public_api(shared_data: Path) -> None:
    result = await run_locomo(
        shared_data / "locomo10.json", HashingEmbedder(), conversations=1, questions_per_conversation=12
    )
    assert result["facts"]["questions"] == 12
    assert set(result["modes"]) == {"keyword", "vector", "hybrid"}
    for groups in result["modes"].values():
        overall = groups["all"]
        assert overall["n"] == 12
        assert 0 <= overall["R@5"] <= overall["R@10"] <= 1
    assert result["modes"]["keyword"]["all"]["R@10"] > 0.2
