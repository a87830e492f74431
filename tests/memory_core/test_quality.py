"""The quality report: every planted problem of the team history found (real model), nothing on a clean copy;
drift healed by reindex, model mismatch, knowledge gaps, ingest failures, the score formula and the trend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from memory_core import Embedder, MemoryCore, MemoryPatch, Severity, Source
from memory_core._analysis import is_low_information, word_key
from memory_core._conflicts import Statement, contradiction, explain
from memory_core._db import to_db_time
from memory_core._quality import PENALTIES, score
from memory_core._schema import ingest_failure_table
from memory_core.testing import HashingEmbedder, draft
from tests.conftest import SettingsFactory
from tests.memory_core.team_history import (
    ADMIN,
    ANSWERED_QUESTIONS,
    PLANTED,
    UNANSWERED_QUESTIONS,
    CachedEmbedder,
    clean_history,
    load_history,
    planted_history,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def history_core(make_settings: SettingsFactory, real_embedder: Embedder) -> AsyncIterator[MemoryCore]:
    """`model_core` with the real model's vectors memoised, so the history is embedded once per session."""
    async with await MemoryCore.open(make_settings(), embedder=CachedEmbedder(real_embedder)) as opened:
        yield opened


def _expected(ids: dict[str, int]) -> set[tuple[str, tuple[int, ...]]]:
    """(kind, ids) of every finding the planted history must produce, and only those."""
    expected: set[tuple[str, tuple[int, ...]]] = set()
    grouped: dict[str, list[int]] = {}
    for entry in PLANTED:
        assert entry.plant is not None
        if entry.twin is not None:
            expected.add((entry.plant, tuple(sorted((ids[entry.twin], ids[entry.key])))))
        else:
            grouped.setdefault(entry.plant, []).append(ids[entry.key])
    for kind, members in grouped.items():
        expected.add((kind, tuple(sorted(members))))
    # The reversed decision that does not say what it replaced.
    expected.add(("conflict", tuple(sorted((ids["eb-kafka"], ids["eb-rabbit"])))))
    return expected


@pytest.mark.model
async def test_quality_report_finds_every_planted_problem_and_nothing_else(history_core: MemoryCore) -> None:
    core = history_core
    ids = await load_history(core, "default", planted_history(), now=datetime.now(UTC))
    for question, _answer in ANSWERED_QUESTIONS:
        await core.query("default", question)
    for question in UNANSWERED_QUESTIONS:
        await core.query("default", question)
    await core.query("default", UNANSWERED_QUESTIONS[0])  # asked twice: one finding, counted twice
    await core.record_ingest_failure(
        "default", source=Source.EMAIL, reason="message too large (31 MB)", ref="<a@x>"
    )
    await core.record_ingest_failure(
        "default", source=Source.EMAIL, reason="credential in the body", ref="<b@x>"
    )
    await core.record_ingest_failure("other-team", source=Source.EMAIL, reason="not ours")

    report = await core.quality_report("default")

    found = {(f.kind, tuple(sorted(f.memory_ids))) for f in report.findings if f.memory_ids}
    assert found == _expected(ids)
    gaps = [f for f in report.findings if f.kind == "knowledge_gap"]
    assert len(gaps) == len(UNANSWERED_QUESTIONS)
    assert all(any(q in f.message for f in gaps) for q in UNANSWERED_QUESTIONS)
    assert any(UNANSWERED_QUESTIONS[0] in f.message and "asked 2×" in f.message for f in gaps)
    (failures,) = [f for f in report.findings if f.kind == "ingest_failure"]
    assert failures.message.startswith("2 email items") and "credential in the body" in failures.message
    assert {f.kind for f in report.findings} == {
        "duplicate",
        "near_duplicate",
        "stale",
        "expired",
        "low_information",
        "conflict",
        "knowledge_gap",
        "ingest_failure",
    }
    for finding in report.findings:
        assert finding.hint and finding.message and finding.severity in set(Severity)
    counts = {
        "duplicate": 3,
        "near_duplicate": 3,
        "stale": 4,
        "expired": 3,
        "low_information": 4,
        "conflict": 2,
        "knowledge_gap": 3,
        "ingest_failure": 2,
    }
    assert report.score == score(counts, len(planted_history())) and 70 < report.score < 100
    assert report.id is not None and report.trend == ()

    # The hint works: marking the reversal resolves that conflict, and the trend keeps the first score.
    await core.update("default", ids["eb-kafka"], MemoryPatch(superseded_by=ids["eb-rabbit"]), actor=ADMIN)
    second = await core.quality_report("default")
    assert ("conflict", tuple(sorted((ids["eb-kafka"], ids["eb-rabbit"])))) not in {
        (f.kind, tuple(sorted(f.memory_ids))) for f in second.findings
    }
    assert second.score > report.score and [t.score for t in second.trend] == [report.score]


