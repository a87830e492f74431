"""Helpers of the Slack tests: the endpoint under test and the settings it is built with."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx

from bots.slack import SlackBot, SlackSettings
from memory_core import MemoryCore
from tests.bots.slack.fake_slack import RecordingSlack, signed_headers

SECRET = "8f742231b10e8888abcd99e0a1b2c3d4"
BOT_TOKEN = "xoxb-1234-5678-teamlore-test"


@dataclass
class Endpoint:
    """teamlore's Slack endpoint on 127.0.0.1, and what it needs to be driven like Slack drives it."""

    url: str
    bot: SlackBot
    slack: RecordingSlack
    http: httpx.AsyncClient
    core: MemoryCore

    async def post(self, body: str, *, headers: dict[str, str] | None = None, **sign: Any) -> httpx.Response:
        """POST `body` signed with the app's signing secret (or with exactly `headers` when given)."""
        return await self.http.post(
            self.url, content=body, headers=headers or signed_headers(SECRET, body, **sign)
        )

    def response_url(self, key: str) -> str:
        return self.slack.response_url(key)


Serve = Callable[..., AbstractAsyncContextManager[Endpoint]]


def make_settings(slack: RecordingSlack, **overrides: Any) -> SlackSettings:
    values: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "signing_secret": SECRET,
        "api_base_url": slack.api_base_url,
        "admin_user_ids": ("U0009",),
    }
    values.update(overrides)
    return SlackSettings(**values)
