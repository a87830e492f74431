"""Reflection: the incident of the team history (real model), windows, saving, the LLM path (respx)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest
import respx
from pydantic import SecretStr

from memory_core import Embedder, InvalidInput, MemoryCore, QueryFilters
from memory_core.config import LLMSettings
from memory_core.testing import HashingEmbedder, draft
from tests.conftest import SettingsFactory
from tests.memory_core.team_history import (
    INCIDENT_KEYS,
    INCIDENT_RELATED_KEYS,
    CachedEmbedder,
    link_supersedes,
    load_history,
    planted_history,
)

pytestmark = pytest.mark.anyio

LLM_URL = "http://llm.test/v1/chat/completions"


@pytest.fixture
async def history_core(make_settings: SettingsFactory, real_embedder: Embedder) -> AsyncIterator[MemoryCore]:
    """`model_core` with the real model's vectors memoised, so the history is embedded once per session."""
    async with await MemoryCore.open(make_settings(), embedder=CachedEmbedder(real_embedder)) as opened:
        yield opened


@pytest.mark.model
async def test_reflection_on_the_incident_cites_it_in_time_order_and_reports_the_reversal(
    history_core: MemoryCore,
) -> None:
    core = history_core
    ids = await load_history(core, "default", planted_history(), now=datetime.now(UTC))
    key_of = {v: k for k, v in ids.items()}

    r = await core.reflect("default", "checkout outage", dry_run=True)

    incident = {ids[k] for k in INCIDENT_KEYS}
    allowed = incident | {ids[k] for k in INCIDENT_RELATED_KEYS}
    assert incident <= set(r.sources), [k for k in INCIDENT_KEYS if ids[k] not in r.sources]
    assert set(r.sources) <= allowed, [key_of[i] for i in r.sources if i not in allowed]
    memories = {m.id: m for m in await core.get_many("default", r.sources)}
    times = [memories[e.id].created_at for e in r.timeline]
    assert [e.id for e in r.timeline] == list(r.sources)
    assert times == sorted(times) and [e.when for e in r.timeline] == times
    assert r.timeline[0].id == ids["inc-page"] and r.timeline[-1].id == ids["inc-report"]
    assert 1 <= len(r.points) <= 6
    for point in r.points:
        assert point.sources and set(point.sources) <= set(r.sources)
        assert point.text in " ".join(
            memories[i].text for i in point.sources
        )  # extractive: quoted, not invented
    assert "checkout outage" in r.summary and r.synthesis == "extractive" and r.notice is None
    assert r.conflicts == () and r.duplicates == ()  # incident updates are history, not contradictions
    assert r.id is None

    # The decision that was reversed, not yet marked as replaced: a possible conflict.
    bus = await core.reflect("default", "event bus", dry_run=True)
    assert {ids["eb-kafka"], ids["eb-rabbit"]} <= set(bus.sources)
    (conflict,) = bus.conflicts
    assert conflict.ids == (ids["eb-kafka"], ids["eb-rabbit"])
    assert f"#{ids['eb-rabbit']} says “we drop Kafka” where #{ids['eb-kafka']} says" in conflict.reason
    assert conflict.newer == conflict.current == ids["eb-rabbit"] and "RabbitMQ" in (conflict.position or "")
    assert f"Current position (#{ids['eb-rabbit']})" in bus.summary
    for point in bus.points:  # a key point cites one side of a contradiction, never both
        assert not set(conflict.ids) <= set(point.sources)
    assert ids["eb-kafka"] not in {p.sources[0] for p in bus.points}  # the outdated side is no key point

    # Once the reversal says what it replaced, the reflection tells the story the other way round.
    await link_supersedes(core, "default", ids["eb-kafka"], ids["eb-rabbit"])
    saved = await core.reflect("default", "event bus")
    (conflict,) = saved.conflicts
    assert conflict.ids == (ids["eb-kafka"], ids["eb-rabbit"]) and "was replaced by" in conflict.reason
    stored = await core.get("default", saved.id or 0)
    assert stored.kind == "reflection" and stored.links == saved.sources
    assert f"#{ids['eb-rabbit']}" in stored.text

    # Nothing new: the same reflection comes back. Something new: a new one supersedes it.
    assert (await core.reflect("default", "Event   bus")).id == saved.id
    await core.store(
        "default",
        draft("The event bus now runs RabbitMQ with three quorum-queue nodes per region.", tags=("events",)),
    )
    again = await core.reflect("default", "Event   bus")
    assert again.id not in (None, saved.id)
    assert (await core.get("default", saved.id or 0)).superseded_by == again.id
    assert (await core.get("default", again.id or 0)).supersedes == saved.id
    # Reflections are never the sources of reflections.
    assert not {saved.id, again.id} & set(again.sources)


