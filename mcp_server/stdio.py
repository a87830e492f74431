"""MCP over stdio: the client starts us; stdout carries only the protocol, logs go to stderr."""

from __future__ import annotations

import logging

import anyio

from memory_core import MemoryCore, check_tenant

from .caller import Caller
from .config import McpSettings
from .server import build_server

__all__ = ["run_stdio"]

logger = logging.getLogger(__name__)


async def run_stdio(core: MemoryCore, tenant: str, *, settings: McpSettings | None = None) -> None:
    """Serve MCP on stdin/stdout for `tenant` until the client closes stdin.

    The local user acts as an admin of `tenant`: whoever can start this process can open the
    database anyway. While serving, the SDK points file descriptor 1 at stderr, so a stray print
    cannot corrupt the protocol. The core's background work (query log, index catch-up, snapshots) runs
    beside the session, as in `teamlore serve`, so no tool call waits for it.
    """
    check_tenant(tenant)
    server = build_server(core, local_caller=Caller.local(tenant), settings=settings)
    logger.info("serving MCP over stdio for tenant %s", tenant)
    async with anyio.create_task_group() as tg:
        if not core.background_running:
            tg.start_soon(core.run_background)
        await server.run_stdio_async()
        tg.cancel_scope.cancel()  # the client is gone: stop the background work (it flushes first)
    logger.info("MCP stdio client disconnected")
