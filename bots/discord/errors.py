"""The one table from errors (core and discord.py) to the words of a Discord reply.

Core errors use the shared chat words (bots.errors); this table adds what only happens on Discord:
direct messages that no tenant takes, cooldowns, missing permissions of the bot. Anything that is not
in either table is logged with a reference id and answered "Something went wrong (ref ab12cd)."
"""

from __future__ import annotations

import math
from collections.abc import Callable

import discord
from discord import app_commands
from discord.ext import commands

from memory_core import PermissionDenied, UnknownIdentity, lookup_error

from ..errors import error_reply
from ..replies import ErrorReply

__all__ = ["DISCORD_ERRORS", "DirectMessageRefused", "reply_for", "unwrap"]


class DirectMessageRefused(UnknownIdentity):
    """A command in a direct message that the tenant map does not list."""

    def __init__(self) -> None:
        super().__init__("direct messages are not connected to teamlore")


def _cooldown(error: BaseException, action: str) -> str:
    retry = getattr(error, "retry_after", 1.0)
    return f"Slow down: try again in {max(1, math.ceil(retry))}s."


def _dm(error: BaseException, action: str) -> str:
    return "teamlore answers in server channels; direct messages are off unless an admin connects yours."


def _denied(error: BaseException, action: str) -> str:
    return f"Not allowed: {str(error).rstrip('.')}. On Discord, members with Manage Messages count as admins."


def _shared(error: BaseException, action: str) -> str:
    return error_reply(error, action=action).message


def _forbidden(error: BaseException, action: str) -> str:
    return (
        "I am missing a permission here: I need View Channel, Send Messages, Embed Links and "
        "Read Message History."
    )


def _check(error: BaseException, action: str) -> str:
    return "You can't use this command here."


# Looked up along the error's MRO (`memory_core.lookup_error`): the most specific class listed wins.
# Core errors not listed fall through to the shared chat table.
DISCORD_ERRORS: dict[type[BaseException], Callable[[BaseException, str], str]] = {
    DirectMessageRefused: _dm,
    UnknownIdentity: _shared,
    commands.CommandOnCooldown: _cooldown,
    app_commands.CommandOnCooldown: _cooldown,
    PermissionDenied: _denied,
    discord.Forbidden: _forbidden,
    commands.BotMissingPermissions: _forbidden,
    app_commands.BotMissingPermissions: _forbidden,
    commands.CheckFailure: _check,
    app_commands.CheckFailure: _check,
}


def unwrap(error: BaseException) -> BaseException:
    """The exception a command raised, without discord.py's Invoke wrappers."""
    while isinstance(error, commands.CommandInvokeError | app_commands.CommandInvokeError):
        error = error.original
    return error


def reply_for(error: BaseException, *, action: str) -> ErrorReply:
    """What to answer when `action` (store, query, ...) failed with `error`."""
    error = unwrap(error)
    words = lookup_error(DISCORD_ERRORS, error)
    return ErrorReply(words(error, action)) if words is not None else error_reply(error, action=action)
