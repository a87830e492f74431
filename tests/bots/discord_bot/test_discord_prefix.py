"""Prefix commands driven through discord.py's own command processing (dpytest's fake gateway)."""

from __future__ import annotations

import logging

import discord.ext.test as dpytest
import pytest
from discord.ext.test import backend

from bots.discord import DiscordSettings, TeamloreCog
from memory_core import Importance, MemoryCore, TenantIdentities, TenantMap
from memory_core.testing import draft

from .conftest import Harness, MakeHarness

pytestmark = pytest.mark.anyio


NO_PINGS = {"parse": [], "replied_user": False}


async def test_store_parses_tags_and_importance_and_keeps_the_link(
    harness: Harness, core: MemoryCore
) -> None:
    message = await harness.say("!store the VPN moved to vpn2.corp #infra !high")
    embed = harness.reply().embeds[0]
    assert embed.title == "Remembered as #1 (#infra, !high)."
    assert embed.description == "the VPN moved to vpn2.corp"
    memory = await core.get("default", 1)
    assert (memory.text, memory.tags, memory.importance) == (
        "the VPN moved to vpn2.corp",
        ("infra",),
        Importance.HIGH,
    )
    alice = harness.member(0)
    assert (memory.author, memory.author_id) == (alice.display_name, f"discord:{alice.id}")
    assert memory.source_ref == message.jump_url
    assert harness.sent[-1]["allowed_mentions"] == NO_PINGS


async def test_query_answers_with_id_author_date_and_jump_link(harness: Harness) -> None:
    message = await harness.say("!store the VPN moved to vpn2.corp #infra")
    harness.reply()
    await harness.say("!query where did the VPN move?", member=1)
    embed = harness.reply().embeds[0]
    assert embed.title == "1 memory for “where did the VPN move?”"
    field = embed.fields[0]
    assert field.name is not None
    assert field.name.startswith(f"#1 · {harness.member(0).display_name} · ")
    assert field.name.endswith(" · #infra")
    assert field.value == f"the VPN moved to vpn2.corp\n↳ [jump to message]({message.jump_url})"


async def test_query_from_a_mentioned_user(harness: Harness) -> None:
    await harness.say("!store alice knows the printer code #office", member=0)
    await harness.say("!store bob knows the printer code too #office", member=1)
    await dpytest.empty_queue()
    await harness.say(f"!query printer code from:<@{harness.member(1).id}>", member=2)
    embed = harness.reply().embeds[0]
    assert [f.value.split("\n")[0] for f in embed.fields] == ["bob knows the printer code too"]


async def test_forget_by_someone_else_is_refused_then_author_may(harness: Harness, core: MemoryCore) -> None:
    await harness.say("!store alice's note about the printer")
    harness.reply()
    await harness.say("!forget #1", member=1)
    refusal = harness.reply().embeds[0].description
    assert refusal is not None
    assert refusal.startswith("Not allowed: only ")
    assert "Manage Messages" in refusal
    assert (await core.get("default", 1)).id == 1

    await harness.say("!forget #1", member=0)
    assert harness.reply().embeds[0].description == "Forgot #1 (“alice's note about the printer”)."
    assert await core.recent("default") == []


async def test_members_with_manage_messages_may_forget_anything(harness: Harness, core: MemoryCore) -> None:
    await harness.say("!store a note nobody else wrote")
    await harness.make_moderator(2)
    await dpytest.empty_queue()
    await harness.say("!forget 1", member=2)
    assert harness.reply().embeds[0].description == "Forgot #1 (“a note nobody else wrote”)."


async def test_admin_roles_from_settings_may_forget(make_harness: MakeHarness, core: MemoryCore) -> None:
    harness = await make_harness(DiscordSettings(sync_commands=False, admin_role_ids=(777,)))
    keepers = backend.make_role("lore-keepers", harness.guild, id_num=777, permissions=0)
    await harness.say("!store a note by alice")
    await harness.say("!forget #1", member=1)
    await dpytest.empty_queue()
    assert [m.id for m in await core.recent("default")] == [1]
    await dpytest.add_role(harness.member(1), keepers)
    await harness.say("!forget #1", member=1)
    assert harness.reply().embeds[0].description == "Forgot #1 (“a note by alice”)."


