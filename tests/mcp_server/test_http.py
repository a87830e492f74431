"""Streamable HTTP on a real uvicorn server on 127.0.0.1, through the SDK's client and raw HTTP: API keys
decide who may call, which tenant they see and what they may do."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from mcp_server import McpSettings, build_mcp_http_app
from memory_core import ApiKeys, MemoryCore, Scope
from memory_core.testing import draft

from .conftest import error_of, http_client, raised, serve_http, structured

pytestmark = pytest.mark.anyio

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"},
    },
}
JSON_RPC_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@asynccontextmanager
async def mcp_endpoint(core: MemoryCore, settings: McpSettings | None = None) -> AsyncIterator[str]:
    async with serve_http(build_mcp_http_app(core, ApiKeys(core), settings).starlette()) as base:
        yield f"{base}/mcp"


async def raw_post(url: str, authorization: str | None, body: object = INITIALIZE) -> httpx2.Response:
    headers = dict(JSON_RPC_HEADERS)
    if authorization is not None:
        headers["Authorization"] = authorization
    async with httpx2.AsyncClient(timeout=10) as http:
        return await http.post(url, content=json.dumps(body), headers=headers)


async def test_missing_wrong_and_revoked_keys_get_401(core: MemoryCore) -> None:
    keys = ApiKeys(core)
    good, _ = await keys.create("default", Scope.READ)
    revoked, revoked_info = await keys.create("default", Scope.ADMIN)
    await keys.revoke(revoked_info.id)
    async with mcp_endpoint(core) as url:
        for authorization in (
            None,
            "Bearer",
            "Bearer not-a-key",
            f"Basic {good}",
            f"Bearer {good}x",
            f"Bearer {revoked}",
        ):
            response = await raw_post(url, authorization)
            assert response.status_code == 401, authorization
            assert response.headers["www-authenticate"].startswith('Bearer realm="teamlore"')
            assert response.json()["error"] == "invalid_token"
            assert good not in response.text
        assert "revoked" in (await raw_post(url, f"Bearer {revoked}")).json()["error_description"]
        assert (await raw_post(url, f"Bearer {good}")).status_code == 200
        with pytest.raises(BaseException) as refused:  # the SDK raises a group: checked below
            async with http_client(url, "tlk_00000000_" + "A" * 43):
                pass
        assert raised(refused.value, MCPError)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_read_key_can_query_but_not_store_or_delete(core: MemoryCore, mode: str) -> None:
    existing = await core.store("acme", draft("Support answers P1 tickets within 30 minutes."))
    reader, _ = await ApiKeys(core).create("acme", Scope.READ, name="reader")
    async with mcp_endpoint(core) as url, http_client(url, reader, mode=mode) as client:
        refused = error_of(await client.call_tool("store_memory", {"text": "new fact"}))
        assert (
            refused.startswith("permission_denied: this API key has read scope")
            and "--scope write" in refused
        )
        assert error_of(await client.call_tool("delete_memory", {"memory_id": existing.id})).startswith(
            "permission_denied"
        )
        hits = structured(await client.call_tool("query_memories", {"question": "P1 ticket response time"}))[
            "hits"
        ]
        assert [h["id"] for h in hits] == [existing.id]
    assert (await core.stats("acme")).memories == 1


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_two_tenants_keys_never_see_each_others_memories(core: MemoryCore, mode: str) -> None:
    keys = ApiKeys(core)
    acme_key, _ = await keys.create("acme", Scope.WRITE)
    globex_key, _ = await keys.create("globex", Scope.ADMIN)
    async with (
        mcp_endpoint(core) as url,
        http_client(url, acme_key, mode=mode) as acme,
        http_client(url, globex_key, mode=mode) as globex,
    ):
        mine = structured(
            await acme.call_tool("store_memory", {"text": "Acme rotates the VPN keys every Monday."})
        )
        theirs = structured(
            await globex.call_tool("store_memory", {"text": "Globex rotates VPN keys on Fridays."})
        )
        for client, own, other in ((acme, mine, theirs), (globex, theirs, mine)):
            hits = structured(
                await client.call_tool("query_memories", {"question": "when are VPN keys rotated?"})
            )
            assert [h["id"] for h in hits["hits"]] == [own["id"]]
            assert error_of(await client.call_tool("get_memory", {"memory_id": other["id"]})).startswith(
                "not_found"
            )
            assert error_of(await client.call_tool("delete_memory", {"memory_id": other["id"]})).startswith(
                "not_found"
            )
            block = structured(await client.call_tool("assemble_context", {"task": "VPN key rotation"}))
            assert block["memory_ids"] == [own["id"]]
            recent = await client.read_resource("memory://recent")
            assert f"#{other['id']} " not in "".join(getattr(c, "text", "") for c in recent.contents)
        assert structured(await globex.call_tool("get_statistics", {}))["memories"] == 1
    assert (await core.get("acme", mine["id"])).author_id is not None


async def test_a_write_key_deletes_its_own_memories_and_an_admin_key_any(core: MemoryCore) -> None:
    keys = ApiKeys(core)
    writer, writer_info = await keys.create("acme", Scope.WRITE, name="ci-bot")
    admin, _ = await keys.create("acme", Scope.ADMIN)
    someone_elses = await core.store(
        "acme", draft("Coffee machine is descaled on Fridays.", author_id="slack:T:U1")
    )
    async with mcp_endpoint(core) as url, http_client(url, writer) as client:
        own = structured(await client.call_tool("store_memory", {"text": "Nightly build runs at 01:00."}))
        memory = await core.get("acme", own["id"])
        assert (memory.author, memory.author_id) == ("ci-bot", f"apikey:{writer_info.id}")
        refused = error_of(await client.call_tool("delete_memory", {"memory_id": someone_elses.id}))
        assert refused.startswith("permission_denied: ")
        assert (
            structured(await client.call_tool("delete_memory", {"memory_id": own["id"]}))["deleted"]
            == own["id"]
        )
    async with mcp_endpoint(core) as url, http_client(url, admin) as client:
        structured(await client.call_tool("delete_memory", {"memory_id": someone_elses.id}))
    assert (await core.stats("acme")).memories == 0


async def test_a_revoked_key_is_cut_off_mid_session(core: MemoryCore) -> None:
    keys = ApiKeys(core)
    secret, info = await keys.create("default", Scope.WRITE)
    async with mcp_endpoint(core) as url, http_client(url, secret, mode="legacy") as client:
        structured(await client.call_tool("list_tags", {}))
        await keys.revoke(info.id)
        with pytest.raises(BaseException) as refused:  # the SDK raises a group: checked below
            await client.call_tool("list_tags", {})
        assert raised(refused.value, MCPError)


async def test_a_session_answers_only_the_key_that_opened_it(core: MemoryCore) -> None:
    keys = ApiKeys(core)
    first, _ = await keys.create("acme", Scope.ADMIN)
    second, _ = await keys.create("acme", Scope.ADMIN)
    async with mcp_endpoint(core) as url:
        opened = await raw_post(url, f"Bearer {first}")
        session = opened.headers["mcp-session-id"]
        list_tools = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
        headers = {**JSON_RPC_HEADERS, "Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-11-25"}
        async with httpx2.AsyncClient(timeout=10) as http:
            stolen = await http.post(
                url, content=json.dumps(list_tools), headers={**headers, "Authorization": f"Bearer {second}"}
            )
        assert stolen.status_code == 404


async def test_the_endpoint_also_answers_below_its_path_and_stateless(core: MemoryCore) -> None:
    secret, _ = await ApiKeys(core).create("default", Scope.READ)
    async with mcp_endpoint(core, McpSettings(stateless=True, json_response=True)) as url:
        response = await raw_post(url + "/", f"Bearer {secret}")
        assert response.status_code == 200 and "mcp-session-id" not in response.headers
        assert response.json()["result"]["serverInfo"]["name"] == "teamlore"
        async with http_client(url, secret, mode="legacy") as client:
            assert structured(await client.call_tool("list_tags", {}))["tags"] == []


async def test_allowed_hosts_turn_on_dns_rebinding_protection(core: MemoryCore) -> None:
    secret, _ = await ApiKeys(core).create("default", Scope.READ)
    async with mcp_endpoint(core, McpSettings(allowed_hosts=("lore.example.com",))) as url:
        assert (await raw_post(url, f"Bearer {secret}")).status_code == 421
