"""Settings of the Discord front-end (`TEAMLORE_DISCORD__*`), as a plain model the composition root fills."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["DiscordSettings"]


class DiscordSettings(BaseModel):
    """The Discord bot: its token, prefix, intents, cooldown and who counts as an admin."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: SecretStr | None = Field(
        None,
        description="Bot token (Developer Portal > your app > Bot > Reset Token). The bot runs when set.",
    )
    application_id: int | None = Field(
        None,
        description="Application (client) id from the Developer Portal; `teamlore discord invite` builds "
        "the invite URL from it.",
    )
    prefix: str = Field(
        "!",
        min_length=1,
        max_length=8,
        pattern=r"^\S+$",
        description="Prefix of the text commands (!store, !query, ...). Mentioning the bot works as a "
        "prefix too.",
    )
    message_content: bool = Field(
        True,
        description="Ask for the privileged Message Content intent that prefix commands need (enable it "
        "on the Bot page of the Developer Portal). Slash commands work without it.",
    )
    cooldown_commands: int = Field(
        5, ge=1, le=1000, description="How many commands one user may run per cooldown window."
    )
    cooldown_seconds: float = Field(
        30.0, ge=0, le=3600, description="Length of the per-user cooldown window in seconds; 0 turns it off."
    )
    admin_role_ids: tuple[int, ...] = Field(
        (),
        description="Role ids whose members may forget any memory, besides members with Manage Messages "
        "(JSON list, e.g. [123456789012345678]).",
    )
    sync_commands: bool = Field(
        True, description="Register the slash commands and the message menu with Discord at start-up."
    )
    command_guild_ids: tuple[int, ...] = Field(
        (),
        description="Register the slash commands only in these guilds (instant), instead of globally "
        "(may take up to an hour to appear). JSON list.",
    )
