"""From a Slack payload to a reply: who asks, in which tenant, what they typed, and the core call.

Nothing here talks HTTP or acknowledges anything: `app.py` acknowledges first, then calls these, then
delivers what they return. Each method answers with a reply (never raises for a failed command):
parse errors, an unmapped workspace and Web API refusals become an ErrorReply through `errors.py`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from memory_core import Actor, InvalidInput, Memory, MemoryCore, Source, TenantMap

from ..commands import execute
from ..grammar import COMMAND_NAMES, StoreCommand, command_name, parse, parse_command
from ..replies import ErrorReply, Reply
from .blocks import Message, SharedAnswer, shared_message
from .config import SlackSettings
from .errors import NothingToSave, reply_for
from .identity import UserNames, actor_for, actor_id, team_of, tenant_for
from .text import slack_to_plain

__all__ = ["Handlers", "archive_link"]

logger = logging.getLogger(__name__)

_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s,:]*")
_COMMAND_WORDS = frozenset((*COMMAND_NAMES, "lore"))


def archive_link(domain: str | None, channel_id: str | None, ts: str | None = None) -> str | None:
    """`https://acme.slack.com/archives/C1[/p1700000000123456]`: a channel or message link built locally.

    Used for slash commands (they are not messages, so the channel is the way back) and when
    chat.getPermalink is refused (e.g. a private channel the bot is not in).
    """
    if not domain or not channel_id or not re.fullmatch(r"[A-Za-z0-9-]+", domain):
        return None
    link = f"https://{domain}.slack.com/archives/{channel_id}"
    return f"{link}/p{ts.replace('.', '')}" if ts else link


def _message_time(ts: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(ts), tz=UTC) if ts else None
    except (ValueError, OverflowError):
        return None


class Handlers:
    """The Slack entry points: slash commands, the message shortcut, mentions and the Share button."""

    def __init__(
        self,
        core: MemoryCore,
        tenants: TenantMap,
        settings: SlackSettings,
        client: AsyncWebClient,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._core = core
        self._tenants = tenants
        self._settings = settings
        self._client = client
        self._names = UserNames(client)
        self._clock = clock

    def _caller(self, body: dict[str, Any], user_id: str, name: str) -> tuple[str, str, Actor]:
        team_id, enterprise_id = team_of(body)
        tenant = tenant_for(self._tenants, team_id, enterprise_id)
        self._names.remember(user_id, name)
        return team_id, tenant, actor_for(team_id, user_id, name, self._settings.admin_user_ids)

    async def command(self, name: str, body: dict[str, Any]) -> Reply:
        """A slash command: `name` is the grammar's (store, query, reflect, forget, or lore)."""
        text = slack_to_plain(str(body.get("text", "")))
        action = command_name(f"{name} {text}")
        try:
            _, tenant, actor = self._caller(body, str(body["user_id"]), str(body.get("user_name", "")))
            command = parse_command(name, text, now=self._clock())
        except Exception as error:  # the chat boundary: every failure becomes a reply
            return reply_for(error, action=action)
        link = archive_link(body.get("team_domain"), body.get("channel_id"))
        return await execute(
            self._core, tenant, actor, command, source=Source.SLACK, errors=reply_for, source_ref=link
        )

    async def save(self, body: dict[str, Any]) -> Reply:
        """The "Save to teamlore" message shortcut: store someone's message with its author and permalink."""
        try:
            user = body["user"]
            name = user.get("username") or user.get("name", "")
            team_id, tenant, actor = self._caller(body, user["id"], name)
            message = body["message"]
            text = slack_to_plain(str(message.get("text") or "")).strip()
            if not text:
                raise NothingToSave()
            author = await self._author(team_id, message)
            link = await self.permalink(body, str(message["ts"]))
        except Exception as error:  # the chat boundary
            return reply_for(error, action="store")
        when = _message_time(message.get("ts"))
        return await execute(
            self._core,
            tenant,
            actor,
            StoreCommand(text),
            source=Source.SLACK,
            errors=reply_for,
            source_ref=link,
            now=when,
            author=author,
        )

    async def _author(self, team_id: str, message: dict[str, Any]) -> Actor:
        user_id = message.get("user")
        if user_id:
            return Actor(id=actor_id(team_id, user_id), name=await self._names.name(user_id))
        bot = str(message.get("bot_id") or "bot")
        name = message.get("username") or (message.get("bot_profile") or {}).get("name") or bot
        return Actor(id=actor_id(team_id, bot), name=str(name))

    async def mention(self, body: dict[str, Any], *, bot_user_id: str | None = None) -> Reply:
        """`@teamlore <question>` (or `@teamlore store ...`, any command of the grammar).

        The bot's own mention is removed wherever it is ("hey @teamlore, where is the VPN?").
        """
        event = body["event"]
        raw = str(event.get("text", ""))
        if bot_user_id:
            raw = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>[\s,:]*", " ", raw)
        text = slack_to_plain(_LEADING_MENTION.sub("", raw)).strip()
        words = text.split(maxsplit=1)
        is_command = bool(words) and words[0].lower().lstrip("/") in _COMMAND_WORDS
        action = command_name(text) if is_command else "query"
        try:
            user_id = str(event["user"])
            team_id, enterprise_id = team_of(body)
            tenant = tenant_for(self._tenants, team_id, enterprise_id)
            name = await self._names.name(user_id)
            actor = actor_for(team_id, user_id, name, self._settings.admin_user_ids)
            if not text.strip():
                raise InvalidInput("ask me a question, e.g. @teamlore where is the VPN?")
            now = self._clock()
            command = parse(text, now=now) if is_command else parse_command("query", text, now=now)
            link = None
            if isinstance(command, StoreCommand):  # only a stored memory keeps the link back
                link = await self.permalink(body, str(event["ts"]), channel=event.get("channel"))
        except Exception as error:  # the chat boundary
            return reply_for(error, action=action)
        return await execute(
            self._core, tenant, actor, command, source=Source.SLACK, errors=reply_for, source_ref=link
        )

    async def share(self, body: dict[str, Any]) -> Message | ErrorReply:
        """The Share button: re-read the answer's memories in the clicker's tenant, for the channel."""
        try:
            user = body["user"]
            sharer = user.get("username") or user.get("name") or user["id"]
            _, tenant, actor = self._caller(body, user["id"], sharer)
            answer = SharedAnswer.decode(str(body["actions"][0].get("value", "")))
            found = {m.id: m for m in await self._core.get_many(tenant, answer.ids)}
        except Exception as error:  # the chat boundary
            return reply_for(error, action="share")
        memories: list[Memory] = [found[i] for i in answer.ids if i in found]
        logger.info("slack share by %s in tenant %s: %d memories", actor.id, tenant, len(memories))
        return shared_message(answer, memories, sharer=sharer, text_limit=self._settings.text_limit)

    async def permalink(self, body: dict[str, Any], ts: str, *, channel: str | None = None) -> str | None:
        """chat.getPermalink for a message; the locally built archive link when Slack will not say."""
        channel = channel or (body.get("channel") or {}).get("id")
        if not channel:
            return None
        try:
            response = await self._client.chat_getPermalink(channel=channel, message_ts=ts)
            return str(response["permalink"])
        except Exception as error:  # best effort: a missing link must not lose the memory
            logger.warning("chat.getPermalink failed for %s/%s: %s", channel, ts, error)
        team = body.get("team")
        domain = team.get("domain") if isinstance(team, dict) else None
        return archive_link(domain, channel, ts)
