"""The Discord front-end: !commands, slash commands and a "Save to teamlore" menu on the shared core."""

from .bot import REQUIRED_PERMISSIONS, SCOPES, TeamloreBot, create_bot, invite_url, run_discord
from .cog import TeamloreCog
from .config import DiscordSettings

__all__ = [
    "REQUIRED_PERMISSIONS",
    "SCOPES",
    "DiscordSettings",
    "TeamloreBot",
    "TeamloreCog",
    "create_bot",
    "invite_url",
    "run_discord",
]
