"""Issue #14 on MCP: every field × the five secret shapes, bad characters and numbers, the HTTP rate limit."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from mcp import Client

from mcp_server import McpSettings, build_mcp_http_app
from memory_core import ApiKeys, MemoryCore, Scope
from tests.secret_shapes import CASE_IDS, CASES, SECRETS, carrying, leaked

from .conftest import error_of, http_client, serve_http, structured
from .test_http import INITIALIZE, JSON_RPC_HEADERS

pytestmark = pytest.mark.anyio


def _arguments(field: str, secret: str) -> dict[str, Any]:
    arguments: dict[str, Any] = {"text": "the staging deploy moved to Tuesdays"}
    if field == "tags":
        arguments["tags"] = ["ops", secret]
    elif field != "author":  # MCP takes the author from the caller: the key's name (below)
        arguments[field] = carrying(secret)
    return arguments


async def _everything(client: Client) -> str:
    hits = await client.call_tool("query_memories", {"question": "staging deploy Tuesdays", "limit": 20})
    tags = await client.call_tool("list_tags", {})
    return json.dumps([hits.structured_content, tags.structured_content])


@pytest.mark.parametrize(("field", "name"), CASES, ids=CASE_IDS)
async def test_mcp_refuses_or_redacts_a_secret_in_every_field(
    core: MemoryCore, field: str, name: str
) -> None:
    secret = SECRETS[name]
    key_name = carrying(secret) if field == "author" else "claude"
    key, _ = await ApiKeys(core).create("default", Scope.WRITE, name=key_name)
    app = build_mcp_http_app(core, ApiKeys(core)).starlette()
    async with serve_http(app) as base, http_client(f"{base}/mcp", key) as client:
        refused = error_of(await client.call_tool("store_memory", _arguments(field, secret)))
        assert refused.startswith("credential_detected: ") and not leaked(secret, refused)
        stored = structured(
            await client.call_tool("store_memory", {**_arguments(field, secret), "redact_secrets": True})
        )
        assert stored["created"] and stored["redacted"] and not leaked(secret, json.dumps(stored))
        assert not leaked(secret, await _everything(client))


@pytest.mark.parametrize(
    "arguments",
    [
        {"text": "\ud800"},
        {"text": "\x00"},
        {"text": "\u200b\u200f"},
        {"text": "ok", "title": "\x1b[31m"},
        {"text": "ok", "tags": ["a\x00"]},
    ],
)
async def test_bad_characters_and_numbers_are_a_clear_tool_error(
    client: Client, arguments: dict[str, Any]
) -> None:
    result = await client.call_tool("store_memory", arguments)
    assert result.is_error
    text = error_of(result)
    assert text.startswith("invalid_input: ") or "validation error" in text, text
    assert "internal error" not in text
    assert structured(await client.call_tool("get_statistics", {}))["memories"] == 0


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("store_memory", '{"text": "ok", "ttl_days": NaN}'),
        ("store_memory", '{"text": "ok", "ttl_days": Infinity}'),
        ("store_memory", '{"text": "ok", "supersedes": -Infinity}'),
        ("query_memories", '{"question": "ok", "limit": NaN}'),
        ("get_memory", '{"memory_id": 1e400}'),
        ("store_memory", '{"text": "\\ud800"}'),
    ],
)
async def test_raw_json_numbers_and_surrogates_over_http_are_clear_errors(
    core: MemoryCore, tool: str, arguments: str
) -> None:
    """What a hand-written client can send (the SDK's own client turns NaN into null before sending)."""
    key, _ = await ApiKeys(core).create("default", Scope.WRITE)
    settings = McpSettings(stateless=True, json_response=True)
    async with serve_http(build_mcp_http_app(core, ApiKeys(core), settings).starlette()) as base:
        body = (
            '{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "%s", "arguments": %s}}'
        )
        headers = {**JSON_RPC_HEADERS, "Authorization": f"Bearer {key}"}
        async with httpx2.AsyncClient(timeout=10) as http:
            answer = await http.post(f"{base}/mcp", content=body % (tool, arguments), headers=headers)
            again = await http.post(f"{base}/mcp", content=json.dumps(INITIALIZE), headers=headers)
    assert answer.status_code < 500 and again.status_code == 200, answer.text
    reply = answer.json()
    assert "error" in reply or reply["result"]["isError"] is True, reply
    assert "internal error" not in answer.text
    assert (await core.stats("default")).memories == 0


async def test_a_bad_question_is_a_clear_tool_error(client: Client) -> None:
    for question in ("\ud800", "\x00", "\u200f"):
        text = error_of(await client.call_tool("query_memories", {"question": question}))
        # The SDK's argument check may answer first (a lone surrogate is no string to pydantic).
        assert text.startswith("invalid_input: ") or "validation error" in text, text


async def test_mcp_over_http_is_rate_limited_per_key(core: MemoryCore) -> None:
    keys = ApiKeys(core)
    busy, _ = await keys.create("default", Scope.READ, name="busy")
    other, _ = await keys.create("default", Scope.READ, name="other")
    app = build_mcp_http_app(core, keys, McpSettings(rate_limit_per_minute=60, burst=3)).starlette()
    async with serve_http(app) as base, httpx2.AsyncClient(timeout=10) as http:

        async def post(key: str) -> httpx2.Response:
            headers = {**JSON_RPC_HEADERS, "Authorization": f"Bearer {key}"}
            return await http.post(f"{base}/mcp", content=json.dumps(INITIALIZE), headers=headers)

        codes = [(await post(busy)).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        limited = await post(busy)
        assert limited.json()["error"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
        assert (await post(other)).status_code == 200  # per key: the other key is not held back