async def test_unmapped_guild_is_refused_and_nothing_stored(
    make_harness: MakeHarness, core: MemoryCore
) -> None:
    tenants = TenantMap({"acme": TenantIdentities(discord=("111111111111111111",))})
    harness = await make_harness(tenant_map=tenants)
    await harness.say("!store this must not be stored")
    text = harness.reply().embeds[0].description
    assert text == (
        f"This discord identity ({harness.guild.id}) is not connected to any teamlore tenant. "
        "Ask an admin to add it to teamlore's tenant map."
    )
    assert await core.recent("acme") == []
    assert await core.recent("default") == []


async def test_mapped_guild_stores_in_its_tenant(harness: Harness, core: MemoryCore) -> None:
    # dpytest invents the guild id, so the map is given to the running Cog once the id is known.
    cog = harness.bot.get_cog("teamlore")
    assert isinstance(cog, TeamloreCog)
    cog.tenant_map = TenantMap({"acme": TenantIdentities(discord=(str(harness.guild.id),))})
    await harness.say("!store acme's own fact")
    assert harness.reply().embeds[0].title == "Remembered as #1."
    assert [m.text for m in await core.recent("acme")] == ["acme's own fact"]
    assert await core.recent("default") == []


async def test_direct_messages_are_refused(harness: Harness, core: MemoryCore) -> None:
    dm = await harness.member(0).create_dm()
    await harness.say("!store secret plans", channel=dm)
    assert harness.reply().embeds[0].description == (
        "teamlore answers in server channels; direct messages are off unless an admin connects yours."
    )
    assert await core.recent("default") == []


async def test_everyone_in_stored_text_pings_nobody(harness: Harness) -> None:
    await harness.say("!store @everyone the build is green <@&123> @here")
    embed = harness.reply().embeds[0]
    assert harness.sent[-1]["allowed_mentions"] == NO_PINGS
    assert embed.description is not None
    assert "@everyone" not in embed.description
    assert "@\u200beveryone the build is green" in embed.description
    await harness.say("!query build green")
    assert harness.sent[-1]["allowed_mentions"] == NO_PINGS
    assert "@everyone" not in str(harness.sent[-1])


async def test_long_answers_are_cut_within_discords_limits(harness: Harness, core: MemoryCore) -> None:
    filler = " ".join(f"word{i}" for i in range(180))
    for n in range(30):
        await core.store("default", draft(f"deploy checklist variant {n}: {filler}", tags=("ops",)))
    await harness.say("!query deploy checklist limit:50")
    embed = harness.reply().embeds[0]
    assert len(embed) <= 6000
    assert len(embed.fields) <= 25
    assert all(len(f.value or "") <= 1024 and len(f.name or "") <= 256 for f in embed.fields)
    assert all((f.value or "").split("\n")[0].endswith("…") for f in embed.fields)
    assert embed.footer.text is not None
    assert embed.footer.text.endswith("more not shown: narrow the question or lower limit:")


