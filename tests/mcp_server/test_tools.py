"""Every tool through the SDK's own client (in-process): schemas, results, errors a model can act on."""

from __future__ import annotations

import logging
import re

import pytest
from mcp import Client

from mcp_server import TOOL_NAMES
from memory_core import MemoryCore, Scope
from memory_core.testing import draft

from .conftest import error_of, local_client, structured

pytestmark = pytest.mark.anyio


async def test_every_tool_is_listed_with_a_description_and_both_schemas(client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == set(TOOL_NAMES)
    for tool in tools.values():
        assert tool.description and len(tool.description) > 40, tool.name
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema is not None and tool.output_schema["type"] == "object", tool.name
        for name, prop in tool.input_schema.get("properties", {}).items():
            assert prop.get("description"), f"{tool.name}.{name} has no description"
    assert tools["store_memory"].input_schema["required"] == ["text"]
    assert tools["get_memory"].input_schema["properties"]["memory_id"]["minimum"] == 1
    assert (
        tools["query_memories"].annotations is not None and tools["query_memories"].annotations.read_only_hint
    )
    assert (
        tools["delete_memory"].annotations is not None and tools["delete_memory"].annotations.destructive_hint
    )


async def test_store_then_query_finds_it_with_its_id(client: Client, core: MemoryCore) -> None:
    stored = structured(
        await client.call_tool(
            "store_memory",
            {
                "text": "Deploys to production happen only on Tuesdays and Thursdays.",
                "tags": ["#Deploy", "process"],
                "importance": "high",
                "kind": "decision",
                "source_ref": "https://wiki.example/deploys",
                "ttl_days": 30,
            },
        )
    )
    assert stored["created"] and stored["message"] == f"stored as #{stored['id']}"
    memory = await core.get("default", stored["id"])
    assert memory.tags == ("deploy", "process") and memory.kind == "decision"
    assert (
        memory.source.value == "mcp"
        and memory.author_id is not None
        and memory.author_id.startswith("mcp:local:")
    )
    assert memory.expires_at is not None

    found = structured(await client.call_tool("query_memories", {"question": "which days can we deploy?"}))
    assert found["hits"][0]["id"] == stored["id"] and found["hits"][0]["ref"] == f"#{stored['id']}"
    filtered = structured(
        await client.call_tool(
            "query_memories", {"question": "deploy days", "tags": ["incident"], "since": "2020-01-31"}
        )
    )
    assert filtered["hits"] == []


async def test_storing_the_same_text_twice_answers_the_existing_id(client: Client) -> None:
    first = structured(await client.call_tool("store_memory", {"text": "The VPN moved to vpn2.corp"}))
    again = structured(await client.call_tool("store_memory", {"text": "the VPN moved to vpn2.corp "}))
    assert again["created"] is False and again["duplicate_of"] == first["id"] == again["id"]
    assert "already stored" in again["message"]


async def test_store_names_a_probable_contradiction_and_supersedes_hides_the_old_one(client: Client) -> None:
    old = structured(await client.call_tool("store_memory", {"text": "Backups are kept for 35 days."}))
    new = structured(await client.call_tool("store_memory", {"text": "Backups are kept for 14 days now."}))
    (maybe,) = new["contradicts"]
    assert maybe["id"] == old["id"] and maybe["ref"] == f"#{old['id']}" and "14 days" in maybe["reason"]
    assert (
        f"this may contradict #{old['id']}" in new["message"] and f"supersedes={old['id']}" in new["message"]
    )
    again = structured(
        await client.call_tool(
            "store_memory", {"text": "Backups are kept for 14 days now.", "supersedes": old["id"]}
        )
    )
    assert again["id"] == new["id"] and f"it replaces #{old['id']}" in again["message"]
    hits = structured(await client.call_tool("query_memories", {"question": "how long are backups kept"}))
    assert [h["id"] for h in hits["hits"]] == [new["id"]]
    history = structured(
        await client.call_tool(
            "query_memories", {"question": "how long are backups kept", "include_superseded": True}
        )
    )
    replaced = next(h for h in history["hits"] if h["id"] == old["id"])
    assert replaced["superseded_by"] == new["id"]


async def test_secrets_are_refused_with_a_way_out_or_redacted_on_request(client: Client) -> None:
    text = "staging token: ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2
    refused = error_of(await client.call_tool("store_memory", {"text": text}))
    assert refused.startswith("credential_detected: ") and "secret" in refused
    redacted = structured(await client.call_tool("store_memory", {"text": text, "redact_secrets": True}))
    assert redacted["created"] and redacted["redacted"]


async def test_get_and_delete_a_memory(client: Client) -> None:
    stored = structured(await client.call_tool("store_memory", {"text": "Backups run nightly at 02:00 UTC."}))
    got = structured(await client.call_tool("get_memory", {"memory_id": stored["id"]}))
    assert got["text"] == "Backups run nightly at 02:00 UTC." and got["ref"] == f"#{stored['id']}"
    deleted = structured(await client.call_tool("delete_memory", {"memory_id": stored["id"]}))
    assert deleted["deleted"] == stored["id"]
    gone = error_of(await client.call_tool("get_memory", {"memory_id": stored["id"]}))
    assert gone == f"not_found: no memory #{stored['id']}; use query_memories to find ids"


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("get_memory", {"memory_id": "forty-two"}, "memory_id"),
        ("get_memory", {}, "memory_id"),
        ("store_memory", {"text": "x", "ttl_days": 0}, "ttl_days"),
        ("store_memory", {"text": "x", "kind": "Not A Kind"}, "kind"),
        ("store_memory", {"text": "x", "importance": "urgent"}, "importance"),
        ("query_memories", {"question": "x", "limit": 500}, "limit"),
        ("assemble_context", {"task": "x", "token_budget": 5}, "token_budget"),
    ],
)
async def test_bad_arguments_are_rejected_naming_the_field(
    client: Client, tool: str, arguments: dict[str, object], field: str
) -> None:
    text = error_of(await client.call_tool(tool, arguments))
    assert field in text


