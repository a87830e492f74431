"""The Slack front-end: slash commands, a "Save to teamlore" shortcut and mentions; HTTP or Socket Mode.

bot = SlackBot(core, tenants, settings)          # the Bolt AsyncApp is bot.app
routes = slack_routes(bot.app, path=settings.events_path)   # HTTP mode: mount in the web app
await run_socket_mode(bot.app, app_token)        # Socket Mode: until cancelled
await bot.aclose()                               # on shutdown: finish acknowledged work
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memory_core import lazy_exports

if TYPE_CHECKING:
    from .app import SlackBot, create_app
    from .blocks import message_for
    from .config import SlackCommands, SlackSettings
    from .errors import reply_for
    from .http import slack_routes
    from .socket_mode import run_socket_mode
    from .text import escape, slack_to_plain

# Names resolve on first use (memory_core._lazy), so importing one light module of the package, or
# the package for its settings model, does not pull in every heavy dependency (see teamlore.cli).
_WHERE = {
    "SlackBot": ".app",
    "create_app": ".app",
    "message_for": ".blocks",
    "SlackCommands": ".config",
    "SlackSettings": ".config",
    "reply_for": ".errors",
    "slack_routes": ".http",
    "run_socket_mode": ".socket_mode",
    "escape": ".text",
    "slack_to_plain": ".text",
}


__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "SlackBot",
    "SlackCommands",
    "SlackSettings",
    "create_app",
    "escape",
    "message_for",
    "reply_for",
    "run_socket_mode",
    "slack_routes",
    "slack_to_plain",
]
