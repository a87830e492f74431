"""MCP test helpers: an in-process SDK client, a real uvicorn server on 127.0.0.1, subprocess parameters."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult
from starlette.types import ASGIApp

from mcp_server import Caller, build_server
from memory_core import MemoryCore, Scope

REPO = Path(__file__).resolve().parents[2]


def structured(result: CallToolResult) -> dict[str, Any]:
    """The structured result of a successful tool call (fails the test with the error text otherwise)."""
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def error_of(result: CallToolResult) -> str:
    """The text of a tool error."""
    assert result.is_error, result.structured_content
    return "".join(getattr(block, "text", "") for block in result.content)


@asynccontextmanager
async def local_client(
    core: MemoryCore, tenant: str = "default", scope: Scope = Scope.ADMIN
) -> AsyncIterator[Client]:
    """The SDK client connected in-process to a server whose every call comes from one local caller."""
    caller = Caller.local(tenant)
    caller = Caller(tenant, scope, caller.actor.model_copy(update={"is_admin": scope is Scope.ADMIN}))
    async with Client(build_server(core, local_caller=caller)) as client:
        yield client


@pytest.fixture
async def client(core: MemoryCore) -> AsyncIterator[Client]:
    async with local_client(core) as connected:
        yield connected


@asynccontextmanager
async def serve_http(app: ASGIApp) -> AsyncIterator[str]:
    """Run `app` under uvicorn on an ephemeral 127.0.0.1 port in this event loop; yield its base URL.

    The server is always shut down gracefully (lifespan exit included), even when the body fails.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="on", log_level="warning", access_log=False, timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    stopped = anyio.Event()

    async def run() -> None:
        try:
            await server.serve([sock])
        finally:
            stopped.set()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            with anyio.fail_after(10):
                while not server.started:  # noqa: ASYNC110 - uvicorn offers only this flag
                    await anyio.sleep(0.02)
            try:
                yield f"http://127.0.0.1:{port}"
            finally:
                server.should_exit = True
                with anyio.CancelScope(shield=True), anyio.move_on_after(10):
                    await stopped.wait()
    finally:
        sock.close()


def raised(error: BaseException, kind: type[BaseException]) -> bool:
    """Whether `error` is, or holds (exception groups, causes), an exception of type `kind`."""
    if isinstance(error, kind):
        return True
    inner: list[BaseException] = list(getattr(error, "exceptions", ()))
    inner += [e for e in (error.__cause__, error.__context__) if e is not None]
    return any(raised(e, kind) for e in inner)


@asynccontextmanager
async def http_client(url: str, key: str | None, *, mode: str = "auto") -> AsyncIterator[Client]:
    """The SDK client over streamable HTTP, sending `key` as the bearer token."""
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=60)) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=mode) as connected:  # type: ignore[arg-type]
            yield connected


def stdio_parameters(data_dir: Path, tenant: str = "default") -> StdioServerParameters:
    """`python -m mcp_server` over `data_dir` with the hashing embedder, chosen by name."""
    return StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "mcp_server",
            "--data-dir",
            str(data_dir),
            "--tenant",
            tenant,
            "--embedding-model",
            "test-hashing",
        ],
        env={
            "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        },
        cwd=REPO,
    )
