"""The real thing end to end, with the real model: `teamlore mcp` spawned by the SDK's stdio client, the
`teamlore` CLI and `teamlore serve` over one data directory, API keys made with `teamlore keys`.

Needs the lead's wiring (`teamlore mcp`, `teamlore keys`, /mcp on the web app): skipped until it exists,
except in CI, where a missing command fails.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from mcp_server import TOOL_NAMES
from tests.mcp_server.conftest import REPO, http_client, structured

pytestmark = [pytest.mark.anyio, pytest.mark.model, pytest.mark.slow]


def require_cli(*commands: str) -> None:
    from teamlore.cli import app

    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    names |= {g.name or "" for g in app.registered_groups}
    missing = [c for c in commands if c not in names]
    if missing:
        message = f"the teamlore CLI has no {', '.join(missing)} command yet"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def teamlore() -> list[str]:
    script = Path(sys.executable).parent / "teamlore"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "teamlore.cli"]


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """This environment without any TEAMLORE_* setting, plus the data directory: nothing leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEAMLORE_")}
    env.update(TEAMLORE_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", **extra)
    # The checkout first: an editable install made before a package existed can miss it.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return env


def cli(data_dir: Path, *args: str) -> Any:
    result = subprocess.run(
        [*teamlore(), *args, "--json"],
        env=environment(data_dir),
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def mcp_over_stdio(data_dir: Path) -> Client:
    return Client(
        StdioServerParameters(
            command=teamlore()[0],
            args=[*teamlore()[1:], "mcp", "--tenant", "default"],
            env=environment(data_dir),
            cwd=data_dir.parent,
        ),
        read_timeout_seconds=120,
    )


async def test_teamlore_mcp_and_the_cli_share_one_memory(tmp_path: Path) -> None:
    require_cli("mcp")
    data = tmp_path / "data"
    from_cli = cli(data, "store", "The staging database lives at db-staging.internal on port 5433.")["id"]
    async with mcp_over_stdio(data) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == set(TOOL_NAMES)
        hits = structured(
            await client.call_tool("query_memories", {"question": "where is the staging database?"})
        )
        assert hits["hits"][0]["id"] == from_cli
        stored = structured(
            await client.call_tool(
                "store_memory",
                {
                    "text": "Mobile releases are cut every second Wednesday; code freeze the Monday before.",
                    "tags": ["release"],
                },
            )
        )
        reflection = structured(await client.call_tool("generate_reflection", {"topic": "mobile releases"}))
        assert stored["id"] in reflection["sources"]
        structured(await client.call_tool("delete_memory", {"memory_id": from_cli}))
    found = cli(data, "query", "when do we stop merging before an app release?", "--kind", "note")
    assert found[0]["id"] == stored["id"]
    assert from_cli not in [hit["id"] for hit in cli(data, "query", "staging database host and port")]


@asynccontextmanager
async def teamlore_serve(data_dir: Path) -> AsyncIterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = environment(data_dir, TEAMLORE_HTTP__HOST="127.0.0.1", TEAMLORE_HTTP__PORT=str(port))
    process = await anyio.open_process(
        [*teamlore(), "serve", "--only", "web"],
        env=env,
        cwd=data_dir.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx2.AsyncClient(timeout=2) as http:
            with anyio.fail_after(180):
                while True:
                    try:
                        if (await http.get(f"{base}/readyz")).status_code == 200:
                            break
                    except httpx2.TransportError:
                        pass
                    await anyio.sleep(0.5)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        with anyio.move_on_after(30):
            await process.wait()
        if process.returncode is None:
            process.kill()
        await process.aclose()


async def test_teamlore_serve_answers_mcp_with_keys_from_teamlore_keys(tmp_path: Path) -> None:
    require_cli("mcp", "keys")
    data = tmp_path / "data"
    cli(data, "store", "The VPN moved to vpn2.corp.example.com on March 3rd.")
    acme = cli(data, "keys", "create", "--tenant", "acme", "--scope", "read")
    default = cli(data, "keys", "create", "--tenant", "default", "--scope", "write")
    async with teamlore_serve(data) as base:
        async with httpx2.AsyncClient(timeout=10) as http:
            assert (await http.post(f"{base}/mcp", json={})).status_code == 401
        async with http_client(f"{base}/mcp", default["key"]) as client:
            hits = structured(
                await client.call_tool("query_memories", {"question": "new VPN server address"})
            )
            assert hits["hits"] and "vpn2" in hits["hits"][0]["text"]
            stored = structured(
                await client.call_tool("store_memory", {"text": "Grafana is at grafana.corp."})
            )
        async with http_client(f"{base}/mcp", acme["key"]) as client:
            none = structured(
                await client.call_tool("query_memories", {"question": "new VPN server address"})
            )
            assert none["hits"] == []
    assert cli(data, "get", str(stored["id"]))["text"] == "Grafana is at grafana.corp."
