"""The teamlore Cog: prefix commands, slash commands and the "Save to teamlore" message menu.

Handlers only translate: Discord input -> grammar command -> `bots.execute` -> embed. Errors raised on
the way (unknown guild, bad input, cooldown) reach `cog_command_error` / `cog_app_command_error`, which
answer through the one table in `errors.py`. Slash answers to /query, /lore and every error are
ephemeral (only the caller sees them); stores, reflections and forgets are posted in the channel.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from memory_core import Actor, InvalidInput, MemoryCore, Source, TenantMap

from ..commands import execute
from ..grammar import (
    Command,
    HelpCommand,
    QueryCommand,
    ReflectCommand,
    StoreCommand,
    parse_command,
)
from ..replies import ErrorReply, Reply
from .config import DiscordSettings
from .cooldown import UserCooldowns
from .embeds import reply_embed, reply_text
from .errors import reply_for
from .identity import actor_for, author_filter, tenant_for
from .options import query_command, reflect_command, store_command

__all__ = ["NO_MENTIONS", "TeamloreCog"]

logger = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
"""Everything teamlore sends echoes stored text: it must never ping anyone."""

ImportanceChoice = Literal["low", "normal", "high", "critical"]


class TeamloreCog(commands.Cog, name="teamlore"):
    """Store, query, reflect and forget from Discord, as `!commands`, `/commands` and a message menu."""

    def __init__(
        self, bot: commands.Bot, core: MemoryCore, settings: DiscordSettings, tenant_map: TenantMap
    ) -> None:
        self.bot = bot
        self.core = core
        self.settings = settings
        self.tenant_map = tenant_map
        self.cooldowns = UserCooldowns(settings.cooldown_commands, settings.cooldown_seconds)
        self.save_menu = app_commands.ContextMenu(name="Save to teamlore", callback=self.save_message)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.save_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.save_menu.name, type=self.save_menu.type)

    # --- who is asking, and may they -------------------------------------------------------------

    def _scope(
        self, guild: discord.Guild | None, channel_id: int | None, user: discord.User | discord.Member
    ) -> tuple[str, Actor]:
        tenant = tenant_for(
            self.tenant_map, guild_id=guild.id if guild else None, channel_id=channel_id, user_id=user.id
        )
        return tenant, actor_for(user, self.settings.admin_role_ids)

    async def cog_check(self, ctx: commands.Context[commands.Bot]) -> bool:  # type: ignore[override]
        limited = self.cooldowns.hit(ctx.author.id)
        if limited is not None:
            raise commands.CommandOnCooldown(limited[0], limited[1], commands.BucketType.user)
        return True

    async def interaction_check(self, interaction: discord.Interaction[discord.Client], /) -> bool:
        limited = self.cooldowns.hit(interaction.user.id)
        if limited is not None:
            raise app_commands.CommandOnCooldown(limited[0], limited[1])
        return True

    # --- prefix commands: !store, !query, !reflect, !forget, !lore -------------------------------

    async def _prefix(self, ctx: commands.Context[commands.Bot], name: str, text: str) -> None:
        tenant, actor = self._scope(ctx.guild, ctx.channel.id, ctx.author)
        command = _translate(parse_command(name, text, now=ctx.message.created_at))
        async with ctx.typing() if isinstance(command, ReflectCommand) else contextlib.nullcontext():
            reply = await execute(
                self.core,
                tenant,
                actor,
                command,
                source=Source.DISCORD,
                source_ref=ctx.message.jump_url,
                errors=reply_for,
            )
        await self._send_prefix(ctx, reply)

    async def _send_prefix(self, ctx: commands.Context[commands.Bot], reply: Reply) -> None:
        reference = ctx.message.to_reference(fail_if_not_exists=False)
        prefix = self.settings.prefix
        if ctx.guild is None or ctx.channel.permissions_for(ctx.guild.me).embed_links:  # type: ignore[arg-type]
            embed = reply_embed(reply, prefix=prefix)
            await ctx.send(
                embed=embed, allowed_mentions=NO_MENTIONS, reference=reference, mention_author=False
            )
        else:
            text = reply_text(reply, prefix=prefix)
            await ctx.send(text, allowed_mentions=NO_MENTIONS, reference=reference, mention_author=False)

    @commands.command(name="store", help="Remember something: !store <text> [#tag] [!high] [ttl:30d]")
    async def store_prefix(self, ctx: commands.Context[commands.Bot], *, text: str = "") -> None:
        await self._prefix(ctx, "store", text)

    @commands.command(name="query", help="Find what the team knows: !query <question> [#tag] [since:7d]")
    async def query_prefix(self, ctx: commands.Context[commands.Bot], *, text: str = "") -> None:
        await self._prefix(ctx, "query", text)

    @commands.command(name="reflect", help="Summarise a topic or a period: !reflect [topic] [since:30d]")
    async def reflect_prefix(self, ctx: commands.Context[commands.Bot], *, text: str = "") -> None:
        await self._prefix(ctx, "reflect", text)

    @commands.command(name="forget", help="Delete a memory: !forget #42 (its author or a moderator)")
    async def forget_prefix(self, ctx: commands.Context[commands.Bot], *, text: str = "") -> None:
        await self._prefix(ctx, "forget", text)

    @commands.command(name="lore", help="!lore help, or !lore <store|query|reflect|forget> ...")
    async def lore_prefix(self, ctx: commands.Context[commands.Bot], *, text: str = "") -> None:
        await self._prefix(ctx, "lore", text)

    async def cog_command_error(self, ctx: commands.Context[commands.Bot], error: Exception) -> None:  # type: ignore[override]
        reply = reply_for(error, action=ctx.command.name if ctx.command else "do")
        _log_refusal(reply, ctx.author.id)
        try:
            await self._send_prefix(ctx, reply)
        except discord.HTTPException as failure:  # e.g. the bot may not even write in this channel
            logger.warning(
                "discord: could not answer %s in channel %s: %s", ctx.author.id, ctx.channel.id, failure
            )

    # --- slash commands ---------------------------------------------------------------------------

    async def _slash(
        self, interaction: discord.Interaction[discord.Client], command: Command, *, ephemeral: bool = False
    ) -> None:
        tenant, actor = self._scope(interaction.guild, interaction.channel_id, interaction.user)
        if isinstance(command, ReflectCommand):  # may take longer than the 3 s Discord waits for an answer
            await interaction.response.defer(thinking=True)
        reply = await execute(
            self.core,
            tenant,
            actor,
            command,
            source=Source.DISCORD,
            source_ref=_channel_link(interaction),
            errors=reply_for,
        )
        await _respond(interaction, reply, ephemeral=ephemeral or isinstance(reply, ErrorReply))

    @app_commands.command(name="store", description="Remember something for the team.")
    @app_commands.describe(
        text="What to remember; #tags, !high, ttl:30d, kind:decision and supersedes:#12 work here too",
        tags="Tags, separated by spaces or commas",
        importance="How much it matters (default normal)",
        ttl="Forget it after this long, e.g. 30d, 12h, 2w",
        kind="What it is: note, decision, incident, ...",
    )
    async def store_slash(
        self,
        interaction: discord.Interaction[discord.Client],
        text: str,
        tags: str | None = None,
        importance: ImportanceChoice | None = None,
        ttl: str | None = None,
        kind: str | None = None,
    ) -> None:
        now = interaction.created_at
        command = store_command(text, now=now, tags=tags, importance=importance, ttl=ttl, kind=kind)
        await self._slash(interaction, command)

    @app_commands.command(name="query", description="Find what the team knows.")
    @app_commands.describe(
        question="Your question; #tags, since:7d, until:2026-01-31 and limit:5 work here too",
        tags="Only memories with all these tags",
        author="Only memories stored by this person",
        since="Only since this date or this long ago (2026-01-01, 7d)",
        until="Only until this date or this long ago",
        limit="How many answers (1-50, default 5)",
    )
    async def query_slash(
        self,
        interaction: discord.Interaction[discord.Client],
        question: str = "",
        tags: str | None = None,
        author: discord.User | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: app_commands.Range[int, 1, 50] | None = None,
    ) -> None:
        who = f"discord:{author.id}" if author else None
        command = query_command(
            question, now=interaction.created_at, tags=tags, author=who, since=since, until=until, limit=limit
        )
        await self._slash(interaction, _translate(command), ephemeral=True)

    @app_commands.command(name="reflect", description="Summarise what is known about a topic or a period.")
    @app_commands.describe(
        topic="What to reflect on (leave empty to reflect on a period)",
        since="From this date or this long ago (2026-01-01, 30d)",
        until="Up to this date or this long ago",
        tags="Only memories with these tags",
    )
    async def reflect_slash(
        self,
        interaction: discord.Interaction[discord.Client],
        topic: str | None = None,
        since: str | None = None,
        until: str | None = None,
        tags: str | None = None,
    ) -> None:
        command = reflect_command(topic, now=interaction.created_at, since=since, until=until, tags=tags)
        await self._slash(interaction, command)

    @app_commands.command(name="forget", description="Delete a memory for good (its author or a moderator).")
    @app_commands.describe(memory="The memory id, e.g. #42")
    async def forget_slash(self, interaction: discord.Interaction[discord.Client], memory: str) -> None:
        await self._slash(interaction, parse_command("forget", memory, now=interaction.created_at))

    @app_commands.command(name="lore", description="teamlore help, or any command as text")
    @app_commands.describe(command="help, or e.g. query where is the VPN? #infra")
    async def lore_slash(
        self, interaction: discord.Interaction[discord.Client], command: str = "help"
    ) -> None:
        parsed = _translate(parse_command("lore", command, now=interaction.created_at))
        await self._slash(interaction, parsed, ephemeral=isinstance(parsed, HelpCommand | QueryCommand))

    async def cog_app_command_error(
        self, interaction: discord.Interaction[discord.Client], error: app_commands.AppCommandError
    ) -> None:
        name = interaction.command.name if interaction.command else "do"
        reply = reply_for(error, action=name)
        _log_refusal(reply, interaction.user.id)
        try:
            await _respond(interaction, reply, ephemeral=True)
        except discord.HTTPException as failure:  # e.g. the interaction expired before we answered
            logger.warning("discord: could not answer interaction of %s: %s", interaction.user.id, failure)

    # --- message menu: "Save to teamlore" -----------------------------------------------------------

    async def save_message(
        self, interaction: discord.Interaction[discord.Client], message: discord.Message
    ) -> None:
        """Store someone's message as a memory: its author as the author, its jump link as the source."""
        try:
            await self.interaction_check(interaction)
            tenant, actor = self._scope(interaction.guild, interaction.channel_id, interaction.user)
            text = _message_text(message)
        except Exception as error:  # the menu is no Cog command: answer its errors here
            await _respond(interaction, reply_for(error, action="store"), ephemeral=True)
            return
        reply = await execute(
            self.core,
            tenant,
            actor,
            StoreCommand(text),
            source=Source.DISCORD,
            source_ref=message.jump_url,
            author=actor_for(message.author),
            now=message.created_at,
            errors=reply_for,
        )
        await _respond(interaction, reply, ephemeral=isinstance(reply, ErrorReply))