async def test_a_read_scope_caller_can_read_but_not_write(core: MemoryCore) -> None:
    existing = await core.store("default", draft("The office Wi-Fi password rotates monthly."))
    async with local_client(core, scope=Scope.READ) as reader:
        stored = error_of(await reader.call_tool("store_memory", {"text": "something new"}))
        assert stored.startswith("permission_denied: ") and "write scope" in stored
        deleted = error_of(await reader.call_tool("delete_memory", {"memory_id": existing.id}))
        assert deleted.startswith("permission_denied: ")
        reflected = error_of(await reader.call_tool("generate_reflection", {"topic": "wifi"}))
        assert "save=false" in reflected
        hits = structured(await reader.call_tool("query_memories", {"question": "wifi password"}))["hits"]
        assert [h["id"] for h in hits] == [existing.id]
    await core.get("default", existing.id)  # still there


async def test_only_the_author_or_an_admin_deletes(core: MemoryCore) -> None:
    theirs = await core.store("default", draft("Kafka retention is seven days.", author_id="slack:T1:U9"))
    async with local_client(core, scope=Scope.WRITE) as writer:
        refused = error_of(await writer.call_tool("delete_memory", {"memory_id": theirs.id}))
        assert refused.startswith("permission_denied: ") and "admin" in refused
        mine = structured(await writer.call_tool("store_memory", {"text": "My own note about Kafka."}))
        assert (
            structured(await writer.call_tool("delete_memory", {"memory_id": mine["id"]}))["deleted"]
            == mine["id"]
        )


async def test_tools_only_see_the_callers_tenant(core: MemoryCore) -> None:
    other = await core.store("globex", draft("Globex launches the rocket on Friday."))
    async with local_client(core, tenant="acme") as acme:
        hits = structured(await acme.call_tool("query_memories", {"question": "rocket launch Friday"}))[
            "hits"
        ]
        assert hits == []
        assert error_of(await acme.call_tool("get_memory", {"memory_id": other.id})).startswith("not_found")
        assert error_of(await acme.call_tool("delete_memory", {"memory_id": other.id})).startswith(
            "not_found"
        )
        assert structured(await acme.call_tool("list_tags", {}))["tags"] == []


