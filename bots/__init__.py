"""Chat front-ends (Slack, Discord) and the platform-neutral pieces they share: grammar, replies."""

from .commands import execute
from .errors import error_reply
from .grammar import (
    Command,
    ForgetCommand,
    HelpCommand,
    QueryCommand,
    ReflectCommand,
    StoreCommand,
    parse,
    parse_command,
)
from .render import neutralise_mentions, render, truncate
from .replies import (
    ErrorReply,
    ForgottenReply,
    HelpReply,
    QueryReply,
    RecentReply,
    ReflectionReply,
    Reply,
    StoredReply,
)

__all__ = [
    "Command",
    "ErrorReply",
    "ForgetCommand",
    "ForgottenReply",
    "HelpCommand",
    "HelpReply",
    "QueryCommand",
    "QueryReply",
    "RecentReply",
    "ReflectCommand",
    "ReflectionReply",
    "Reply",
    "StoreCommand",
    "StoredReply",
    "error_reply",
    "execute",
    "neutralise_mentions",
    "parse",
    "parse_command",
    "render",
    "truncate",
]
