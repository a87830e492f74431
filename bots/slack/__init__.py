"""The Slack front-end: slash commands, a "Save to teamlore" shortcut and mentions; HTTP or Socket Mode.

bot = SlackBot(core, tenants, settings)          # the Bolt AsyncApp is bot.app
routes = slack_routes(bot.app, path=settings.events_path)   # HTTP mode: mount in the web app
await run_socket_mode(bot.app, app_token)        # Socket Mode: until cancelled
await bot.aclose()                               # on shutdown: finish acknowledged work
"""

from .app import SlackBot, create_app
from .blocks import message_for
from .config import SlackCommands, SlackSettings
from .errors import reply_for
from .http import slack_routes
from .socket_mode import run_socket_mode
from .text import escape, slack_to_plain

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
