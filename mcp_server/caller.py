"""Who is calling a tool: tenant, scope and actor, from the API key (HTTP) or the command line (stdio)."""

from __future__ import annotations

import getpass
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from memory_core import Actor, ApiKeyInfo, PermissionDenied, Scope, require_scope

__all__ = ["CALLER_STATE_KEY", "Caller", "CallerMiddleware", "caller_tenant", "current_caller"]

CALLER_STATE_KEY = "teamlore_caller"
"""Key under the ASGI scope's "state" where the HTTP auth layer leaves the Caller of a request."""


@dataclass(frozen=True)
class Caller:
    """The tenant is always the credential's, never a tool argument."""

    tenant: str
    scope: Scope
    actor: Actor

    @classmethod
    def local(cls, tenant: str) -> Caller:
        """stdio: whoever can start the server can open the database, so they act as admin."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "local"
        return cls(tenant, Scope.ADMIN, Actor(id=f"mcp:local:{user}", name=user, is_admin=True))

    @classmethod
    def from_key(cls, key: ApiKeyInfo) -> Caller:
        """The key's own actor, as in the REST API: what a key stored, the same key may delete anywhere."""
        return cls(key.tenant, key.scope, key.actor)

    def require(self, needed: Scope, action: str) -> None:
        """Raise PermissionDenied, saying what would work, when the scope does not cover `action`."""
        require_scope(self.scope, needed, action)


_current: ContextVar[Caller | None] = ContextVar("teamlore_mcp_caller", default=None)


def caller_tenant() -> str:
    """The tenant of the message being handled, for log lines ("-" when there is no caller)."""
    caller = _current.get()
    return caller.tenant if caller is not None else "-"


def current_caller() -> Caller:
    """The caller of the message being handled. Raises PermissionDenied outside an authenticated call."""
    caller = _current.get()
    if caller is None:
        raise PermissionDenied("no credentials: send Authorization: Bearer <teamlore API key>")
    return caller


def _from_request(request: Any) -> Caller | None:
    scope = getattr(request, "scope", None)
    state = scope.get("state") if isinstance(scope, dict) else None
    caller = state.get(CALLER_STATE_KEY) if isinstance(state, dict) else None
    return caller if isinstance(caller, Caller) else None


class CallerMiddleware:
    """Makes the caller of each inbound message available to tools and resources (a context variable).

    Over HTTP the caller comes from the request the message arrived on, so each message is judged by
    the key it was sent with; over stdio (no request) it is the fixed local caller, if any.
    """

    def __init__(self, local: Caller | None) -> None:
        self._local = local

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        caller = _from_request(ctx.request) if ctx.request is not None else self._local
        token = _current.set(caller)
        try:
            return await call_next(ctx)
        finally:
            _current.reset(token)
