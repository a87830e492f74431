"""Querying: hybrid search, filters, expiry, score breakdowns, modes and input checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from memory_core import Importance, InvalidInput, MemoryCore, QueryFilters, QueryTrace, Source
from memory_core._schema import memory_table
from memory_core.testing import draft

pytestmark = pytest.mark.anyio


@pytest.fixture
async def filled(core: MemoryCore) -> MemoryCore:
    now = datetime.now(UTC)
    await core.store_many(
        "default",
        [
            draft("The VPN moved to vpn2.corp on Monday", tags=["infra"], author="alice"),
            draft(
                "VPN certificates renew every 90 days",
                tags=["infra", "security"],
                author="bob",
                author_id="cli:bob",
                created_at=now - timedelta(days=40),
            ),
            draft("Lunch is at noon in the big room", tags=["office"], source=Source.SLACK),
            draft(
                "We decided the VPN stays on WireGuard",
                kind="decision",
                author="carol",
                author_id="cli:carol",
                importance=Importance.CRITICAL,
            ),
            draft("Old VPN host vpn1 retired", created_at=now - timedelta(days=400)),
        ],
    )
    return core


async def test_hybrid_query_finds_and_explains(filled: MemoryCore) -> None:
    hits = await filled.query("default", "vpn", limit=10)
    texts = [h.memory.text for h in hits]
    assert all("VPN" in t or "vpn" in t for t in texts)
    assert "Lunch is at noon in the big room" not in texts
    top = hits[0].breakdown
    assert top.keyword_rank is not None and top.vector_rank is not None
    assert top.final == pytest.approx(hits[0].score)
    assert hits == sorted(hits, key=lambda h: -h.score)


async def test_importance_and_recency_boosts_are_bounded(filled: MemoryCore) -> None:
    for hit in await filled.query("default", "vpn", limit=10):
        assert -0.05 <= hit.breakdown.importance_boost <= 0.10
        assert 0 <= hit.breakdown.recency_boost <= 0.05
    critical = [
        h
        for h in await filled.query("default", "vpn", limit=10)
        if h.memory.importance is Importance.CRITICAL
    ]
    assert critical[0].breakdown.importance_boost == pytest.approx(0.10)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            QueryFilters(tags=("infra",)),
            {"The VPN moved to vpn2.corp on Monday", "VPN certificates renew every 90 days"},
        ),
        (QueryFilters(tags=("infra", "security")), {"VPN certificates renew every 90 days"}),
        (QueryFilters(kind="decision"), {"We decided the VPN stays on WireGuard"}),
        (QueryFilters(author="@Bob"), {"VPN certificates renew every 90 days"}),
        (QueryFilters(source=Source.SLACK), {"Lunch is at noon in the big room"}),
        (
            QueryFilters(since=datetime.now(UTC) - timedelta(days=30)),
            {
                "The VPN moved to vpn2.corp on Monday",
                "We decided the VPN stays on WireGuard",
                "Lunch is at noon in the big room",
            },
        ),
        (QueryFilters(until=datetime.now(UTC) - timedelta(days=100)), {"Old VPN host vpn1 retired"}),
    ],
)
async def test_filters_narrow_results(filled: MemoryCore, filters: QueryFilters, expected: set[str]) -> None:
    hits = await filled.query("default", "vpn lunch room", filters=filters, limit=20)
    assert {h.memory.text for h in hits} <= expected
    assert {h.memory.text for h in hits} & expected


async def test_expired_memories_are_hidden_not_deleted(core: MemoryCore) -> None:
    gone = await core.store(
        "default", draft("temporary door code is 4711", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    assert await core.query("default", "door code") == []
    hits = await core.query("default", "door code", filters=QueryFilters(include_expired=True))
    assert [h.memory.id for h in hits] == [gone.id]
    assert (await core.get("default", gone.id)).is_expired(datetime.now(UTC))


async def test_modes(filled: MemoryCore) -> None:
    keyword = await filled.query("default", "WireGuard", mode="keyword")
    assert keyword[0].memory.text == "We decided the VPN stays on WireGuard"
    assert keyword[0].breakdown.vector_rank is None
    vector = await filled.query("default", "WireGuard", mode="vector")
    assert all(h.breakdown.keyword_rank is None for h in vector)


async def test_bad_questions_are_refused(core: MemoryCore) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        await core.query("default", "   ")
    with pytest.raises(InvalidInput, match="limit"):
        await core.query("default", "x", limit=0)
    with pytest.raises(InvalidInput):
        await core.query("default", "x" * 5000)
    with pytest.raises(InvalidInput, match="mode"):
        await core.query("default", "x", mode="fuzzy")  # type: ignore[arg-type]


async def test_query_counts_access_and_logs_the_question(filled: MemoryCore) -> None:
    hits = await filled.query("default", "WireGuard", limit=1)
    await filled._log.flush(force=True)
    memory = await filled.get("default", hits[0].memory.id, count_access=False)
    assert memory.access_count == 1 and memory.last_accessed_at is not None


async def test_only_hits_near_the_best_count_as_read(filled: MemoryCore) -> None:
    """Staleness is judged on reads; the weak tail of a result list is not a read."""
    hits = await filled.query("default", "we decided the VPN stays on WireGuard", limit=5)
    await filled._log.flush(force=True)
    best = hits[0].score
    read = {h.memory.id for h in hits if h.score >= 0.5 * best}
    assert read and read != {h.memory.id for h in hits}  # both kinds are in this list
    for hit in hits:
        memory = await filled.get("default", hit.memory.id, count_access=False)
        assert memory.access_count == (1 if hit.memory.id in read else 0)


async def test_punctuation_and_operators_in_questions_are_safe(filled: MemoryCore) -> None:
    for question in [
        '"unbalanced',
        "vpn AND OR NOT",
        "NEAR(vpn)",
        "*",
        "col:umn",
        "vpn -- ; drop table memory",
    ]:
        await filled.query("default", question)
    assert (await filled.stats("default")).memories == 5


async def test_keyword_full_match_is_what_a_memory_with_every_question_word_scores(core: MemoryCore) -> None:
    """The fusion compares the best keyword hit with `full_match`: a memory of average length that
    holds each word of the question once scores it (BM25 on SQLite, cover density on PostgreSQL)."""
    # Equal lengths (texts of four words, one-word authors), so every memory is of average length.
    await core.store_many(
        "default",
        [
            draft("rotate staging certificates tuesday"),
            draft("rotate production keys monthly"),
            draft("staging database moved north"),
            draft("lunch menu changes weekly"),
            *(draft(f"filler note number {n}") for n in range(6)),  # so rotate and staging are rare
        ],
    )
    conditions = [memory_table.c.tenant == "default"]
    async with core._db.read() as conn:
        both = await core._keyword.search(conn, ["rotate", "staging"], conditions, 10)
        assert both.hits[0][1] == pytest.approx(both.full_match, rel=1e-6)
        # A word no memory holds is part of the question too: now no hit is a full match.
        unanswered = await core._keyword.search(conn, ["rotate", "staging", "kubernetes"], conditions, 10)
        assert unanswered.hits[0][1] == pytest.approx(both.hits[0][1])
        assert unanswered.full_match >= 1.5 * unanswered.hits[0][1]
        assert (await core._keyword.search(conn, [], conditions, 10)).hits == []


async def test_a_trace_reports_each_stage_of_a_query(filled: MemoryCore) -> None:
    """`QueryTrace` is the public hook benchmarks time a query with; stages that do not run are absent."""
    trace = QueryTrace()
    untraced = await filled.query("default", "VPN certificates", limit=3)
    traced = await filled.query("default", "VPN certificates", limit=3, trace=trace)
    assert [h.memory.id for h in traced] == [h.memory.id for h in untraced]
    finished = list(trace.stages)
    tail = ["fusion", "candidate facts", "dates and context", "ranking and rows"]
    if filled.database.sqlite_reads is not None:
        # Keyword search runs beside the embedding, so which of the two ends first is open.
        assert finished[0] == "index catch-up (sync)"
        assert set(finished[1:3]) == {"question embedding", "keyword search"}
        assert finished[3:] == ["vector search (FAISS)", *tail]
        assert trace.overlapped == {"keyword search"}
    else:  # PostgreSQL: one stage after the other
        assert finished == [
            "index catch-up (sync)",
            "question embedding",
            "vector search (FAISS)",
            "keyword search",
            *tail,
        ]
        assert not trace.overlapped
    assert all(seconds >= 0 for seconds in trace.stages.values())
    keyword_only, vector_only = QueryTrace(), QueryTrace()
    await filled.query("default", "VPN", mode="keyword", trace=keyword_only)
    await filled.query("default", "VPN", mode="vector", trace=vector_only)
    assert not {"question embedding", "vector search (FAISS)"} & set(keyword_only.stages)
    assert "keyword search" not in vector_only.stages and "vector search (FAISS)" in vector_only.stages
    assert not keyword_only.overlapped and not vector_only.overlapped


async def test_keyword_search_finds_a_tenants_matches_behind_better_ones_of_another(core: MemoryCore) -> None:
    """The keyword index ranks all tenants' rows together. When the best matches belong to another
    tenant (or fail a filter), the tenant's own matches still come back, best first."""
    await core.store_many("other", [draft(f"zebra {n}") for n in range(30)])  # short: they rank first
    mine = await core.store_many(
        "default",
        [
            draft("a zebra crossed the road near the old station this morning"),
            draft("the zoo keeps one zebra and three giraffes in the long north paddock by the lake"),
            draft("nothing striped here"),
        ],
    )
    conditions = [memory_table.c.tenant == "default"]
    async with core._db.read() as conn:
        found = await core._keyword.search(conn, ["zebra"], conditions, 2)
        everything = await core._keyword.search(conn, ["zebra"], conditions, 50)
    assert [m for m, _ in found.hits] == [mine[0].memory.id, mine[1].memory.id]
    assert found.hits == everything.hits