@pytest.mark.model
async def test_quality_report_on_the_clean_history_finds_nothing(history_core: MemoryCore) -> None:
    core = history_core
    await load_history(core, "default", clean_history(), now=datetime.now(UTC))
    for question, _answer in ANSWERED_QUESTIONS:
        await core.query("default", question)
    report = await core.quality_report("default")
    assert report.findings == ()
    assert report.score == 100


# --- operational findings, on the fast core ----------------------------------------------------------------


async def test_index_drift_is_found_and_healed_by_reindex(core: MemoryCore) -> None:
    stored = [await core.store("default", draft(f"Runbook {n}: restart the {n} worker pool.")) for n in "abc"]
    assert (await core.quality_report("default")).findings == ()
    core._index.indexes.tenants["default"].remove([stored[1].id])  # a vector lost behind the core's back

    report = await core.quality_report("default")
    (drift,) = [f for f in report.findings if f.kind == "index_drift"]
    assert drift.severity is Severity.CRITICAL and drift.memory_ids == (stored[1].id,)
    assert "reindex" in drift.hint and report.score == 100 - PENALTIES["index_drift"].cap

    await core.reindex()
    healed = await core.quality_report("default")
    assert healed.findings == () and healed.score == 100
    assert [t.score for t in healed.trend] == [100, report.score]


async def test_memories_of_another_model_are_a_mismatch_until_reindexed(core: MemoryCore) -> None:
    stored = [
        await core.store("default", draft(f"Fact number {n} about the billing service.")) for n in range(3)
    ]
    settings = core.settings
    other = await MemoryCore.open(
        settings, embedder=HashingEmbedder(model_id="test-hashing-other"), allow_model_mismatch=True
    )
    async with other:
        report = await other.quality_report("default", save=False)
        (mismatch,) = [f for f in report.findings if f.kind == "model_mismatch"]
        assert mismatch.severity is Severity.CRITICAL and set(mismatch.memory_ids) == {s.id for s in stored}
        assert "test-hashing-other" in mismatch.hint and report.id is None
        await other.reindex()
        assert [f.kind for f in (await other.quality_report("default")).findings] == []


async def test_a_knowledge_gap_closes_once_the_answer_is_stored(core: MemoryCore) -> None:
    await core.store("default", draft("The staging database is reset every Sunday night."))
    await core.query("default", "who signs the vendor contracts for office furniture")
    (gap,) = (await core.quality_report("default", save=False)).findings
    assert gap.kind == "knowledge_gap" and gap.severity is Severity.INFO and gap.memory_ids == ()
    await core.store(
        "default", draft("Vendor contracts for office furniture are signed by Maria in finance.")
    )
    assert (await core.quality_report("default", save=False)).findings == ()


