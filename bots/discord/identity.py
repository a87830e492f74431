"""Who is asking on Discord: the tenant of a guild (or mapped DM), the Actor, and mention translation."""

from __future__ import annotations

import re
from collections.abc import Iterable

import discord

from memory_core import Actor, TenantMap, UnknownIdentity

from .errors import DirectMessageRefused

__all__ = ["actor_for", "author_filter", "tenant_for"]

_USER_MENTION = re.compile(r"<@!?(\d+)>")


def tenant_for(tenant_map: TenantMap, *, guild_id: int | None, channel_id: int | None, user_id: int) -> str:
    """The tenant of a guild; a direct message only when its channel id or the user id is mapped.

    Raises UnknownIdentity for a guild no tenant lists, DirectMessageRefused for an unmapped DM (even
    with the open, single-tenant map: a DM carries no guild that vouches for the person).
    """
    if guild_id is not None:
        return tenant_map.resolve("discord", str(guild_id))
    if not tenant_map.is_open:
        for identity in (channel_id, user_id):
            if identity is None:
                continue
            try:
                return tenant_map.resolve("discord", str(identity))
            except UnknownIdentity:
                continue
    raise DirectMessageRefused()


def actor_for(user: discord.User | discord.Member, admin_role_ids: Iterable[int] = ()) -> Actor:
    """`discord:<user id>`, the display name, and admin rights: Manage Messages in the guild or an admin role.

    Guild-level permission on purpose: a channel override granting Manage Messages in one channel
    should not let someone delete the whole team's memories.
    """
    is_admin = False
    if isinstance(user, discord.Member):
        admin_roles = set(admin_role_ids)
        is_admin = user.guild_permissions.manage_messages or any(
            role.id in admin_roles for role in user.roles
        )
    return Actor(id=f"discord:{user.id}", name=user.display_name, is_admin=is_admin)


def author_filter(value: str | None) -> str | None:
    """`from:@alice` stays a name; `from:<@123>` (a Discord mention) becomes the author id `discord:123`."""
    if value is None:
        return None
    match = _USER_MENTION.fullmatch(value.strip())
    return f"discord:{match.group(1)}" if match else value
