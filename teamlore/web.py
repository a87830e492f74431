"""The web app (one ASGI app): health and readiness, and the mount points front-ends plug into."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from memory_core import MemoryCore

__all__ = ["Mount", "create_app"]

logger = logging.getLogger(__name__)

Mount = tuple[str, ASGIApp]
LifespanHook = Callable[[], AbstractAsyncContextManager[object]]


def create_app(
    core: MemoryCore,
    *,
    routes: Sequence[BaseRoute] = (),
    mounts: Sequence[Mount] = (),
    lifespans: Sequence[LifespanHook] = (),
    title: str = "teamlore",
) -> FastAPI:
    """Build the app. Front-ends add routes (Slack), mounts (MCP) and lifespans (MCP's session manager)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for hook in lifespans:
                await stack.enter_async_context(hook())
            yield

    app = FastAPI(title=title, lifespan=lifespan, docs_url="/api/docs", openapi_url="/api/v1/openapi.json")

    @app.get("/healthz", tags=["health"], summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Readiness: database reachable, index in step, model loaded")
    async def readyz() -> JSONResponse:
        checks = await core.health()
        return JSONResponse(checks, status_code=200 if checks["ready"] else 503)

    for route in routes:
        app.router.routes.append(route)
    for path, asgi in mounts:
        app.mount(path, asgi)
    return app
