"""The Discord bot: building it, the invite URL, and `run_discord`, the task the runtime starts."""

from __future__ import annotations

import logging

import anyio
import discord
from discord.ext import commands

from memory_core import ConfigurationError, MemoryCore, TenantMap

from .cog import NO_MENTIONS, TeamloreCog
from .config import DiscordSettings

__all__ = ["REQUIRED_PERMISSIONS", "SCOPES", "TeamloreBot", "create_bot", "invite_url", "run_discord"]

logger = logging.getLogger(__name__)

SCOPES = ("bot", "applications.commands")
"""`bot` joins the guild; `applications.commands` lets the slash commands and the message menu appear."""

REQUIRED_PERMISSIONS = discord.Permissions(
    view_channel=True,  # see the channels the commands are typed in
    send_messages=True,  # answer
    send_messages_in_threads=True,  # answer commands typed in threads
    embed_links=True,  # answers are embeds
    read_message_history=True,  # answer as a reply to the command message
)
"""Exactly what teamlore needs: no moderation, no management, no mention-everyone."""

MESSAGE_CONTENT_WARNING = (
    "Discord: the Message Content intent is off, so prefix commands (%sstore ...) only work when the message "
    "mentions the bot; slash commands and the message menu work. To use prefix commands, enable "
    "'Message Content Intent' on the Bot page of the Discord Developer Portal and set "
    "TEAMLORE_DISCORD__MESSAGE_CONTENT=true."
)


def invite_url(client_id: int | str) -> str:
    """The OAuth2 URL that adds the bot to a server with exactly the scopes and permissions it needs."""
    return discord.utils.oauth_url(client_id, permissions=REQUIRED_PERMISSIONS, scopes=SCOPES)


class TeamloreBot(commands.Bot):
    """A `commands.Bot` with the teamlore Cog; answers nothing but its own commands."""

    def __init__(
        self,
        core: MemoryCore,
        settings: DiscordSettings,
        tenant_map: TenantMap,
        *,
        message_content: bool | None = None,
        intents: discord.Intents | None = None,
    ) -> None:
        if intents is None:
            # No privileged intent but Message Content: members come with each message and interaction.
            intents = discord.Intents.default()
            intents.message_content = settings.message_content if message_content is None else message_content
        super().__init__(
            command_prefix=commands.when_mentioned_or(settings.prefix),
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            help_command=None,  # `!lore help` is the help, worded like Slack's and the shell's
            case_insensitive=True,
        )
        self.core = core
        self.settings = settings
        self.tenant_map = tenant_map

    async def setup_hook(self) -> None:
        await self.add_cog(TeamloreCog(self, self.core, self.settings, self.tenant_map))
        if not self.intents.message_content:
            logger.warning(MESSAGE_CONTENT_WARNING, self.settings.prefix)
        if self.settings.sync_commands:
            await self._sync_commands()

    async def _sync_commands(self) -> None:
        if self.settings.command_guild_ids:
            for guild_id in self.settings.command_guild_ids:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                logger.info("Discord: %d application commands registered in guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            logger.info("Discord: %d application commands registered globally", len(synced))

    async def on_ready(self) -> None:
        logger.info("Discord: connected as %s to %d guild(s)", self.user, len(self.guilds))

    async def on_command_error(  # type: ignore[override]
        self, context: commands.Context[commands.Bot], exception: commands.CommandError, /
    ) -> None:
        # Unknown commands are ignored: "!" is a common prefix and other bots share the channel. The
        # Cog answers every error of its own commands (cog_command_error).
        if isinstance(exception, commands.CommandNotFound):
            return
        if context.cog is None:
            await super().on_command_error(context, exception)


def create_bot(
    core: MemoryCore,
    settings: DiscordSettings,
    tenant_map: TenantMap,
    *,
    message_content: bool | None = None,
    intents: discord.Intents | None = None,
) -> TeamloreBot:
    """A bot ready to `start`; the Cog is added (and commands synced) in its setup hook.

    `message_content` overrides the setting; `intents` replaces the computed intents entirely.
    """
    return TeamloreBot(core, settings, tenant_map, message_content=message_content, intents=intents)


async def run_discord(core: MemoryCore, settings: DiscordSettings, tenant_map: TenantMap) -> None:
    """Connect to Discord and serve commands until cancelled; then close the connection cleanly.

    When Discord refuses the privileged Message Content intent (not enabled in the Developer Portal),
    the bot says so and reconnects without it: slash commands keep working.

    Raises:
        ConfigurationError: no token, or Discord refused the token.
    """
    if settings.token is None:
        raise ConfigurationError("TEAMLORE_DISCORD__TOKEN is not set")
    token = settings.token.get_secret_value()
    message_content = settings.message_content
    while True:
        bot = create_bot(core, settings, tenant_map, message_content=message_content)
        try:
            await bot.start(token)
            return
        except discord.PrivilegedIntentsRequired:
            if not message_content:
                raise
            logger.error(
                "Discord refused the Message Content intent: enable it on the Bot page of the Developer "
                "Portal (or set TEAMLORE_DISCORD__MESSAGE_CONTENT=false). Reconnecting without it."
            )
            message_content = False
        except discord.LoginFailure as error:
            raise ConfigurationError(f"TEAMLORE_DISCORD__TOKEN was refused by Discord: {error}") from error
        finally:
            # Shielded: when the runtime cancels us, the close handshake must still run.
            with anyio.CancelScope(shield=True):
                await bot.close()
