"""The Discord front-end: !commands, slash commands and a "Save to teamlore" menu on the shared core."""

from __future__ import annotations

from typing import TYPE_CHECKING

from memory_core import lazy_exports

if TYPE_CHECKING:
    from .bot import REQUIRED_PERMISSIONS, SCOPES, TeamloreBot, create_bot, invite_url, run_discord
    from .cog import TeamloreCog
    from .config import DiscordSettings

# Names resolve on first use (memory_core._lazy), so importing one light module of the package, or
# the package for its settings model, does not pull in every heavy dependency (see teamlore.cli).
_WHERE = {
    "REQUIRED_PERMISSIONS": ".bot",
    "SCOPES": ".bot",
    "TeamloreBot": ".bot",
    "create_bot": ".bot",
    "invite_url": ".bot",
    "run_discord": ".bot",
    "TeamloreCog": ".cog",
    "DiscordSettings": ".config",
}


__getattr__ = lazy_exports(__name__, _WHERE)


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
