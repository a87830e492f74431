"""Request logging with request ids, Prometheus metrics per request, and the /metrics endpoint."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime, timedelta

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from memory_core import MemoryCore

from . import metrics
from .health import FrontendHealth
from .logconfig import new_request_id, request_id

__all__ = ["RequestLogMiddleware", "metrics_endpoint"]

logger = logging.getLogger("teamlore.http")

_NUMBER = re.compile(r"/\d+(?=/|$)")
_QUIET = ("/healthz", "/readyz", "/metrics")


def _frontend(path: str) -> str:
    if path.startswith("/slack"):
        return "slack"
    if path.startswith("/mcp"):
        return "mcp"
    if path.startswith("/api"):
        return "api"
    if path.startswith("/hooks"):
        return "webhooks"
    return "web"


class RequestLogMiddleware:
    """One log line and one metrics sample per HTTP request, tagged with a request id.

    Pure ASGI (not BaseHTTPMiddleware) so streamed responses — MCP's event streams — pass untouched.
    The id comes from `X-Request-ID` when the caller sends one, and is echoed back.
    """

    def __init__(self, app: ASGIApp, health: FrontendHealth | None = None) -> None:
        self.app = app
        self.health = health

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")[:64]
        rid = incoming if re.fullmatch(r"[\w.-]{1,64}", incoming or "") else new_request_id()
        token = request_id.set(rid)
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            path = scope.get("path", "")
            command = f"{scope.get('method', '')} {_NUMBER.sub('/{id}', path)}"
            frontend = _frontend(path)
            outcome = "ok" if status < 400 else "client_error" if status < 500 else "server_error"
            metrics.REQUESTS.labels(frontend=frontend, command=command, outcome=outcome).inc()
            metrics.REQUEST_SECONDS.labels(frontend=frontend, command=command).observe(elapsed)
            if self.health is not None and path not in _QUIET:  # probes are not a front-end's activity
                self.health.http_request(frontend, status, command)
            level = logging.DEBUG if path in _QUIET and status < 400 else logging.INFO
            logger.log(level, "%s %d %.1fms", command, status, elapsed * 1000)
            request_id.reset(token)


def metrics_endpoint(core: MemoryCore):  # type: ignore[no-untyped-def]
    """The /metrics handler: refreshes the per-tenant gauges from the core, then renders the registry."""

    async def handler(_request: Request) -> Response:
        # What the index had not applied yet is the lag; applying it now keeps the figures below true.
        metrics.INDEX_LAG.set(await core.sync())
        since = datetime.now(UTC) - timedelta(days=1)
        for tenant in await core.tenants():
            stats = await core.stats(tenant)
            metrics.MEMORIES.labels(tenant=tenant).set(stats.memories)
            metrics.INDEX_VECTORS.labels(tenant=tenant).set(stats.indexed_vectors)
            score = await core.latest_quality_score(tenant)
            if score is not None:
                metrics.QUALITY_SCORE.labels(tenant=tenant).set(score)
            metrics.INGEST_FAILURES.labels(tenant=tenant).set(
                await core.count_ingest_failures(tenant, since=since)
            )
        # Refused before a tenant was known (an unknown mail recipient, an unmapped GitHub repository);
        # "(none)" cannot be a tenant's name.
        metrics.INGEST_FAILURES.labels(tenant="(none)").set(
            await core.count_ingest_failures(None, since=since)
        )
        return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return handler