async def test_reflection_needs_a_topic_a_window_or_a_tag(core: MemoryCore) -> None:
    with pytest.raises(InvalidInput):
        await core.reflect("default", "   ")
    with pytest.raises(InvalidInput):
        await core.reflect("default", "deploys", limit=0)


async def test_nothing_to_reflect_on_is_said_and_not_saved(core: MemoryCore) -> None:
    await core.store("default", draft("The coffee machine is descaled on Fridays."))
    r = await core.reflect("default", "kubernetes autoscaling quotas")
    assert r.id is None and r.sources == () and "Nothing in memory" in r.summary and r.notice
    assert (await core.stats("default")).by_kind.get("reflection") is None


async def test_reflection_over_a_window_reads_everything_in_it(core: MemoryCore) -> None:
    now = datetime.now(UTC)
    old = await core.store(
        "default", draft("Quarterly planning moved to Lisbon.", created_at=now - timedelta(days=40))
    )
    inside = [
        await core.store("default", draft(text, created_at=now - timedelta(days=days), tags=("release",)))
        for text, days in (
            ("Release 4.2 shipped to all customers on Tuesday.", 6),
            ("Release 4.2 caused a spike in login errors; hotfix 4.2.1 is out.", 5),
            ("Next release train leaves on the 14th; freeze starts the Monday before.", 2),
        )
    ]
    r = await core.reflect("default", None, filters=QueryFilters(since=now - timedelta(days=7)), dry_run=True)
    assert list(r.sources) == [s.id for s in inside]  # oldest first, nothing from outside the window
    assert old.id not in r.sources
    assert r.summary.startswith("3 memories") and r.topic is None
    tagged = await core.reflect("default", None, filters=QueryFilters(tags=("release",)))
    assert set(tagged.sources) == {s.id for s in inside} and tagged.id is not None
    assert "reflection" in (await core.get("default", tagged.id)).tags


# --- the LLM path ------------------------------------------------------------------------------------


@pytest.fixture
async def llm_core(make_settings: SettingsFactory) -> AsyncIterator[MemoryCore]:
    llm = LLMSettings(
        base_url="http://llm.test/v1", model="tiny-llm", api_key=SecretStr("sk-test-123"), timeout=0.5
    )
    async with await MemoryCore.open(make_settings(llm=llm), embedder=HashingEmbedder()) as opened:
        yield opened


async def _deploy_memories(core: MemoryCore) -> list[int]:
    texts = [
        "Deploys to production happen Tuesday to Thursday before 16:00.",
        "Deploys to production are rolled back by reverting the image tag.",
        "Deploys to production need a green CI run and one approval.",
    ]
    ids = [(await core.store("default", draft(t, tags=("deploy",)))).id for t in texts]
    await core.store("default", draft("The espresso machine on floor 2 needs descaling."))
    return ids


