"""Contradictions (issue #17): found in reflection and quality with the real model, named at store time,
resolved with `supersedes`, superseded memories hidden from answers unless asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from memory_core import MemoryCore, MemoryDraft, MemoryPatch, QueryFilters
from memory_core._conflicts import Statement, contradiction, is_decision, is_history
from memory_core.testing import draft
from tests.memory_core.team_history import ADMIN

pytestmark = pytest.mark.anyio

JANUARY = "Decision (January): we will use MongoDB for the new orders service."
MARCH = (
    "Decision (March): the orders service will not use MongoDB; we switched to PostgreSQL for transactions."
)


async def _orders(core: MemoryCore) -> tuple[int, int]:
    now = datetime.now(UTC)
    first = await core.store(
        "default",
        MemoryDraft(text=JANUARY, tags=("orders",), author="alice", created_at=now - timedelta(days=60)),
    )
    second = await core.store(
        "default", MemoryDraft(text=MARCH, tags=("orders",), author="bob", created_at=now - timedelta(days=2))
    )
    return first.id, second.id


@pytest.mark.model
async def test_the_issue_example_is_a_conflict_in_reflection_and_quality(model_core: MemoryCore) -> None:
    old, new = await _orders(model_core)

    reflection = await model_core.reflect("default", "orders service database", dry_run=True)
    (conflict,) = reflection.conflicts
    assert conflict.ids == (old, new) and conflict.newer == new and conflict.current == new
    assert f"#{new} says “will not use MongoDB” where #{old} says “we will use MongoDB”" in conflict.reason
    assert conflict.position and "PostgreSQL" in conflict.position
    for point in reflection.points:  # never one point citing both sides
        assert not {old, new} <= set(point.sources)
    assert f"Current position (#{new})" in reflection.summary

    report = await model_core.quality_report("default", save=False)
    (finding,) = [f for f in report.findings if f.kind == "conflict"]
    assert finding.memory_ids == (old, new) and "will not use MongoDB" in finding.message
    assert finding.fix is not None and (finding.fix.memory_id, finding.fix.superseded_by) == (old, new)

    # The one-click fix resolves it, and the old decision drops out of answers.
    await model_core.update("default", old, MemoryPatch(superseded_by=new), actor=ADMIN)
    assert not [f for f in (await model_core.quality_report("default")).findings if f.kind == "conflict"]
    hits = await model_core.query("default", "which database does the orders service use")
    assert [h.memory.id for h in hits] == [new]
    shown = await model_core.query(
        "default", "which database does the orders service use", filters=QueryFilters(include_superseded=True)
    )
    assert {h.memory.id for h in shown} == {old, new}
    assert next(h.memory for h in shown if h.memory.id == old).superseded_by == new


@pytest.mark.model
async def test_the_store_answer_names_the_probable_contradiction(model_core: MemoryCore) -> None:
    now = datetime.now(UTC)
    first = await model_core.store(
        "default", MemoryDraft(text=JANUARY, tags=("orders",), author="alice", created_at=now - timedelta(1))
    )
    assert first.contradicts == ()
    second = await model_core.store("default", MemoryDraft(text=MARCH, tags=("orders",), author="bob"))
    (maybe,) = second.contradicts
    assert (maybe.id, maybe.author) == (first.id, "alice")
    assert maybe.reason.startswith("this says “will not use MongoDB” where #")
    # Agreeing memories on the same subject are stored without a warning.
    third = await model_core.store(
        "default", draft("PostgreSQL for the orders service runs on RDS with one read replica.")
    )
    assert third.contradicts == ()


@pytest.mark.model
async def test_an_edited_memory_is_checked_by_its_new_text(model_core: MemoryCore) -> None:
    """The finder caches parses: by content, so a memory edited after it was parsed is read anew."""
    tuesdays = await model_core.store("default", draft("Deploys to production happen on Tuesdays."))
    thursdays = await model_core.store("default", draft("Deploys to production happen on Thursdays."))
    assert [c.id for c in thursdays.contradicts] == [tuesdays.id]  # the Tuesdays text is parsed now
    await model_core.update(
        "default", tuesdays.id, MemoryPatch(text="Deploys to production happen on Fridays."), actor=ADMIN
    )
    fridays = await model_core.store("default", draft("Production deploys happen on Fridays."))
    # It agrees with the edited memory (read as "Fridays", not the cached "Tuesdays") and contradicts
    # the Thursdays one.
    assert [c.id for c in fridays.contradicts] == [thursdays.id]
    assert "Fridays vs Thursdays" in fridays.contradicts[0].reason


async def test_storing_again_with_supersedes_links_and_hides_the_old_memory(core: MemoryCore) -> None:
    old = await core.store("default", draft("Backups are kept for 35 days."))
    new = await core.store("default", draft("We keep backups for 14 days now."))
    again = await core.store(
        "default", MemoryDraft(text="We keep backups for 14 days now.", supersedes=old.id)
    )
    assert not again.created and again.duplicate_of == new.id
    assert (await core.get("default", old.id)).superseded_by == new.id
    assert [h.memory.id for h in await core.query("default", "how long are backups kept")] == [new.id]
    listed = await core.recent("default", limit=10)
    assert old.id not in {m.id for m in listed}


async def test_supersedes_at_store_time_marks_the_old_memory(core: MemoryCore) -> None:
    old = await core.store("default", draft("The VPN endpoint is vpn.corp.example.com."))
    new = await core.store(
        "default", MemoryDraft(text="VPN endpoint: vpn2.corp.example.com.", supersedes=old.id)
    )
    assert new.contradicts == ()  # the memory it replaces is no warning
    assert (await core.get("default", old.id)).superseded_by == new.id
    assert [h.memory.id for h in await core.query("default", "vpn endpoint")] == [new.id]


def test_a_decision_is_a_decision_whatever_its_kind() -> None:
    for text in (
        "Decision: deploys need two approvals.",
        "We decided to keep the monolith.",
        "From now on releases ship weekly.",
        "Going forward billing is its own service.",
    ):
        assert is_decision(text)
    assert is_decision("Deploys need two approvals.", "decision")
    assert not is_decision("Deploys need two approvals.")


def test_status_updates_are_history_not_contradictions() -> None:
    assert is_history("Outage update: login failures now affect 5% of users.")
    assert is_history("10:40 rolled back release 4.2.1")
    assert (
        contradiction(
            Statement("Investigating: 30% of checkouts fail."), Statement("Resolved: 1% of checkouts fail.")
        )
        is None
    )
    assert (
        contradiction(
            Statement("30% of checkouts fail.", kind="incident"),
            Statement("1% of checkouts fail.", kind="incident"),
        )
        is None
    )