async def test_old_ingest_failures_and_other_tenants_are_not_reported(core: MemoryCore) -> None:
    await core.record_ingest_failure("default", source=Source.EMAIL, reason="size")
    await core.record_ingest_failure("acme", source=Source.SLACK, reason="not ours")
    await core.record_ingest_failure(None, source=Source.EMAIL, reason="unknown recipient")
    (failure,) = (await core.quality_report("default", save=False)).findings
    assert failure.kind == "ingest_failure" and failure.message.startswith("1 email item ")
    later = core.settings.quality.model_copy(update={"window_days": 1})
    core.settings = core.settings.model_copy(update={"quality": later})
    async with core.database.write() as conn:
        await conn.execute(
            ingest_failure_table.update().values(at=to_db_time(datetime.now(UTC) - timedelta(days=3)))
        )
    assert (await core.quality_report("default", save=False)).findings == ()


async def test_an_empty_memory_scores_100_and_the_trend_is_oldest_first(core: MemoryCore) -> None:
    first = await core.quality_report("default")
    assert first.score == 100 and first.findings == () and first.trend == ()
    await core.store("default", draft("ok"))
    second = await core.quality_report("default")
    assert [f.kind for f in second.findings] == ["low_information"]
    assert second.score == 100 - PENALTIES["low_information"].cap  # 1 of 1 memories: the cap
    dry = await core.quality_report("default", save=False)
    third = await core.quality_report("default")
    assert dry.id is None and [t.score for t in third.trend] == [100, second.score]
    assert third.trend[0].at <= third.trend[1].at


# --- the pure rules -------------------------------------------------------------------------------------


def test_score_formula_caps_each_kind() -> None:
    assert score({}, 0) == 100
    assert score({"duplicate": 1}, 100) == 99
    assert score({"duplicate": 50}, 100) == 85  # capped at 15
    assert score({"conflict": 2, "knowledge_gap": 1}, 10) == 92
    assert score(dict.fromkeys(PENALTIES, 10000), 1) == 0


@pytest.mark.parametrize(
    ("a", "b", "why"),
    [
        ("Backups are kept for 35 days.", "Backups are kept for 14 days now.", "14 days vs 35 days"),
        ("Deploy window closes at 16:00 CET.", "Deploy window closes at 17:30 CET.", "17:30 vs 16:00"),
        ("Paging goes through Opsgenie.", "Paging goes through PagerDuty.", "PagerDuty vs Opsgenie"),
        ("We use feature flags for releases.", "We no longer use feature flags for releases.", "no longer"),
        (
            "Decision (January): we will use MongoDB for the new orders service.",
            "Decision (March): the orders service will not use MongoDB; we switched to PostgreSQL.",
            "#2 says “will not use MongoDB” where #1 says “we will use MongoDB”",
        ),
        ("Our CI runs on Jenkins.", "We moved CI from Jenkins to GitHub Actions.", "it gives up Jenkins"),
        ("Deploys happen on Tuesdays.", "We do not deploy on Fridays.", None),
        ("Session tokens expire after 12 hours.", "Refresh tokens expire after 30 days.", None),
        ("Backups are kept for 35 days.", "Backups are kept for 35 days, tested monthly.", None),
        (
            "The API allows 100 requests per second.",
            "Version 2 of the API allows 100 requests per second.",
            None,
        ),
    ],
)
def test_what_makes_two_similar_texts_disagree(a: str, b: str, why: str | None) -> None:
    found = contradiction(Statement(a), Statement(b))
    if why is None:
        assert found is None
    else:
        assert found is not None and why in explain(found, 1, 2)


def test_duplicates_and_low_information_are_about_words() -> None:
    assert word_key("Staging is reset -- every Sunday!") == word_key("staging is reset, every sunday")
    assert word_key("Staging is reset every Sunday") != word_key("Staging is reset every Monday")
    for text in ("ok", "+1 👍", "see thread above", "test", "thanks!!"):
        assert is_low_information(text, 3), text
    for text in ("Deploy freeze Friday", "VPN: vpn2.corp.example.com"):
        assert not is_low_information(text, 3), text
