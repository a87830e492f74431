"""The one table from errors (core and Slack's Web API) to the words of an ephemeral Slack reply.

Core errors use the shared chat words of `bots.errors` ("Can't store that: ...", "No memory #42.",
"Not allowed: ...", "Memory is busy, try again in a minute."); this table adds what only happens on
Slack: the Web API refusing a call (a missing scope, a channel the bot is not in) and Slack not
answering. Anything in neither table is logged with a reference id and answered
"Something went wrong (ref ab12cd)." Rendered as Block Kit by `blocks.error_message`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from memory_core import InvalidInput, lookup_error, new_reference

from ..errors import error_reply
from ..replies import ErrorReply

__all__ = ["SLACK_ERRORS", "NothingToSave", "reply_for"]

logger = logging.getLogger(__name__)


class NothingToSave(InvalidInput):
    """The message picked for "Save to teamlore" has no text (only files, or a bot's attachments)."""

    def __init__(self) -> None:
        super().__init__("that message has no text (files and attachments are not saved)")


_SCOPE_PROBLEMS = frozenset({"missing_scope", "not_allowed_token_type", "no_permission", "invalid_auth"})


def _api_refused(error: BaseException, action: str) -> ErrorReply:
    code = error.response.get("error", "unknown") if isinstance(error, SlackApiError) else "unknown"
    ref = new_reference()
    logger.error("Slack Web API refused a call while trying to %s (ref %s): %s", action, ref, code)
    if code in _SCOPE_PROBLEMS:
        return ErrorReply(
            f"teamlore's Slack app is missing a permission ({code}); an admin must reinstall it from "
            f"deploy/slack-manifest.yml (ref {ref}).",
            ref,
        )
    if code in ("not_in_channel", "channel_not_found"):
        return ErrorReply(f"I can't post here; invite me with /invite @teamlore (ref {ref}).", ref)
    return ErrorReply(f"Slack refused what I tried ({code}) (ref {ref}).", ref)


def _unreachable(error: BaseException, action: str) -> ErrorReply:
    logger.warning("Slack did not answer while trying to %s: %r", action, error)
    return ErrorReply("Slack did not answer in time, try again in a minute.")


# Looked up along the error's MRO (`memory_core.lookup_error`): the most specific class listed wins.
# Core errors (TeamloreError) are not listed: they fall through to the shared table.
SLACK_ERRORS: dict[type[BaseException], Callable[[BaseException, str], ErrorReply]] = {
    SlackApiError: _api_refused,
    SlackClientError: _unreachable,
    aiohttp.ClientError: _unreachable,
    TimeoutError: _unreachable,
}


def reply_for(error: BaseException, *, action: str) -> ErrorReply:
    """What to answer, ephemerally, when `action` (store, query, save, share, ...) failed with `error`."""
    reply = lookup_error(SLACK_ERRORS, error)
    return reply(error, action) if reply is not None else error_reply(error, action=action)
