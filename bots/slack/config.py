"""Settings of the Slack front-end (`TEAMLORE_SLACK__*`), as a plain model the composition root fills."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

__all__ = ["SlackCommands", "SlackSettings"]

_COMMAND = r"^(/[a-z0-9][a-z0-9_.-]{0,31})?$"


class SlackCommands(BaseModel):
    """The slash command names; rename one where a workspace already has it, or set "" to drop it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    store: str = Field("/store", pattern=_COMMAND, description="Slash command that stores a memory.")
    query: str = Field("/query", pattern=_COMMAND, description="Slash command that answers a question.")
    reflect: str = Field("/reflect", pattern=_COMMAND, description="Slash command that writes a reflection.")
    forget: str = Field("/forget", pattern=_COMMAND, description="Slash command that deletes a memory.")
    lore: str = Field(
        "/lore",
        pattern=_COMMAND,
        description="Umbrella command (`/lore store ...`, `/lore query ...`, `/lore help`) for workspaces "
        "where a name is taken.",
    )

    def by_name(self) -> dict[str, str]:
        """Grammar command name -> configured slash command, for the commands that are switched on."""
        names = {"store": self.store, "query": self.query, "reflect": self.reflect, "forget": self.forget}
        names["lore"] = self.lore
        return {name: command for name, command in names.items() if command}

    @model_validator(mode="after")
    def _distinct(self) -> SlackCommands:
        used = list(self.by_name().values())
        if len(used) != len(set(used)):
            raise ValueError("two Slack commands have the same name")
        if not used:
            raise ValueError("every Slack command is switched off; keep at least /lore")
        return self


class SlackSettings(BaseModel):
    """The Slack app: tokens, where the Web API is, command names, admins and how answers are shown.

    Slack is on when `bot_token` is set. With `app_token` it connects over Socket Mode (no public URL
    needed); otherwise Slack calls `POST /slack/events` on teamlore's web server, verified with
    `signing_secret`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    bot_token: SecretStr | None = Field(
        None,
        description="Bot User OAuth Token (xoxb-...) from the app's OAuth & Permissions page. Slack runs "
        "when it is set.",
    )
    signing_secret: SecretStr | None = Field(
        None,
        description="Signing Secret from the app's Basic Information page; verifies every request to "
        "POST /slack/events (HTTP mode). Requests older than five minutes are refused.",
    )
    app_token: SecretStr | None = Field(
        None,
        description="App-level token (xapp-...) with the connections:write scope. When set, teamlore "
        "connects to Slack over Socket Mode instead of waiting for HTTP requests.",
    )
    api_base_url: str = Field(
        "https://slack.com/api/",
        description="Base URL of Slack's Web API; change it only for a proxy, Enterprise Grid gateway or "
        "tests.",
    )
    events_path: str = Field(
        "/slack/events",
        pattern=r"^/[A-Za-z0-9/_.-]*$",
        description="Path of the HTTP endpoint on teamlore's web server (the Request URL of the manifest).",
    )
    commands: SlackCommands = Field(
        default_factory=SlackCommands,
        description="Slash command names (TEAMLORE_SLACK__COMMANDS__STORE=/tl-store, ...); they must match "
        "the app manifest.",
    )
    shortcut_callback_id: str = Field(
        "teamlore_save",
        pattern=r"^[A-Za-z0-9_.-]{1,255}$",
        description='Callback id of the "Save to teamlore" message shortcut (as in the manifest).',
    )
    # NoDecode: pydantic-settings hands the raw env string to `_split_ids`, so "U1,U2" works as well as JSON.
    admin_user_ids: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="Slack user ids (U... or W...) that may /forget any memory, not only their own. JSON "
        'list or comma-separated, e.g. ["U012AB3CD"].',
    )
    ephemeral: bool = Field(
        True,
        description="Answers are shown only to the person who asked (query answers get a Share to "
        "channel button). False posts every answer in the channel.",
    )
    text_limit: int = Field(
        600,
        ge=80,
        le=2500,
        description="Longest memory text shown in an answer, in characters; longer texts are cut at a word.",
    )
    retry_window_seconds: float = Field(
        3600.0,
        ge=60,
        le=86400,
        description="How long a delivery id (event_id, trigger_id) is remembered, so a request Slack "
        "retries or replays is acknowledged but never run twice.",
    )

    @field_validator("bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("TEAMLORE_SLACK__BOT_TOKEN must be a bot token starting with xoxb-")
        return value

    @field_validator("app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("TEAMLORE_SLACK__APP_TOKEN must be an app-level token starting with xapp-")
        return value

    @field_validator("signing_secret")
    @classmethod
    def _signing_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < 16:
            raise ValueError("TEAMLORE_SLACK__SIGNING_SECRET looks truncated (Slack's are 32 hex digits)")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("TEAMLORE_SLACK__API_BASE_URL must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _connection(self) -> SlackSettings:
        if self.bot_token is None:
            if self.signing_secret is not None or self.app_token is not None:
                raise ValueError("TEAMLORE_SLACK__BOT_TOKEN is needed to turn Slack on")
        elif self.signing_secret is None and self.app_token is None:
            raise ValueError(
                "Slack needs TEAMLORE_SLACK__SIGNING_SECRET (HTTP mode) or TEAMLORE_SLACK__APP_TOKEN "
                "(Socket Mode) besides the bot token"
            )
        return self

    @property
    def enabled(self) -> bool:
        """Slack is configured (a bot token is set)."""
        return self.bot_token is not None

    @property
    def socket_mode(self) -> bool:
        """Connect over Socket Mode (an app-level token is set) rather than serve HTTP requests."""
        return self.app_token is not None
