"""The real embedding model: retrieval of paraphrases, model bookkeeping, mismatch and reindex."""

from __future__ import annotations

import pytest

from memory_core import Embedder, MemoryCore, ModelMismatch, SearchSettings
from memory_core.testing import HashingEmbedder, draft, team_facts
from tests.conftest import SettingsFactory

pytestmark = pytest.mark.anyio


@pytest.mark.model
async def test_twenty_facts_are_found_by_paraphrased_questions(model_core: MemoryCore) -> None:
    facts = list(team_facts())
    results = await model_core.store_many("default", [draft(fact) for fact, _ in facts])
    missed = []
    for (_fact, question), result in zip(facts, results, strict=True):
        hits = await model_core.query("default", question, limit=3)
        if result.id not in [h.memory.id for h in hits]:
            missed.append(question)
    assert missed == []


@pytest.mark.model
@pytest.mark.parametrize("old_fusion", [False, True])
async def test_a_weak_keyword_match_does_not_outrank_a_clear_meaning_match(
    make_settings: SettingsFactory, real_embedder: Embedder, old_fusion: bool
) -> None:
    """One word of five ("releases" in "release train", "days" in "seven days") is not a full keyword
    match: the fact that answers by meaning, with no word in common, comes first. The fusion before
    keyword_coverage and vector_exponent (best keyword hit = full match, linear cosine) put it 5th."""
    search = SearchSettings(keyword_coverage=0, vector_exponent=1) if old_fusion else SearchSettings()
    async with await MemoryCore.open(make_settings(search=search), embedder=real_embedder) as core:
        results = await core.store_many("default", [draft(fact) for fact, _ in team_facts()])
        hits = await core.query("default", "which days are we allowed to ship releases to prod?", limit=5)
    deploy_days = results[1].id
    assert (hits[0].memory.id == deploy_days) is not old_fusion


@pytest.mark.model
async def test_model_id_and_dimension_are_recorded(model_core: MemoryCore) -> None:
    memory = (await model_core.store("default", draft("hello team"))).memory
    assert memory.embedding_model == "all-MiniLM-L6-v2"
    stats = await model_core.stats("default")
    assert (stats.embedding_model, stats.embedding_dim) == ("all-MiniLM-L6-v2", 384)


async def test_another_model_refuses_to_open_until_reindex(
    make_settings: SettingsFactory, real_embedder: Embedder
) -> None:
    settings = make_settings()
    async with await MemoryCore.open(settings, embedder=HashingEmbedder(model_id="old-model")) as core:
        stored = await core.store_many("default", [draft(fact) for fact, _ in team_facts()])

    with pytest.raises(ModelMismatch) as caught:
        await MemoryCore.open(settings, embedder=real_embedder)
    message = str(caught.value)
    assert "teamlore reindex" in message and "old-model" in message and "all-MiniLM-L6-v2" in message

    async with await MemoryCore.open(settings, embedder=real_embedder, allow_model_mismatch=True) as core:
        progress: list[tuple[int, int]] = []
        assert await core.reindex(on_progress=lambda d, t: progress.append((d, t))) == 20
        assert progress[-1] == (20, 20)

    async with await MemoryCore.open(settings, embedder=real_embedder) as core:
        memory = await core.get("default", stored[7].id)
        assert memory.embedding_model == "all-MiniLM-L6-v2"
        hits = await core.query(
            "default", "what caused the payments outage with bad gateway errors?", limit=3
        )
        assert stored[7].id in [h.memory.id for h in hits]
        assert await core.reindex() == 0  # nothing left to re-embed: it resumes, never redoes


async def test_a_different_dimension_is_a_mismatch_too(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    async with await MemoryCore.open(settings, embedder=HashingEmbedder(dim=64, model_id="m")) as core:
        await core.store("default", draft("x"))
    with pytest.raises(ModelMismatch, match="dimension 64"):
        await MemoryCore.open(settings, embedder=HashingEmbedder(dim=128, model_id="m"))
