"""The Discord front-end: !commands, slash commands and a "Save to teamlore" menu on the shared core."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bot import REQUIRED_PERMISSIONS, SCOPES, TeamloreBot, create_bot, invite_url, run_discord
    from .cog import TeamloreCog
    from .config import DiscordSettings

# Names resolve on first use (PEP 562), so importing one light module of the package, or the
# package for its settings model, does not pull in every heavy dependency (see teamlore.cli).
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


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
