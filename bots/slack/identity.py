"""Who is asking on Slack: the tenant of a workspace, the Actor, and user names looked up once each."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from memory_core import Actor, InvalidInput, TenantMap, UnknownIdentity

__all__ = ["UserNames", "actor_for", "actor_id", "team_of", "tenant_for"]

logger = logging.getLogger(__name__)


def team_of(body: dict[str, Any]) -> tuple[str, str | None]:
    """(workspace id, Enterprise Grid org id or None) of a command, event or interaction payload."""
    team = body.get("team")
    team_id = team.get("id") if isinstance(team, dict) else body.get("team_id")
    user = body.get("user")
    if not team_id and isinstance(user, dict):
        team_id = user.get("team_id")  # org-wide installs send `team: null` in interactions
    enterprise = body.get("enterprise")
    enterprise_id = enterprise.get("id") if isinstance(enterprise, dict) else body.get("enterprise_id")
    if not team_id:
        raise InvalidInput("this request names no Slack workspace")
    return str(team_id), str(enterprise_id) if enterprise_id else None


def tenant_for(tenants: TenantMap, team_id: str, enterprise_id: str | None = None) -> str:
    """The tenant of a workspace; an Enterprise Grid org id may stand for all its workspaces.

    Raises UnknownIdentity (naming the workspace) when neither is mapped.
    """
    try:
        return tenants.resolve("slack", team_id)
    except UnknownIdentity:
        if enterprise_id is None:
            raise
    try:
        return tenants.resolve("slack", enterprise_id)
    except UnknownIdentity:
        raise UnknownIdentity(
            f"this Slack workspace ({team_id}) is not connected to any teamlore tenant"
        ) from None


def actor_id(team_id: str, user_id: str) -> str:
    """`slack:<team>:<user>`: the id stored as a memory's author and checked by /forget."""
    return f"slack:{team_id}:{user_id}"


def actor_for(team_id: str, user_id: str, name: str, admin_user_ids: Iterable[str] = ()) -> Actor:
    """The Actor of a Slack user; configured admins may forget anyone's memories."""
    return Actor(id=actor_id(team_id, user_id), name=name or user_id, is_admin=user_id in set(admin_user_ids))


class UserNames:
    """Slack usernames by user id, asked of `users.info` once per user (needs the users:read scope).

    Payloads of commands and clicks carry the name already; events and the author of a saved message
    carry only the id. The username is what commands show and what `from:@alice` matches, everywhere.
    When Slack will not say, the id stands in (and is not cached, so it is asked again next time).
    """

    def __init__(self, client: AsyncWebClient, *, max_entries: int = 10_000) -> None:
        self._client = client
        self._names: dict[str, str] = {}
        self._max_entries = max_entries

    def remember(self, user_id: str, name: str | None) -> None:
        if name and user_id:
            if len(self._names) >= self._max_entries:
                self._names.clear()
            self._names[user_id] = name

    async def name(self, user_id: str) -> str:
        if user_id in self._names:
            return self._names[user_id]
        try:
            response = await self._client.users_info(user=user_id)
        except Exception as error:  # best effort: a name is never worth failing a command for
            logger.warning("users.info failed for %s: %s", user_id, error)
            return user_id
        user = response.get("user") or {}
        name = str(user.get("name") or user.get("real_name") or user_id)
        self.remember(user_id, name)
        return name
