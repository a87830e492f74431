"""Slash commands and the "Save to teamlore" menu, run through the command tree with real interactions."""

from __future__ import annotations

import logging
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest

from memory_core import Importance, MemoryCore, TenantIdentities, TenantMap

from .conftest import Harness, MakeHarness

pytestmark = pytest.mark.anyio


EPHEMERAL = 64


def embed(response: dict[str, Any]) -> discord.Embed:
    return discord.Embed.from_dict(response["embeds"][0])


async def test_store_with_options(harness: Harness, core: MemoryCore) -> None:
    response = await harness.slash(
        0,
        "store",
        text="the VPN moved to vpn2.corp #infra",
        tags="vpn, ops",
        importance="critical",
        ttl="30d",
    )
    assert embed(response).title == "Remembered as #1 (#infra #vpn #ops, !critical, until " + (
        (await core.get("default", 1)).expires_at.strftime("%Y-%m-%d") + ")."  # type: ignore[union-attr]
    )
    assert response["allowed_mentions"] == {"parse": []}
    assert not response.get("flags", 0) & EPHEMERAL  # the team sees what was stored
    memory = await core.get("default", 1)
    assert memory.importance is Importance.CRITICAL
    assert memory.author_id == f"discord:{harness.member(0).id}"
    assert memory.source_ref == f"https://discord.com/channels/{harness.guild.id}/{harness.channel.id}"


async def test_query_is_ephemeral_and_filters_by_user(harness: Harness) -> None:
    await harness.slash(0, "store", text="alice: the wiki lives at wiki.corp")
    await harness.slash(1, "store", text="bob: the wiki moved to docs.corp")
    response = await harness.slash(
        2, "query", question="where is the wiki", author=harness.member(1), limit=3
    )
    assert response["flags"] & EPHEMERAL
    fields = embed(response).fields
    assert [f.value.split("\n")[0] for f in fields] == ["bob: the wiki moved to docs.corp"]  # type: ignore[union-attr]


async def test_forget_refused_for_others_allowed_for_moderators(harness: Harness, core: MemoryCore) -> None:
    await harness.slash(0, "store", text="alice's fact")
    refusal = await harness.slash(1, "forget", memory="#1")
    assert refusal["flags"] & EPHEMERAL
    assert (embed(refusal).description or "").startswith("Not allowed: only ")
    await harness.make_moderator(2)
    done = await harness.slash(2, "forget", memory="1")
    assert embed(done).description == "Forgot #1 (“alice's fact”)."
    assert await core.recent("default") == []


async def test_unmapped_guild_is_refused(make_harness: MakeHarness, core: MemoryCore) -> None:
    harness = await make_harness(tenant_map=TenantMap({"acme": TenantIdentities(discord=("1",))}))
    response = await harness.slash(0, "store", text="not for this guild")
    assert response["flags"] & EPHEMERAL
    assert "is not connected to any teamlore tenant" in (embed(response).description or "")
    assert await core.recent("default") == []


async def test_direct_message_interactions_are_refused(harness: Harness, core: MemoryCore) -> None:
    response = await harness.slash(0, "store", text="from a DM", guild=False)
    assert embed(response).description == (
        "teamlore answers in server channels; direct messages are off unless an admin connects yours."
    )
    assert await core.recent("default") == []


async def test_bad_options_are_explained(harness: Harness) -> None:
    response = await harness.slash(0, "store", text="x", ttl="forever")
    assert response["flags"] & EPHEMERAL
    assert (
        embed(response).description
        == "Can't store that: ttl must look like 30d, 12h, 2w or 90m (got 'forever')."
    )
    response = await harness.slash(0, "query", question="x", since="2026-02-30")
    assert embed(response).description == "Can't query that: since: 2026-02-30 is not a real date."


async def test_lore_help_and_umbrella(harness: Harness) -> None:
    response = await harness.slash(0, "lore")
    assert response["flags"] & EPHEMERAL
    assert "/store <text>" in (embed(response).description or "")
    stored = await harness.slash(0, "lore", command="store from the umbrella #x")
    assert embed(stored).title == "Remembered as #1 (#x)."


async def test_errors_carry_a_reference_id(
    harness: Harness, core: MemoryCore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(core, "store", broken)
    response = await harness.slash(0, "store", text="anything")
    text = embed(response).description or ""
    assert text.startswith("Something went wrong (ref ")
    ref = text[-8:-2]
    assert any(ref in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


async def test_cooldown_applies_to_slash_commands(make_harness: MakeHarness) -> None:
    from bots.discord import DiscordSettings

    harness = await make_harness(
        DiscordSettings(sync_commands=False, cooldown_commands=1, cooldown_seconds=60)
    )
    await harness.slash(0, "lore")
    response = await harness.slash(0, "lore")
    assert (embed(response).description or "").startswith("Slow down: try again in ")


async def test_save_message_menu_stores_the_message_with_its_author(
    harness: Harness, core: MemoryCore
) -> None:
    message = await harness.say("@everyone the staging DB is read-only until Friday", member=1)
    await dpytest.empty_queue()
    response = await harness.save_menu(0, message)
    assert embed(response).title == "Remembered as #1."
    assert "@everyone" not in str(response)
    assert response["allowed_mentions"] == {"parse": []}
    memory = await core.get("default", 1)
    bob = harness.member(1)
    assert memory.text == "@everyone the staging DB is read-only until Friday"
    assert (memory.author, memory.author_id) == (bob.display_name, f"discord:{bob.id}")
    assert memory.source_ref == message.jump_url


async def test_save_menu_refuses_empty_messages(harness: Harness) -> None:
    message = await harness.say("", member=1)
    response = await harness.save_menu(0, message)
    assert response["flags"] & EPHEMERAL
    assert embed(response).description == "Can't store that: that message has no text to save."


async def test_reflect_defers_then_answers(harness: Harness) -> None:
    for text in ("the VPN moved to vpn2.corp #infra", "the old VPN host is off #infra"):
        await harness.slash(0, "store", text=text)
    response = await harness.slash(0, "reflect", topic="VPN", since="30d")
    deferred = [call for call in harness.adapter.calls if call[2] and call[2].get("type") == 5]
    assert deferred, "reflect must defer: it may take longer than Discord's 3 seconds"
    assert (embed(response).title or "").startswith("Reflection on “VPN”")
