"""Export then import into a fresh directory: same memories, same ids, same answers."""

from __future__ import annotations

import pytest

from memory_core import ExportRecord, MemoryCore
from memory_core.testing import HashingEmbedder, draft, team_facts
from tests.conftest import SettingsFactory

pytestmark = pytest.mark.anyio

QUESTIONS = [q for _, q in team_facts()]


async def _answers(core: MemoryCore) -> list[list[tuple[int, str]]]:
    return [
        [(h.memory.id, h.memory.text) for h in await core.query("default", q, limit=5, record=False)]
        for q in QUESTIONS
    ]


async def test_round_trip_gives_the_same_answers(make_settings: SettingsFactory) -> None:
    async with await MemoryCore.open(make_settings(), embedder=HashingEmbedder()) as source:
        await source.store_many("default", [draft(f, tags=["team"], kind="fact") for f, _ in team_facts()])
        old = await source.store("default", draft("We deploy with Jenkins", kind="decision"))
        await source.store(
            "default", draft("We deploy with GitHub Actions", kind="decision", supersedes=old.id)
        )
        records = [r async for r in source.export("default")]
        before = await _answers(source)
    lines = [r.model_dump_json() for r in records]

    async with await MemoryCore.open(make_settings(), embedder=HashingEmbedder()) as target:
        results = await target.import_("default", [ExportRecord.model_validate_json(line) for line in lines])
        assert all(r.created for r in results)
        assert [r.id for r in results] == [r.id for r in records]
        assert await _answers(target) == before
        replaced = await target.get("default", old.id)
        assert replaced.superseded_by == old.id + 1
        # Importing again is idempotent: everything is a duplicate.
        again = await target.import_("default", [ExportRecord.model_validate_json(line) for line in lines])
        assert not any(r.created for r in again)


async def test_import_reembeds_when_the_model_differs(make_settings: SettingsFactory) -> None:
    async with await MemoryCore.open(
        make_settings(), embedder=HashingEmbedder(model_id="other-model")
    ) as source:
        await source.store_many("default", [draft(f) for f, _ in team_facts()])
        records = [r async for r in source.export("default")]
    assert {r.embedding_model for r in records} == {"other-model"}
    async with await MemoryCore.open(make_settings(), embedder=HashingEmbedder()) as target:
        await target.import_("default", records)
        memory = await target.get("default", records[0].id)
        assert memory.embedding_model == "test-hashing-384"
        status = await target.index_status("default")
        assert status["indexed"] == 20


async def test_ids_taken_in_the_target_are_renumbered_and_links_follow(
    make_settings: SettingsFactory,
) -> None:
    async with await MemoryCore.open(make_settings(), embedder=HashingEmbedder()) as source:
        old = await source.store("default", draft("old way"))
        await source.store("default", draft("new way", supersedes=old.id))
        records = [r async for r in source.export("default")]
    async with await MemoryCore.open(make_settings(), embedder=HashingEmbedder()) as target:
        await target.store_many("other", [draft("occupies id 1"), draft("occupies id 2")])
        results = await target.import_("default", records)
        new_old, new_new = (r.memory.id for r in results)
        assert {new_old, new_new}.isdisjoint({1, 2})
        assert (await target.get("default", new_old)).superseded_by == new_new
        assert (await target.get("default", new_new)).supersedes == new_old
