"""Settings of the MCP front-end, as a plain model the composition root fills (TEAMLORE_MCP__*)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["McpSettings"]


class McpSettings(BaseModel):
    """How MCP is served over streamable HTTP at /mcp (stdio needs no settings)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stateless: bool = Field(
        False,
        description="Serve every HTTP request on its own, without MCP sessions: use behind a load balancer "
        "that does not pin a client to one replica.",
    )
    json_response: bool = Field(
        False, description="Answer POST requests with one JSON body instead of an event stream."
    )
    allowed_hosts: tuple[str, ...] = Field(
        (),
        description='Host headers accepted at /mcp (DNS-rebinding protection), e.g. ["lore.acme.com", '
        '"127.0.0.1:*"]. Empty: any host (every request needs an API key anyway).',
    )
    allowed_origins: tuple[str, ...] = Field(
        (),
        description="Origin headers accepted when allowed_hosts is set, e.g. "
        '["https://lore.acme.com"]. Requests without an Origin header are always accepted.',
    )
    session_idle_timeout: float = Field(
        1800, gt=0, description="Seconds without a request after which an MCP session is closed."
    )
    max_sessions: int = Field(1000, ge=1, description="Most MCP sessions open at once; more get 503.")
    rate_limit_per_minute: int = Field(
        240,
        ge=1,
        description="HTTP requests one API key may make to /mcp per minute (per process); more get 429.",
    )
    burst: int = Field(
        60, ge=1, description="Requests one API key may make to /mcp at once before the rate applies."
    )
    recent_limit: int = Field(
        20, ge=1, le=200, description="How many memories the memory://recent resource lists."
    )
