"""Ranking stages: score fusion, dates in questions, conversation context; unit and through the core."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import memory_core._search as search_module
from memory_core import Importance, MemoryCore, SearchSettings
from memory_core._search import (
    Candidate,
    CandidateFacts,
    Ranked,
    apply_context,
    apply_dates,
    boosts,
    final_score,
    fuse,
    rank,
)
from memory_core.testing import draft

pytestmark = pytest.mark.anyio

DEFAULTS = SearchSettings()


def test_score_fusion_normalises_each_list() -> None:
    linear = SearchSettings(vector_exponent=1)
    vector = [(1, 0.9), (2, 0.5), (3, 0.1)]
    keyword = [(2, 8.0), (4, 4.0)]
    ranked = {c.memory_id: c for c in fuse(vector, keyword, linear)}
    # memory 2: vector (0.5 - 0.1) / (0.9 - 0.1) = 0.5, keyword 8 / 8 = 1
    assert ranked[2].fused == pytest.approx(0.4 * 0.5 + 0.6 * 1.0)
    assert ranked[1].fused == pytest.approx(0.4)
    assert ranked[3].fused == pytest.approx(0.0)
    assert ranked[4].fused == pytest.approx(0.6 * 0.5)
    assert [c.memory_id for c in fuse(vector, keyword, linear)][:2] == [2, 1]


def test_the_vector_exponent_leaves_the_best_match_and_shrinks_the_runners_up() -> None:
    vector = [(1, 0.9), (2, 0.5)]
    ranked = {c.memory_id: c for c in fuse(vector, [(2, 8.0)], SearchSettings(vector_exponent=3))}
    assert ranked[1].fused == pytest.approx(0.4)
    assert ranked[2].fused == pytest.approx(0.4 * 0.5**3 + 0.6)


def test_a_keyword_hit_counts_by_how_much_of_the_question_it_covers() -> None:
    vector = [(1, 0.9), (2, 0.5)]
    keyword = [(2, 1.0), (3, 0.5)]  # the best keyword hit scores 1 of the 10 a full match would
    covered = {c.memory_id: c for c in fuse(vector, keyword, SearchSettings(vector_exponent=1), 10.0)}
    # divided by max(1, 0.5 * 10) = 5
    assert covered[2].fused == pytest.approx(0.4 * 0.5 + 0.6 * 1 / 5)
    assert covered[3].fused == pytest.approx(0.6 * 0.5 / 5)
    assert covered[1].fused > covered[2].fused

    best_is_full = SearchSettings(vector_exponent=1, keyword_coverage=0)
    trusting = {c.memory_id: c for c in fuse(vector, keyword, best_is_full, 10.0)}
    assert trusting[2].fused == pytest.approx(0.4 * 0.5 + 0.6)
    assert trusting[2].fused > trusting[1].fused

    # A hit that covers more than `keyword_coverage` of the question counts in full.
    assert fuse([(7, 0.8)], [(7, 6.0)], DEFAULTS, 10.0)[0].fused == pytest.approx(1.0)
    # ...and one that scores above the full-match estimate (a short memory) still tops at 1.
    assert fuse([], [(7, 12.0)], DEFAULTS, 10.0)[0].fused == pytest.approx(1.0)


def test_first_everywhere_scores_one_and_a_lone_list_is_not_penalised() -> None:
    assert fuse([(7, 0.8)], [(7, 3.0)], DEFAULTS)[0].fused == pytest.approx(1.0)
    assert fuse([], [(7, 3.0)], DEFAULTS)[0].fused == pytest.approx(1.0)
    assert fuse([(7, 0.8)], [], DEFAULTS)[0].fused == pytest.approx(1.0)
    assert fuse([], [], DEFAULTS) == []


def test_rrf_is_still_available() -> None:
    settings = SearchSettings(fusion="rrf", vector_weight=1, keyword_weight=1)
    ranked = fuse([(1, 0.9), (2, 0.8)], [(2, 5.0)], settings)
    assert ranked[0].memory_id == 2
    assert ranked[0].fused == pytest.approx((1 / 62 + 1 / 61) / (2 / 61))


def test_dates_boost_memories_written_in_or_just_after_the_window() -> None:
    window = [(datetime(2023, 5, 8, tzinfo=UTC), datetime(2023, 5, 9, tzinfo=UTC))]
    written = {
        1: datetime(2023, 5, 8, 13, tzinfo=UTC),
        2: datetime(2023, 5, 12, tzinfo=UTC),  # four days after: still about it
        3: datetime(2023, 6, 1, tzinfo=UTC),
    }
    candidates = [Candidate(3, fused=0.9), Candidate(1, fused=0.8), Candidate(2, fused=0.7)]
    ranked = apply_dates(candidates, written, window, DEFAULTS)
    assert [c.memory_id for c in ranked] == [1, 2, 3]
    assert [c.date_boost for c in ranked] == [0.3, 0.3, 0.0]


async def test_a_reply_borrows_relevance_from_the_message_it_answers(core: MemoryCore) -> None:
    t0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    results = await core.store_many(
        "default",
        [
            draft(
                "The export job writes to the bucket at 02:00.",
                author="carol",
                author_id="cli:carol",
                created_at=t0 - timedelta(days=10),
            ),
            draft("Why does the nightly export job keep failing?", author="alice", created_at=t0),
            draft(
                "It failed because the disk on worker 3 was full.",
                author="bob",
                author_id="cli:bob",
                created_at=t0 + timedelta(minutes=1),
            ),
            draft("It failed again, I will look later.", author="alice", created_at=t0 + timedelta(days=3)),
        ],
    )
    carol, _question, reply, later = (r.memory.id for r in results)
    question_text = "why does the nightly export job fail"
    hits = await core.query("default", question_text, limit=10)
    by_id = {h.memory.id: h for h in hits}
    assert by_id[reply].breakdown.context > 0
    assert by_id[carol].breakdown.context == 0  # written days apart, by someone else: not a turn of it
    assert by_id[later].breakdown.context == 0  # same author as the question, days later
    assert [h.memory.id for h in hits].index(reply) < [h.memory.id for h in hits].index(carol)

    core.settings = core.settings.model_copy(update={"search": SearchSettings(context_weight=0)})
    plain = [h.memory.id for h in await core.query("default", question_text, limit=10)]
    assert plain.index(reply) > plain.index(carol)


async def test_context_never_adds_a_memory_no_retriever_found(core: MemoryCore) -> None:
    t0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    await core.store_many(
        "default",
        [
            draft("Where is the VPN config?", author="alice", created_at=t0),
            draft(
                "Lunch is at noon.", author="bob", author_id="cli:bob", created_at=t0 + timedelta(minutes=1)
            ),
        ],
    )
    hits = await core.query("default", "vpn config", limit=10)
    assert [h.memory.text for h in hits] == ["Where is the VPN config?"]


def test_context_is_bounded_and_only_from_the_best_candidates() -> None:
    from memory_core.types import Importance, Memory, Source

    now = datetime(2025, 1, 1, tzinfo=UTC)

    def memory(i: int, who: str) -> Memory:
        return Memory(
            id=i,
            tenant="t",
            text=str(i),
            kind="note",
            tags=(),
            importance=Importance.NORMAL,
            source=Source.CLI,
            source_ref=None,
            title=None,
            author=who,
            author_id=who,
            created_at=now,
            updated_at=now,
            expires_at=None,
            supersedes=None,
            superseded_by=None,
            content_hash=str(i),
            embedding_model="m",
            access_count=0,
            last_accessed_at=None,
        )

    memories = {1: memory(1, "a"), 2: memory(2, "b"), 3: memory(3, "a"), 4: memory(4, "b")}
    candidates = [
        Candidate(1, fused=1.0),
        Candidate(4, fused=0.5),
        Candidate(2, fused=0.1),
        Candidate(3, fused=0.05),
    ]
    neighbours = {1: [2], 4: [3]}
    settings = SearchSettings(context_lenders=1)
    ranked = {c.memory_id: c for c in apply_context(candidates, memories, neighbours, settings)}
    assert ranked[2].context == pytest.approx(0.5)  # half of the best candidate's score
    assert ranked[3].context == 0  # memory 4 is not among the lenders


async def test_neighbours_are_the_turns_stored_right_before_and_after_in_the_same_tenant(
    core: MemoryCore,
) -> None:
    from memory_core._rerank import neighbours

    first = (await core.store("default", draft("first turn"))).memory.id
    await core.store("other", draft("another team's turn in between"))
    second = (await core.store("default", draft("second turn"))).memory.id
    third = (await core.store("default", draft("third turn"))).memory.id
    async with core._db.read() as conn:
        found = await neighbours(conn, "default", [first, second, third])
        assert await neighbours(conn, "other", [first]) == {}  # not a memory of that tenant
        assert await neighbours(conn, "default", []) == {}
    assert found == {first: [second], second: [first, third], third: [second]}


def _rank_every_candidate(
    candidates: list[Candidate], facts: dict[int, CandidateFacts], now: datetime, limit: int
) -> list[Ranked]:
    """The ranking `rank` must equal: every candidate scored, then the best `limit`."""
    ranked = []
    for c in candidates:
        if c.memory_id in facts:
            importance, recency = boosts(facts[c.memory_id], now, DEFAULTS)
            ranked.append((final_score(c, importance, recency), c, importance, recency))
    ranked.sort(key=lambda r: (-r[0], r[1].memory_id))
    return ranked[:limit]


def test_rank_skips_hopeless_candidates_yet_returns_exactly_the_full_ranking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`rank` leaves out candidates whose bound cannot reach the best few; with ties, old and new
    memories, every importance and missing facts, its answer must be the full ranking's."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    chooser = random.Random(16)
    scored = 0

    def counted(*args: Any) -> tuple[float, float]:
        nonlocal scored
        scored += 1
        return boosts(*args)

    offered = 0
    for _round in range(300):
        n = chooser.randint(1, 250)
        scores = [round(chooser.random(), chooser.choice([1, 2, 6])) for _ in range(n)]
        candidates = [
            Candidate(i, fused=s, date_boost=chooser.choice([0.0, 0.0, 0.2])) for i, s in enumerate(scores)
        ]
        candidates.sort(key=lambda c: (-c.ranking_score, c.memory_id))
        facts = {
            c.memory_id: CandidateFacts(
                now - timedelta(days=chooser.choice([0, 1, 30, 400, 4000])),
                chooser.choice(list(Importance)),
                None,
                None,
            )
            for c in candidates
            if chooser.random() > 0.1
        }
        limit = chooser.choice([1, 5, 10, 100])
        expected = _rank_every_candidate(candidates, facts, now, limit)
        with monkeypatch.context() as patched:
            patched.setattr(search_module, "boosts", counted)
            got = rank(candidates, facts, now, DEFAULTS, limit)
        offered += len(candidates)
        assert got == expected
        # also when the candidates come in no particular order
        shuffled = chooser.sample(candidates, len(candidates))
        assert rank(shuffled, facts, now, DEFAULTS, limit) == expected
    assert scored < offered / 2  # most candidates were never scored