async def test_list_tags_and_statistics(client: Client, core: MemoryCore) -> None:
    await core.store("default", draft("VPN host is vpn2", tags=["vpn", "infra"]))
    await core.store("default", draft("Grafana lives at grafana.corp", tags=["infra"]))
    tags = structured(await client.call_tool("list_tags", {}))["tags"]
    assert tags == [{"tag": "infra", "count": 2}, {"tag": "vpn", "count": 1}]
    stats = structured(await client.call_tool("get_statistics", {}))
    assert stats["memories"] == 2 and stats["tenant"] == "default" and stats["by_source"] == {"cli": 2}


async def test_assemble_context_cites_ids_and_respects_the_budget(client: Client, core: MemoryCore) -> None:
    ids = []
    for n in range(12):
        result = await core.store(
            "default", draft(f"Deploy rule {n}: deploys need a green build and " + "x" * 300)
        )
        ids.append(result.id)
    block = structured(
        await client.call_tool("assemble_context", {"task": "deploy rules", "token_budget": 300})
    )
    assert block["estimated_tokens"] <= 300 and len(block["context"]) <= 300 * 4
    assert block["memory_ids"] and set(block["memory_ids"]) <= set(ids)
    for memory_id in block["memory_ids"]:
        assert f"#{memory_id} " in block["context"]
    whole = len(block["memory_ids"]) - (1 if block["context"].endswith("…") else 0)
    assert 0 < whole < 12 and block["omitted"] == 12 - whole
    roomy = structured(
        await client.call_tool("assemble_context", {"task": "deploy rules", "token_budget": 5000})
    )
    assert sorted(roomy["memory_ids"]) == sorted(ids) and roomy["omitted"] == 0


async def test_assemble_context_leaves_out_replaced_memories(client: Client, core: MemoryCore) -> None:
    old = await core.store("default", draft("The VPN host is vpn1.corp"))
    new = await core.store("default", draft("The VPN host is now vpn2.corp", supersedes=old.id))
    block = structured(await client.call_tool("assemble_context", {"task": "what is the VPN host?"}))
    assert block["memory_ids"] == [new.id]


async def test_assemble_context_with_nothing_relevant_says_so(client: Client) -> None:
    block = structured(await client.call_tool("assemble_context", {"task": "anything at all"}))
    assert block["memory_ids"] == [] and block["context"].startswith("No stored team memory")


async def test_an_unexpected_failure_is_a_generic_error_with_a_logged_reference(
    client: Client, core: MemoryCore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(tenant: str) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(core, "stats", broken)
    with caplog.at_level(logging.ERROR, logger="mcp_server.errors"):
        text = error_of(await client.call_tool("get_statistics", {}))
    match = re.fullmatch(r"internal error \(ref ([0-9a-f]{6})\)", text)
    assert match is not None and "secret internals" not in text
    assert any(match.group(1) in record.getMessage() and record.exc_info for record in caplog.records)


# Narrow and temporary: memory_core/_reflect.py (_vectors) still calls Result.tuples(), deprecated in
# SQLAlchemy 2.1. Remove this mark once it iterates the rows directly.
@pytest.mark.filterwarnings("ignore:The Result.tuples:sqlalchemy.exc.SADeprecationWarning")
async def test_generate_reflection_cites_its_sources(client: Client, core: MemoryCore) -> None:
    a = await core.store("default", draft("The VPN moved to vpn2.corp on March 3rd.", tags=["vpn"]))
    b = await core.store("default", draft("VPN clients must be updated to 5.2 for vpn2.", tags=["vpn"]))
    reflection = structured(await client.call_tool("generate_reflection", {"topic": "VPN"}))
    assert {a.id, b.id} <= set(reflection["sources"])
    assert reflection["id"] is not None and reflection["summary"]
    dry = structured(await client.call_tool("generate_reflection", {"topic": "VPN", "save": False}))
    assert dry["id"] is None


async def test_quality_report_scores_and_names_ids(core: MemoryCore) -> None:
    await core.store("default", draft("ok"))
    async with local_client(core, scope=Scope.READ) as reader:
        report = structured(await reader.call_tool("quality_report", {}))
    assert 0 <= report["score"] <= 100 and report["tenant"] == "default"
    assert report["id"] is None  # a read-only caller's report is not kept
