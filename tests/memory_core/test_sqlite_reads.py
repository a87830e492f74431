"""A query's SQLite reads in one worker-thread call: the same hits as through the async engine, read only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from memory_core import Hit, Importance, MemoryCore, QueryFilters
from memory_core.embedding import MicroBatcher
from memory_core.testing import draft

pytestmark = pytest.mark.anyio


def _plain(hits: list[Hit]) -> list[tuple[int, float, str]]:
    return [(h.memory.id, h.score, h.memory.model_dump_json()) for h in hits]


async def test_raw_reads_rank_exactly_as_the_async_engine(
    core: MemoryCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both raw paths (keyword search overlapping the embedding, and after it while the model is busy)
    give exactly the async engine's hits."""
    if core.database.sqlite_reads is None:
        pytest.skip("SQLite file databases only")
    now = datetime.now(UTC)
    old = await core.store(
        "default", draft("The VPN runs on WireGuard now", created_at=now - timedelta(days=30))
    )
    await core.store_many(
        "default",
        [
            draft("VPN certificates renew every 90 days", tags=["infra"], importance=Importance.HIGH),
            draft("the VPN moved to vpn2.corp", author="bob", author_id="cli:bob", created_at=now),
            draft("bob: yes, vpn2 is live", author="bob", author_id="cli:bob", created_at=now),
            draft("temporary VPN code 4711", expires_at=now - timedelta(seconds=1)),
            draft("The VPN runs on OpenVPN again", supersedes=old.memory.id),
            draft("lunch is at noon"),
        ],
    )
    await core.store("other", draft("another team's VPN notes"))
    questions = ["vpn", "what did bob say about the vpn", "VPN certificates on 5 May", "lunch", "kubernetes"]
    filter_sets = [
        QueryFilters(),
        QueryFilters(include_expired=True),
        QueryFilters(include_superseded=True),
        QueryFilters(include_expired=True, include_superseded=True),
    ]
    raw = [
        await core.query("default", q, filters=f, limit=10, mode=mode, record=False)
        for q in questions
        for f in filter_sets
        for mode in ("hybrid", "keyword", "vector")
    ]
    with monkeypatch.context() as patched:
        patched.setattr(MicroBatcher, "busy", property(lambda _self: True))  # no overlap
        raw_after_embedding = [
            await core.query("default", q, filters=f, limit=10, mode=mode, record=False)
            for q in questions
            for f in filter_sets
            for mode in ("hybrid", "keyword", "vector")
        ]
    reads, core.database.sqlite_reads = core.database.sqlite_reads, None  # the async engine's path
    try:
        engine = [
            await core.query("default", q, filters=f, limit=10, mode=mode, record=False)
            for q in questions
            for f in filter_sets
            for mode in ("hybrid", "keyword", "vector")
        ]
    finally:
        core.database.sqlite_reads = reads
    assert [_plain(h) for h in raw] == [_plain(h) for h in engine]
    assert [_plain(h) for h in raw_after_embedding] == [_plain(h) for h in engine]
    assert any(len(h) > 2 for h in raw)  # the comparison is not between empty lists
    texts = {h.memory.text for hits in raw[:3] for h in hits}
    assert "temporary VPN code 4711" not in texts and "another team's VPN notes" not in texts


async def test_raw_reads_see_what_was_just_stored_and_cannot_write(core: MemoryCore) -> None:
    reads = core.database.sqlite_reads
    if reads is None:
        pytest.skip("SQLite file databases only")
    await core.query("default", "anything")  # a pooled connection now exists
    stored = await core.store("default", draft("the printer on floor 3 is fixed"))
    hits = await core.query("default", "printer floor 3")
    assert hits[0].memory.id == stored.memory.id
    with reads.transaction() as cursor, pytest.raises(Exception, match="readonly"):
        cursor.execute("DELETE FROM memory")
    assert (await core.get("default", stored.memory.id)).text == "the printer on floor 3 is fixed"