async def test_unexpected_errors_answer_with_a_reference_id(
    harness: Harness, core: MemoryCore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("index exploded")

    monkeypatch.setattr(core, "query", broken)
    await harness.say("!query anything")
    text = harness.reply().embeds[0].description
    assert text is not None
    assert text.startswith("Something went wrong (ref ")
    ref = text.removeprefix("Something went wrong (ref ").removesuffix(").")
    assert len(ref) == 6
    assert any(ref in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


async def test_bad_input_is_explained(harness: Harness) -> None:
    await harness.say("!store the thing ttl:soon")
    assert harness.reply().embeds[0].description == (
        "Can't store that: ttl must look like 30d, 12h, 2w or 90m (got 'soon')."
    )


async def test_per_user_cooldown(make_harness: MakeHarness) -> None:
    harness = await make_harness(
        DiscordSettings(sync_commands=False, cooldown_commands=2, cooldown_seconds=60)
    )
    await harness.say("!lore help")
    await harness.say("!lore help")
    await dpytest.empty_queue()
    await harness.say("!lore help")
    text = harness.reply().embeds[0].description
    assert text is not None
    assert text.startswith("Slow down: try again in ")
    await harness.say("!lore help", member=1)  # someone else is not slowed down
    assert (harness.reply().embeds[0].description or "").startswith("teamlore remembers")


async def test_unknown_commands_are_ignored(harness: Harness) -> None:
    await harness.say("!roll 2d6")
    await harness.say("!high five everyone")
    assert dpytest.sent_queue.empty()


async def test_configurable_prefix_and_mention_prefix(make_harness: MakeHarness) -> None:
    harness = await make_harness(DiscordSettings(sync_commands=False, prefix="?"))
    await harness.say("?lore help")
    help_text = harness.reply().embeds[0].description or ""
    assert "?store <text>" in help_text
    assert "?forget #<id>" in help_text
    await harness.say(f"<@{harness.bot.user.id}> store mentioned the bot #x")  # type: ignore[union-attr]
    assert harness.reply().embeds[0].title == "Remembered as #1 (#x)."


async def test_umbrella_and_help_of_one_command(harness: Harness) -> None:
    await harness.say("!lore store via the umbrella #x")
    assert harness.reply().embeds[0].title == "Remembered as #1 (#x)."
    await harness.say("!lore help forget")
    assert (harness.reply().embeds[0].description or "").startswith("!forget #<id>")


async def test_plain_text_where_the_bot_may_not_embed(harness: Harness) -> None:
    # A channel where @everyone (the bot included) may not embed links.
    await dpytest.set_permission_overrides(harness.guild.default_role, harness.channel, embed_links=False)
    await harness.say("!store @everyone plain text answer #x")
    reply = harness.reply()
    assert reply.embeds == []
    assert reply.content == "Remembered as #1 (#x)."
    assert harness.sent[-1]["allowed_mentions"] == NO_PINGS
    await harness.say("!query plain answer")
    content = harness.reply().content
    assert "#1 · " in content
    assert "@\u200beveryone plain text answer" in content
    assert len(content) <= 2000


async def test_reflect(harness: Harness) -> None:
    for text in (
        "the VPN moved to vpn2.corp #infra",
        "the old VPN host is off #infra",
        "VPN needs client 5 #infra",
    ):
        await harness.say(f"!store {text}")
    await dpytest.empty_queue()
    await harness.say("!reflect VPN")
    embed = harness.reply().embeds[0]
    assert (embed.title or "").startswith("Reflection on “VPN”")
    assert any(f.name == "Sources" for f in embed.fields)


async def test_store_warns_of_a_probable_contradiction_and_supersedes_replaces_it(
    harness: Harness, core: MemoryCore
) -> None:
    await harness.say("!store Backups are kept for 35 days. #backup")
    harness.reply()
    await harness.say("!store Backups are kept for 14 days now. #backup")
    embed = harness.reply().embeds[0]
    who = harness.member(0).display_name
    assert embed.title == "Remembered as #2 (#backup)."
    assert f"This may contradict #1 by {who} on " in (embed.footer.text or "") + str(embed.description)
    assert "supersedes:#1" in (embed.footer.text or "") + str(embed.description)
    await harness.say("!store Backups are kept for 14 days now. #backup supersedes:#1")
    harness.reply()
    assert (await core.get("default", 1)).superseded_by == 2
    await harness.say("!query how long are backups kept?")
    names = [f.name or "" for f in harness.reply().embeds[0].fields]
    assert [n.split(" · ")[0] for n in names] == ["#2"]
