"""MCP over streamable HTTP behind bearer API keys: an ASGI app the web server routes at /mcp."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.authentication import AuthCredentials
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from memory_core import ApiKeyInfo, ApiKeys, MemoryCore, RateLimiter, Unavailable, UnknownIdentity

from .caller import CALLER_STATE_KEY, Caller
from .config import McpSettings
from .server import build_server

__all__ = ["McpHttpApp", "build_mcp_http_app"]

logger = logging.getLogger(__name__)


class McpHttpApp:
    """ASGI app serving MCP streamable HTTP; every request needs `Authorization: Bearer <API key>`.

    The key is checked on every request (a revoked key stops working at once) and decides the
    tenant and the scope of every tool call made with it; an MCP session only answers the key that
    opened it. Serve it at one path with `routes()` (exact `/mcp`, no redirect) and enter
    `lifespan()` once around the server's life; or run `starlette()` on its own.
    """

    def __init__(self, core: MemoryCore, keys: ApiKeys, settings: McpSettings | None = None) -> None:
        self.settings = settings or McpSettings()
        self._keys = keys
        self._limiter = RateLimiter(self.settings.rate_limit_per_minute, self.settings.burst)
        server = build_server(core, local_caller=None, settings=self.settings)
        # Called for its side effect: it creates the server's session manager (the returned app is unused).
        server.streamable_http_app(
            stateless_http=self.settings.stateless,
            json_response=self.settings.json_response,
            session_idle_timeout=None if self.settings.stateless else self.settings.session_idle_timeout,
            max_sessions=self.settings.max_sessions,
            transport_security=TransportSecuritySettings(
                enable_dns_rebinding_protection=bool(self.settings.allowed_hosts),
                allowed_hosts=list(self.settings.allowed_hosts),
                allowed_origins=list(self.settings.allowed_origins),
            ),
        )
        self._manager: StreamableHTTPSessionManager = server.session_manager

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Run the MCP session manager; enter once, in the web app's lifespan."""
        async with self._manager.run():
            yield

    def routes(self, path: str = "/mcp") -> list[BaseRoute]:
        """Routes for the web app: exactly `path` (what clients are given) and anything below it."""
        return [Route(path, endpoint=self), Mount(path, app=self)]

    def starlette(self, path: str = "/mcp") -> Starlette:
        """A standalone app serving only MCP at `path` (tests, or a dedicated MCP process)."""

        @asynccontextmanager
        async def lifespan(_app: Starlette) -> AsyncIterator[None]:
            async with self.lifespan():
                yield

        return Starlette(routes=self.routes(path), lifespan=lifespan)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        token = _bearer(scope)
        if token is None:
            logger.info("refused an MCP request without a bearer API key")
            await _refuse(send, 401, "invalid_token", "send Authorization: Bearer <teamlore API key>")
            return
        try:
            key = await self._keys.authenticate(token)
        except UnknownIdentity as exc:
            logger.info("refused an MCP request: %s", exc)
            await _refuse(send, 401, "invalid_token", str(exc))
            return
        except Unavailable:
            await _refuse(send, 503, "temporarily_unavailable", "the memory database is busy; retry shortly")
            return
        wait = self._limiter.take(key.id)
        if wait > 0:  # per key, like REST: a client looping over tools cannot starve the others
            seconds = max(1, math.ceil(wait))
            logger.info("refused an MCP request: key %s over its rate limit", key.prefix)
            await _refuse(send, 429, "rate_limited", f"too many requests; retry in {seconds} s", seconds)
            return
        await self._manager.handle_request(_authenticated(scope, key), receive, send)


def build_mcp_http_app(core: MemoryCore, keys: ApiKeys, settings: McpSettings | None = None) -> McpHttpApp:
    """The MCP streamable-HTTP endpoint over `core`, authenticated by `keys` (see McpHttpApp)."""
    return McpHttpApp(core, keys, settings)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            kind, _, credential = bytes(value).decode("latin-1").partition(" ")
            if kind.lower() == "bearer" and credential.strip():
                return credential.strip()
            return None
    return None


def _authenticated(scope: Scope, key: ApiKeyInfo) -> Scope:
    """The request's scope with the key's caller in its state, and the SDK's user (session ownership)."""
    access = AccessToken(token=key.prefix, client_id=f"teamlore-key-{key.id}", scopes=[key.scope.value])
    state = dict(scope.get("state") or {})
    state[CALLER_STATE_KEY] = Caller.from_key(key)
    return {
        **scope,
        "state": state,
        "user": AuthenticatedUser(access),
        "auth": AuthCredentials([key.scope.value]),
    }


async def _refuse(send: Send, status: int, error: str, description: str, retry_after: int = 5) -> None:
    body = json.dumps({"error": error, "error_description": description}).encode()
    challenge = f'Bearer realm="teamlore", error="{error}"'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", challenge.encode()))
    else:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
