"""The web app (one ASGI app): health, readiness, metrics, the REST API, and front-ends' mount points."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from memory_core import ApiKeys, MemoryCore

from .api import build_api, install_error_handlers, install_rate_limit_handler
from .health import FrontendHealth
from .observability import RequestLogMiddleware, metrics_endpoint
from .settings import ApiSettings

__all__ = ["LifespanHook", "Mount", "create_app"]

logger = logging.getLogger(__name__)

Mount = tuple[str, ASGIApp]
LifespanHook = Callable[[], AbstractAsyncContextManager[object]]


def create_app(
    core: MemoryCore,
    *,
    api: ApiSettings | None = None,
    routes: Sequence[BaseRoute] = (),
    mounts: Sequence[Mount] = (),
    lifespans: Sequence[LifespanHook] = (),
    title: str = "teamlore",
    health: FrontendHealth | None = None,
) -> FastAPI:
    """Build the app. Front-ends add routes (Slack), mounts (MCP) and lifespans (MCP's session manager);
    `health` (the runtime's) adds each enabled front-end's state to /readyz."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for hook in lifespans:
                await stack.enter_async_context(hook())
            yield

    app = FastAPI(
        title=title,
        summary="A team's shared memory: store, query and reflect.",
        version="1",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    install_error_handlers(app)
    install_rate_limit_handler(app)

    @app.get("/healthz", tags=["health"], summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Readiness: database reachable, index in step, model loaded")
    async def readyz() -> JSONResponse:
        checks = await core.health()
        if health is not None:
            # Shown, not counted in `ready`: a Discord gateway reconnecting does not make HTTP unready.
            checks["frontends"] = health.snapshot()
        return JSONResponse(checks, status_code=200 if checks["ready"] else 503)

    app.router.routes.append(
        Route("/metrics", metrics_endpoint(core), methods=["GET"], include_in_schema=False)
    )
    app.include_router(build_api(core, ApiKeys(core), api or ApiSettings()))
    for route in routes:
        app.router.routes.append(route)
    # A mount at "/" (the web app) takes every path: it goes last, after every other route and mount.
    for path, asgi in sorted(mounts, key=lambda mount: mount[0].rstrip("/") == ""):
        app.mount(path, asgi)
    app.add_middleware(RequestLogMiddleware, health=health)
    return app