def _translate(command: Command) -> Command:
    """Discord specifics of the grammar: `from:<@123>` names the user with id 123."""
    if isinstance(command, QueryCommand) and command.author:
        return QueryCommand(
            command.question,
            command.tags,
            author_filter(command.author),
            command.since,
            command.until,
            command.limit,
        )
    return command


def _message_text(message: discord.Message) -> str:
    """The message's text, or its attachments' links when it has none."""
    text = message.content.strip()
    if not text and message.attachments:
        text = "\n".join(attachment.url for attachment in message.attachments)
    if not text:
        raise InvalidInput("that message has no text to save")
    return text


def _channel_link(interaction: discord.Interaction[discord.Client]) -> str | None:
    if interaction.channel_id is None:
        return None
    return f"https://discord.com/channels/{interaction.guild_id or '@me'}/{interaction.channel_id}"


async def _respond(
    interaction: discord.Interaction[discord.Client], reply: Reply, *, ephemeral: bool
) -> None:
    embed = reply_embed(reply, prefix="/")
    if interaction.response.is_done():
        await interaction.followup.send(embed=embed, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(
            embed=embed, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS
        )


def _log_refusal(reply: ErrorReply, user_id: int) -> None:
    if reply.ref is None:
        logger.info("discord command by %s refused: %s", user_id, reply.message)