def _chat_answer(content: str) -> httpx.Response:
    return httpx.Response(
        200,
        json={"id": "c1", "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]},
    )


async def test_llm_writes_the_synthesis_from_the_gathered_memories_only(llm_core: MemoryCore) -> None:
    ids = await _deploy_memories(llm_core)
    answer = {
        "summary": f"Deploys run midweek (#{ids[0]}) and are undone by a revert (#{ids[1]}).",
        "points": [
            {"text": "Deploy Tuesday to Thursday.", "sources": [ids[0]]},
            {"text": "Roll back by reverting the tag.", "sources": [f"#{ids[1]}", ids[2]]},
        ],
    }
    with respx.mock(assert_all_called=True) as router:
        route = router.post(LLM_URL).mock(
            return_value=_chat_answer("```json\n" + json.dumps(answer) + "\n```")
        )
        r = await llm_core.reflect("default", "deploys to production")
    assert r.synthesis == "llm" and r.notice is None
    assert r.summary == answer["summary"]
    assert [(p.text, p.sources) for p in r.points] == [
        ("Deploy Tuesday to Thursday.", (ids[0],)),
        ("Roll back by reverting the tag.", (ids[1], ids[2])),
    ]
    assert set(r.sources) == set(ids)
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer sk-test-123"
    body = json.loads(request.content)
    assert body["model"] == "tiny-llm"
    prompt = body["messages"][-1]["content"]
    assert all(f"[id {i}]" in prompt for i in ids)
    assert "espresso" not in prompt  # only the gathered memories are sent
    saved = await llm_core.get("default", r.id or 0)
    assert "Deploy Tuesday to Thursday." in saved.text and saved.links == r.sources


async def test_ids_the_model_invents_are_dropped(llm_core: MemoryCore) -> None:
    ids = await _deploy_memories(llm_core)
    answer = {
        "summary": f"Deploys are midweek #{ids[0]}; see also #9999.",
        "points": [
            {"text": "Deploys are midweek.", "sources": [ids[0], 9999]},
            {"text": "Deploys are blessed by the CTO.", "sources": [4242]},
        ],
    }
    with respx.mock() as router:
        router.post(LLM_URL).mock(return_value=_chat_answer(json.dumps(answer)))
        r = await llm_core.reflect("default", "deploys to production", dry_run=True)
    assert r.synthesis == "llm"
    assert [(p.text, p.sources) for p in r.points] == [("Deploys are midweek.", (ids[0],))]
    assert "#9999" not in r.summary and f"#{ids[0]}" in r.summary
    assert r.notice is not None and "#4242" in r.notice and "#9999" in r.notice


async def _slow(request: httpx.Request) -> httpx.Response:
    await anyio.sleep(5)
    return _chat_answer("{}")


@pytest.mark.parametrize(
    ("respond", "said"),
    [
        pytest.param({"side_effect": _slow}, "did not answer within 0.5 s", id="slow-answer"),
        pytest.param(
            {"side_effect": httpx.ConnectTimeout("connect timed out")}, "did not answer", id="timeout"
        ),
        pytest.param({"return_value": httpx.Response(500, text="model crashed")}, "HTTP 500", id="http-500"),
        pytest.param(
            {"return_value": httpx.Response(200, text="<html>gateway</html>")}, "not JSON", id="not-json"
        ),
        pytest.param(
            {"return_value": _chat_answer("Sure! Deploys are midweek.")}, "not the JSON", id="prose"
        ),
        pytest.param(
            {"return_value": httpx.Response(200, json={"choices": []})}, "no message", id="no-choices"
        ),
        pytest.param(
            {
                "return_value": _chat_answer(
                    json.dumps({"summary": "x", "points": [{"text": "y", "sources": [777]}]})
                )
            },
            "cited none",
            id="only-invented-ids",
        ),
    ],
)
async def test_llm_failure_falls_back_to_the_extractive_synthesis_and_says_so(
    llm_core: MemoryCore, respond: dict[str, Any], said: str
) -> None:
    ids = await _deploy_memories(llm_core)
    with respx.mock(assert_all_called=False) as router:  # a cancelled call does not count as called
        route = router.post(LLM_URL).mock(**respond)
        with anyio.fail_after(3):
            r = await llm_core.reflect("default", "deploys to production")
    assert r.synthesis == "extractive"
    assert r.notice is not None and said in r.notice and "extractive" in r.notice
    assert "sk-test-123" not in r.notice
    assert r.points and {i for p in r.points for i in p.sources} <= set(ids)
    assert r.id is not None  # the reflection is still written and saved
    assert len(route.calls) <= 1  # one attempt, no retry storm against a failing endpoint
