"""What the web app needs from the core: keys by id, one-time claims, a shared signing secret, paging."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from memory_core import ApiKeys, InvalidInput, MemoryCore
from memory_core.testing import draft, open_test_core

pytestmark = pytest.mark.anyio


async def test_get_a_key_by_id_revoked_or_not(core: MemoryCore) -> None:
    keys = ApiKeys(core)
    _secret, info = await keys.create("acme", "read", "reader")
    assert (await keys.get(info.id)).name == "reader"
    await keys.revoke(info.id)
    assert not (await keys.get(info.id)).active
    with pytest.raises(InvalidInput, match="no API key 999"):
        await keys.get(999)


async def test_claim_first_use_succeeds_once_even_when_raced(core: MemoryCore) -> None:
    keys = ApiKeys(core)
    _secret, info = await keys.create("acme", "read", "link")
    results: list[bool] = []

    async def claim() -> None:
        results.append(await keys.claim_first_use(info.id))

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(claim)
    assert sorted(results) == [False, False, False, False, True]
    _secret, other = await keys.create("acme", "read", "revoked link")
    await keys.revoke(other.id)
    assert await keys.claim_first_use(other.id) is False


async def test_signing_secret_is_made_once_and_shared_by_every_process(tmp_path: Path) -> None:
    async with open_test_core(tmp_path) as first, open_test_core(tmp_path) as second:
        made = await ApiKeys(first).signing_secret("web-session")
        assert len(made) == 32
        assert await ApiKeys(second).signing_secret("web-session") == made
        assert await ApiKeys(first).signing_secret("other-purpose") != made
        with pytest.raises(InvalidInput):
            await ApiKeys(first).signing_secret("Not A Name!")
    async with open_test_core(tmp_path) as reopened:
        assert await ApiKeys(reopened).signing_secret("web-session") == made


async def test_recent_pages_with_an_offset(core: MemoryCore) -> None:
    for i in range(5):
        await core.store("acme", draft(f"paged fact number {i}"))
    newest = [m.id for m in await core.recent("acme", limit=5)]
    assert [m.id for m in await core.recent("acme", limit=2, offset=2)] == newest[2:4]
    assert await core.recent("acme", limit=2, offset=10) == []


async def test_trend_points_count_the_findings_of_each_kind(core: MemoryCore) -> None:
    text = "the staging database password rotation happens every first monday of the month at noon"
    await core.store("acme", draft(text))
    await core.store("acme", draft(text + " utc"))
    saved = await core.quality_report("acme")
    assert [f.kind for f in saved.findings].count("near_duplicate") == 1
    later = await core.quality_report("acme", save=False)
    assert later.trend[-1].counts["near_duplicate"] == 1
    assert sum(later.trend[-1].counts.values()) == len(saved.findings)
