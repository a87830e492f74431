"""docs/discord.md stays true: every setting and every command is documented."""

from __future__ import annotations

from pathlib import Path

from bots.discord import DiscordSettings, TeamloreCog

DOC = (Path(__file__).resolve().parents[3] / "docs" / "discord.md").read_text()


def test_every_setting_is_in_the_settings_table() -> None:
    for name in DiscordSettings.model_fields:
        assert f"| `TEAMLORE_DISCORD__{name.upper()}` |" in DOC, name


def test_every_command_is_documented() -> None:
    for name in ("store", "query", "reflect", "forget", "lore"):
        assert f"`!{name}" in DOC, name
        assert f"`/{name}`" in DOC, name
    assert "Save to teamlore" in DOC
    cog_commands = {c.name for c in TeamloreCog.__cog_commands__}
    assert cog_commands == {"store", "query", "reflect", "forget", "lore"}
