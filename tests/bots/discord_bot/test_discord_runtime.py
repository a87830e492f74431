"""The bot as the runtime runs it: invite URL, start-up warnings, connecting, and stopping when cancelled."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlparse

import anyio
import discord
import pytest
import yarl
from aiohttp import web
from pydantic import SecretStr

from bots.discord import REQUIRED_PERMISSIONS, DiscordSettings, create_bot, invite_url, run_discord
from memory_core import ConfigurationError, MemoryCore, TenantMap

from .fake_discord import APP_ID, MESSAGE_CONTENT, FakeDiscord

pytestmark = pytest.mark.anyio


def test_invite_url_asks_for_exactly_what_is_needed() -> None:
    url = urlparse(invite_url(1234567890))
    assert (url.scheme, url.netloc, url.path) == ("https", "discord.com", "/oauth2/authorize")
    query = parse_qs(url.query)
    assert query["client_id"] == ["1234567890"]
    assert query["permissions"] == ["274877991936"]
    assert query["scope"] == ["bot applications.commands"]
    granted = discord.Permissions(int(query["permissions"][0]))
    assert granted == REQUIRED_PERMISSIONS
    assert {name for name, value in granted if value} == {
        "read_messages",  # discord.py's name for View Channel
        "send_messages",
        "send_messages_in_threads",
        "embed_links",
        "read_message_history",
    }


async def test_startup_warns_when_the_message_content_intent_is_off(
    core: MemoryCore, caplog: pytest.LogCaptureFixture
) -> None:
    bot = create_bot(core, DiscordSettings(message_content=False, sync_commands=False), TenantMap())
    await bot._async_setup_hook()
    await bot.setup_hook()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("Message Content intent is off" in w and "slash commands" in w for w in warnings)
    assert not bot.intents.message_content
    await bot.close()


@pytest.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.base = f"http://127.0.0.1:{port}"
    monkeypatch.setattr(discord.http.Route, "BASE", f"{fake.base}/api/v10")
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(f"ws://127.0.0.1:{port}/gateway")
    )
    yield fake
    await runner.cleanup()


async def test_connects_syncs_commands_and_stops_cleanly_when_cancelled(
    core: MemoryCore, fake_discord: FakeDiscord
) -> None:
    settings = DiscordSettings(token=SecretStr("good-token"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_discord, core, settings, TenantMap())
        with anyio.fail_after(10):
            await fake_discord.ready.wait()
        tg.cancel_scope.cancel()
    with anyio.fail_after(10):
        await fake_discord.closed.wait()  # the bot closed its gateway connection itself
    assert fake_discord.identified_intents[0] & MESSAGE_CONTENT
    names = sorted(command["name"] for command in fake_discord.synced[0])
    assert names == ["Save to teamlore", "forget", "lore", "query", "reflect", "store"]


async def test_refused_message_content_intent_falls_back_to_slash_only(
    core: MemoryCore, fake_discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    fake_discord.refuse_message_content = True
    settings = DiscordSettings(token=SecretStr("good-token"), sync_commands=False)
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_discord, core, settings, TenantMap())
        with anyio.fail_after(10):
            await fake_discord.ready.wait()
        tg.cancel_scope.cancel()
    first, second = fake_discord.identified_intents
    assert first & MESSAGE_CONTENT
    assert not second & MESSAGE_CONTENT
    assert any("refused the Message Content intent" in r.getMessage() for r in caplog.records)


async def test_a_refused_token_is_a_configuration_error(core: MemoryCore, fake_discord: FakeDiscord) -> None:
    with pytest.raises(ConfigurationError, match="TEAMLORE_DISCORD__TOKEN was refused"):
        await run_discord(core, DiscordSettings(token=SecretStr("wrong")), TenantMap())


async def test_no_token_is_a_configuration_error(core: MemoryCore) -> None:
    with pytest.raises(ConfigurationError, match="TEAMLORE_DISCORD__TOKEN is not set"):
        await run_discord(core, DiscordSettings(), TenantMap())


def test_application_id_of_the_fake_is_a_snowflake() -> None:
    assert int(APP_ID) > 0
