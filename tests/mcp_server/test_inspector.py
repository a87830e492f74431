"""The MCP Inspector CLI (npm @modelcontextprotocol/inspector) lists and calls our tools over both transports.

Found as $TEAMLORE_MCP_INSPECTOR, ./node_modules/.bin/mcp-inspector or `mcp-inspector` on PATH. In CI
(CI=true) a missing inspector fails the test; elsewhere the test is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from mcp_server import TOOL_NAMES, build_mcp_http_app
from memory_core import ApiKeys, Scope
from memory_core.testing import open_test_core

from .conftest import REPO, serve_http, stdio_parameters

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def inspector() -> str:
    candidates = [
        os.environ.get("TEAMLORE_MCP_INSPECTOR"),
        str(REPO / "node_modules" / ".bin" / "mcp-inspector"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    found = shutil.which("mcp-inspector")
    if found:
        return found
    message = "MCP Inspector not installed: npm install -g @modelcontextprotocol/inspector@1.0.3"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


async def run_inspector(*args: str) -> Any:
    """Run the inspector CLI and return its JSON output."""
    with anyio.fail_after(120):
        result = await anyio.run_process([inspector(), "--cli", *args], check=False)
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0, f"inspector failed:\n{out}\n{err}"
    return json.loads(out[out.index("{") :])


def stdio_target(data_dir: Path) -> list[str]:
    params = stdio_parameters(data_dir)
    env = [item for key, value in (params.env or {}).items() for item in ("-e", f"{key}={value}")]
    return [*env, sys.executable, *params.args]


async def test_inspector_over_stdio(tmp_path: Path) -> None:
    target = stdio_target(tmp_path / "data")
    listed = await run_inspector(*target, "--method", "tools/list")
    assert {tool["name"] for tool in listed["tools"]} == set(TOOL_NAMES)
    stored = await run_inspector(
        *target,
        "--method",
        "tools/call",
        "--tool-name",
        "store_memory",
        "--tool-arg",
        "text=The Inspector stored this over stdio",
        "--tool-arg",
        'tags=["inspector"]',
    )
    assert stored["isError"] is False and stored["structuredContent"]["created"] is True
    found = await run_inspector(
        *target,
        "--method",
        "tools/call",
        "--tool-name",
        "query_memories",
        "--tool-arg",
        "question=inspector stdio",
    )
    assert found["structuredContent"]["hits"][0]["id"] == stored["structuredContent"]["id"]


async def test_inspector_over_http_with_an_api_key(tmp_path: Path) -> None:
    async with open_test_core(tmp_path / "data") as core:
        key, _ = await ApiKeys(core).create("default", Scope.WRITE)
        async with serve_http(build_mcp_http_app(core, ApiKeys(core)).starlette()) as base:
            target = [f"{base}/mcp", "--transport", "http", "--header", f"Authorization: Bearer {key}"]
            listed = await run_inspector(*target, "--method", "tools/list")
            assert {tool["name"] for tool in listed["tools"]} == set(TOOL_NAMES)
            stored = await run_inspector(
                *target,
                "--method",
                "tools/call",
                "--tool-name",
                "store_memory",
                "--tool-arg",
                "text=The Inspector stored this over HTTP",
            )
            assert stored["structuredContent"]["created"] is True
            assert (await core.get("default", stored["structuredContent"]["id"])).source.value == "mcp"
            denied = await anyio.run_process(
                [inspector(), "--cli", f"{base}/mcp", "--transport", "http", "--method", "tools/list"],
                check=False,
            )
            assert denied.returncode != 0
