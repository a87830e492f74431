"""MCP over stdio: the SDK's client spawns `python -m mcp_server` as a real subprocess."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client

from mcp_server import TOOL_NAMES, stdio
from memory_core import MemoryCore

from .conftest import REPO, error_of, stdio_parameters, structured

pytestmark = pytest.mark.anyio


async def test_list_store_query_delete_over_stdio(tmp_path: Path) -> None:
    async with Client(stdio_parameters(tmp_path / "data", tenant="acme")) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == set(TOOL_NAMES)
        stored = structured(
            await client.call_tool(
                "store_memory",
                {
                    "text": "Code reviews need two approvals, one from a code owner.",
                    "tags": ["review"],
                },
            )
        )
        hits = structured(
            await client.call_tool("query_memories", {"question": "how many approvals for review"})
        )
        assert [h["id"] for h in hits["hits"]] == [stored["id"]]
        assert hits["hits"][0]["source"] == "mcp"
        structured(await client.call_tool("delete_memory", {"memory_id": stored["id"]}))
        after = structured(
            await client.call_tool("query_memories", {"question": "how many approvals for review"})
        )
        assert after["hits"] == []
        assert error_of(await client.call_tool("get_memory", {"memory_id": stored["id"]})).startswith(
            "not_found"
        )


async def test_reflect_over_stdio(tmp_path: Path) -> None:
    async with Client(stdio_parameters(tmp_path / "data")) as client:
        for text in ("The VPN moved to vpn2.corp.", "VPN clients need version 5.2 for vpn2.corp."):
            structured(await client.call_tool("store_memory", {"text": text, "tags": ["vpn"]}))
        reflection = structured(await client.call_tool("generate_reflection", {"topic": "VPN"}))
        assert reflection["summary"] and len(reflection["sources"]) == 2


async def test_stdout_carries_only_protocol_and_logs_go_to_stderr(tmp_path: Path) -> None:
    params = stdio_parameters(tmp_path / "data")
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "store_memory", "arguments": {"text": "raw stdio works"}},
        },
    ]
    stdin = "".join(json.dumps(r) + "\n" for r in requests).encode()
    env = {**params.env} if params.env else {}
    with anyio.fail_after(60):
        process = await anyio.open_process(
            [sys.executable, *params.args],
            cwd=REPO,
            env={**_base_env(), **env},
        )
        async with process:
            assert process.stdin is not None and process.stdout is not None and process.stderr is not None
            await process.stdin.send(stdin)
            out = b""
            while out.count(b"\n") < 2:
                out += await process.stdout.receive()
            await process.stdin.aclose()
            await process.wait()
            out += b"".join([chunk async for chunk in process.stdout])
            err = b"".join([chunk async for chunk in process.stderr])
    lines = out.decode().splitlines()
    messages = [json.loads(line) for line in lines]  # every stdout line is a JSON-RPC message
    assert all(m["jsonrpc"] == "2.0" for m in messages)
    assert messages[0]["result"]["serverInfo"]["name"] == "teamlore"
    assert messages[1]["result"]["structuredContent"]["created"] is True
    assert b"serving MCP over stdio for tenant default" in err
    assert b"mcp store_memory tenant=default -> ok" in err


def _base_env() -> dict[str, str]:
    from mcp.client.stdio import get_default_environment

    return get_default_environment()


async def test_background_work_runs_beside_a_stdio_session(
    core: MemoryCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []

    class Session:
        async def run_stdio_async(self) -> None:
            await anyio.sleep(0.05)  # the background task has started by now
            seen.append(core.background_running)
            await core.query("default", "anything")  # a call while it runs: its log is written by it

    monkeypatch.setattr(stdio, "build_server", lambda *args, **kwargs: Session())
    with anyio.fail_after(10):
        await stdio.run_stdio(core, "default")
    assert seen == [True]
    assert not core.background_running  # stopped with the session
