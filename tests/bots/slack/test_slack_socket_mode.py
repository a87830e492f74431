"""Socket Mode end to end: a real WebSocket on 127.0.0.1 plays Slack's side of the connection."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import anyio
import pytest

from bots.slack import SlackBot
from memory_core import ConfigurationError, MemoryCore, TenantMap
from tests.bots.slack.fake_slack import RecordingSlack, app_mention, event_callback, slash_command

from .slack_support import make_settings

pytestmark = pytest.mark.anyio

APP_TOKEN = "xapp-1-A0001-1-0123456789abcdef"


async def test_socket_mode_acknowledges_envelopes_and_answers(
    core: MemoryCore, slack: RecordingSlack
) -> None:
    bot = SlackBot(core, TenantMap(), make_settings(slack, signing_secret=None, app_token=APP_TOKEN))
    command = dict(
        parse_qsl(slash_command("/store", "socket mode works #ops", response_url=slack.response_url("s")))
    )
    with anyio.fail_after(15):
        async with anyio.create_task_group() as group:
            group.start_soon(bot.run_socket_mode)
            envelope = await slack.send_envelope("slash_commands", command)
            await slack.wait_for(lambda fake: any(a.get("envelope_id") == envelope for a in fake.socket_acks))
            await slack.wait_for(lambda fake: bool(fake.of("respond:s")))

            mention = json.loads(event_callback(app_mention("what works?")))
            acked = await slack.send_envelope("events_api", mention)
            await slack.wait_for(lambda fake: bool(fake.of("chat.postMessage")))
            group.cancel_scope.cancel()
        await bot.aclose()

    [opened] = slack.of("apps.connections.open")
    assert opened.token == APP_TOKEN
    assert any(a.get("envelope_id") == acked for a in slack.socket_acks)
    [memory] = await core.recent("default")
    assert memory.text == "socket mode works"
    assert f"Remembered as #{memory.id}" in slack.of("respond:s")[0].data["text"]
    assert "socket mode works" in json.dumps(slack.of("chat.postMessage")[0].data)


async def test_a_refused_app_token_is_a_configuration_error(core: MemoryCore, slack: RecordingSlack) -> None:
    slack.errors["apps.connections.open"] = "invalid_auth"
    bot = SlackBot(core, TenantMap(), make_settings(slack, signing_secret=None, app_token=APP_TOKEN))

    with anyio.fail_after(10), pytest.raises(ConfigurationError, match="TEAMLORE_SLACK__APP_TOKEN"):
        await bot.run_socket_mode()


async def test_check_names_the_bot_token_setting_when_refused(
    core: MemoryCore, slack: RecordingSlack
) -> None:
    bot = SlackBot(core, TenantMap(), make_settings(slack))
    assert (await bot.check())["user_id"] == "UBOT"

    slack.errors["auth.test"] = "invalid_auth"
    with pytest.raises(ConfigurationError, match="TEAMLORE_SLACK__BOT_TOKEN"):
        await bot.check()
