"""A teamlore bot wired to dpytest's fake Discord, and a recorder of what it sends back to Discord."""

from __future__ import annotations

import asyncio
import itertools
import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

with warnings.catch_warnings():
    # discord.py imports the stdlib audioop for voice (deprecated in 3.11); teamlore uses no voice.
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord

import discord.ext.test as dpytest
from discord.ext.test import backend, factories
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

from bots.discord import DiscordSettings, TeamloreBot, create_bot
from memory_core import MemoryCore, TenantMap

APPLICATION_ID = 424242424242424242
MANAGE_MESSAGES = discord.Permissions(manage_messages=True).value
_ids = itertools.count(900_000_000_000_000_001)


@dataclass
class RecordingAdapter(AsyncWebhookAdapter):
    """Discord's HTTP API for interaction responses and follow-ups, replaced at the boundary."""

    calls: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    async def request(self, route: Any, session: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        payload = kwargs.get("payload")
        self.calls.append((route.method, route.url, payload))
        if route.url.endswith("/callback"):
            return {
                "interaction": {"id": str(route.webhook_id), "type": 2},
                "resource": {"type": payload["type"]},
            }
        if route.method == "POST":
            return _webhook_message(payload or {})
        return None

    @property
    def responses(self) -> list[dict[str, Any]]:
        """The message payloads sent (the `data` of a callback, or a follow-up), in order."""
        out = []
        for method, url, payload in self.calls:
            if url.endswith("/callback") and payload and payload["type"] == 4:
                out.append(payload["data"])
            elif method == "POST" and "/webhooks/" in url and payload is not None:
                out.append(payload)
        return out


def _webhook_message(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(next(_ids)),
        "channel_id": "1",
        "type": 0,
        "content": payload.get("content") or "",
        "author": {"id": str(APPLICATION_ID), "username": "teamlore", "discriminator": "0", "avatar": None},
        "embeds": payload.get("embeds") or [],
        "attachments": [],
        "mentions": [],
        "mention_roles": [],
        "pinned": False,
        "mention_everyone": False,
        "tts": False,
        "timestamp": "2026-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "flags": payload.get("flags", 0),
        "webhook_id": str(APPLICATION_ID),
    }


@dataclass
class Harness:
    bot: TeamloreBot
    core: MemoryCore
    sent: list[dict[str, Any]]  # payloads of channel messages the bot sent (allowed_mentions included)
    adapter: RecordingAdapter

    @property
    def guild(self) -> discord.Guild:
        return dpytest.get_config().guilds[0]

    @property
    def channel(self) -> discord.TextChannel:
        return dpytest.get_config().channels[0]  # type: ignore[return-value]

    def member(self, index: int) -> discord.Member:
        return dpytest.get_config().members[index]

    async def say(self, content: str, member: int = 0, channel: Any = None) -> discord.Message:
        return await dpytest.message(content, channel=channel or self.channel, member=self.member(member))

    def reply(self) -> discord.Message:
        return dpytest.get_message()

    async def make_moderator(self, index: int) -> None:
        role = backend.make_role("moderators", self.guild, permissions=MANAGE_MESSAGES)
        await dpytest.add_role(self.member(index), role)

    def interaction(
        self, member: discord.Member, data: dict[str, Any], *, guild: bool = True
    ) -> discord.Interaction:
        """An interaction as the gateway delivers it for `member` in the test channel."""
        channel = self.channel
        payload: dict[str, Any] = {
            "id": str(next(_ids)),
            "application_id": str(APPLICATION_ID),
            "type": 2,
            "token": "interaction-token",
            "version": 1,
            "channel_id": str(channel.id),
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 8 * 1024 * 1024,
            "data": data,
        }
        if guild:
            payload |= {
                "guild_id": str(self.guild.id),
                "guild_locale": "en-US",
                "context": 0,
                "authorizing_integration_owners": {"0": str(self.guild.id)},
                "channel": {
                    "id": str(channel.id),
                    "type": 0,
                    "guild_id": str(self.guild.id),
                    "name": channel.name,
                },
                "app_permissions": str(discord.Permissions.text().value),
                "member": {
                    "user": factories.dict_from_user(member._user),
                    "roles": [str(role.id) for role in member.roles if not role.is_default()],
                    "joined_at": "2025-01-01T00:00:00+00:00",
                    "deaf": False,
                    "mute": False,
                    "flags": 0,
                    "nick": member.nick,
                    "permissions": str(channel.permissions_for(member).value),
                },
            }
        else:
            payload |= {
                "context": 1,
                "channel": {
                    "id": str(channel.id),
                    "type": 1,
                    "recipients": [factories.dict_from_user(member._user)],
                },
                "user": factories.dict_from_user(member._user),
            }
        return discord.Interaction(data=payload, state=self.bot._connection)  # type: ignore[arg-type]

    async def slash(self, member: int, name: str, *, guild: bool = True, **options: Any) -> dict[str, Any]:
        """Run `/name option=value ...` through the command tree; return the last message sent back."""
        kinds = {str: 3, int: 4, bool: 5}
        data: dict[str, Any] = {"id": str(next(_ids)), "name": name, "type": 1, "options": []}
        resolved: dict[str, Any] = {}
        for key, value in options.items():
            if isinstance(value, discord.Member):
                data["options"].append({"name": key, "type": 6, "value": str(value.id)})
                resolved.setdefault("users", {})[str(value.id)] = factories.dict_from_user(value._user)
            else:
                data["options"].append({"name": key, "type": kinds[type(value)], "value": value})
        if resolved:
            data["resolved"] = resolved
        async_context.set(self.adapter)
        await self.bot.tree._call(self.interaction(self.member(member), data, guild=guild))
        return self.adapter.responses[-1]

    async def save_menu(self, member: int, message: discord.Message) -> dict[str, Any]:
        """Right-click > Apps > Save to teamlore on `message`."""
        data = {
            "id": str(next(_ids)),
            "name": "Save to teamlore",
            "type": 3,
            "target_id": str(message.id),
            "resolved": {"messages": {str(message.id): _message_payload(message)}},
        }
        async_context.set(self.adapter)
        await self.bot.tree._call(self.interaction(self.member(member), data))
        return self.adapter.responses[-1]


def _message_payload(message: discord.Message) -> dict[str, Any]:
    """The message as Discord resolves it inside an interaction (dpytest's dict lacks the channel)."""
    payload = factories.dict_from_message(message)
    payload["channel_id"] = str(message.channel.id)
    if message.guild is not None:
        payload["guild_id"] = str(message.guild.id)
    return payload


MakeHarness = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def make_harness(core: MemoryCore) -> AsyncIterator[MakeHarness]:
    """Build a bot with given settings and tenant map, configured into dpytest's fake Discord."""

    async def make(
        settings: DiscordSettings | None = None,
        tenant_map: TenantMap | None = None,
        members: tuple[str, ...] = ("alice", "bob", "carol"),
    ) -> Harness:
        # dpytest keeps its fake members only in a member cache, which needs the members intent; the
        # real bot does without (each message and interaction carries its member).
        intents = discord.Intents.default()
        intents.message_content = intents.members = True
        settings = settings or DiscordSettings(sync_commands=False)
        bot = create_bot(core, settings, tenant_map or TenantMap(), intents=intents)
        bot._connection.application_id = APPLICATION_ID
        await bot._async_setup_hook()
        await bot.setup_hook()
        dpytest.configure(bot, members=list(members))
        bot._connection.loop = (
            asyncio.get_running_loop()
        )  # dpytest's fake state forgets it (`typing()` needs it)
        # The Cog answers its errors itself; dpytest's hook would re-raise them inside the test.
        del bot.on_command_error
        # Nobody may be a moderator by default (dpytest's @everyone role has no Manage Messages).
        assert not dpytest.get_config().guilds[0].default_role.permissions.manage_messages
        sent: list[dict[str, Any]] = []
        original = bot.http.send_message

        async def recording_send(channel_id: int, *, params: Any) -> Any:
            channel = sys._getframe(1).f_locals.get("channel")  # noqa: F841  dpytest reads it from our frame
            sent.append(params.payload)
            return await original(channel_id, params=params)

        bot.http.send_message = recording_send  # type: ignore[method-assign]
        return Harness(bot, core, sent, RecordingAdapter())

    yield make
    await dpytest.empty_queue()


@pytest.fixture
async def harness(make_harness: MakeHarness) -> Harness:
    return await make_harness()
