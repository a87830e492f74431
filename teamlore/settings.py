"""The one Settings object: read once at start from TEAMLORE_* variables (and .env), then passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bots.discord.config import DiscordSettings
from bots.slack.config import SlackSettings
from mailer.config import MailSettings
from mcp_server.config import McpSettings
from memory_core import (
    ConfigurationError,
    CoreOptions,
    CoreSettings,
    TenantIdentities,
    TenantMap,
    webhook_key,
)
from scheduler.config import AlertsSettings
from webhooks.config import WebhookSettings
from webui.config import WebSettings

__all__ = ["ApiSettings", "HttpSettings", "LoggingSettings", "Settings", "load_settings"]


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("teamlore", appauthor=False))


class HttpSettings(BaseModel):
    """The web server: health, metrics, Slack events, MCP over HTTP and the REST API."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field("127.0.0.1", description="Address the web server listens on.")
    port: int = Field(8080, ge=0, le=65535, description="Port of the web server (0: any free port).")
    public_url: str | None = Field(
        None,
        description="The address people reach the web app at, e.g. https://lore.acme.com: alerts and digests "
        "link to its pages, and with https the session cookies are Secure.",
    )

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("public_url must be an http(s) URL such as https://lore.acme.com")
        return value.rstrip("/")


class ApiSettings(BaseModel):
    """The REST API."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate_limit_per_minute: int = Field(
        240, ge=1, description="Requests one API key may make per minute (per process); more get 429."
    )
    burst: int = Field(60, ge=1, description="Requests one API key may make at once before the rate applies.")


class LoggingSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    format: Literal["plain", "json"] = Field("plain", description="Log line format: plain text or JSON.")


class Settings(BaseSettings):
    """Every setting of teamlore. Environment: `TEAMLORE_<NAME>`, sections nested with `__`."""

    model_config = SettingsConfigDict(
        env_prefix="TEAMLORE_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the SQLite database and index snapshots live (default: the user data directory).",
    )
    database_url: str | None = Field(
        None,
        description="Database URL instead of SQLite in the data directory, e.g. postgresql+asyncpg://u:p@host/db.",
    )
    tenants: dict[str, TenantIdentities] = Field(
        default_factory=dict,
        description='Tenant map as JSON, e.g. {"acme": {"slack": ["T0123"], "discord": ["1234"], '
        '"mail": ["acme.com"]}}. Empty: one tenant, "default", for everything.',
    )
    core: CoreOptions = Field(
        default_factory=CoreOptions, description="Embedding, hygiene and search options."
    )
    http: HttpSettings = Field(default_factory=HttpSettings, description="The web server.")
    api: ApiSettings = Field(default_factory=ApiSettings, description="The REST API.")
    mcp: McpSettings = Field(default_factory=McpSettings, description="MCP over HTTP at /mcp.")
    slack: SlackSettings = Field(default_factory=SlackSettings, description="The Slack app (docs/slack.md).")
    discord: DiscordSettings = Field(
        default_factory=DiscordSettings, description="The Discord bot (docs/discord.md)."
    )
    mail: MailSettings = Field(default_factory=MailSettings, description="SMTP ingest (docs/mail.md).")
    alerts: AlertsSettings = Field(
        default_factory=AlertsSettings,
        description="Quality alerts, digests and the expiry sweep (docs/scheduler.md).",
    )
    web: WebSettings = Field(default_factory=WebSettings, description="The web app at / (docs/web.md).")
    webhooks: WebhookSettings = Field(
        default_factory=WebhookSettings, description="Signed webhooks at /hooks (README: Webhooks)."
    )
    log: LoggingSettings = Field(default_factory=LoggingSettings, description="Logging.")

    def core_settings(self) -> CoreSettings:
        return CoreSettings(data_dir=self.data_dir, database_url=self.database_url, **_fields(self.core))

    def webhook_key(self) -> bytes:
        """The server key that seals webhook secrets (the setting, else the data directory's key file)."""
        configured = self.webhooks.secret_key
        return webhook_key(self.data_dir, configured.get_secret_value() if configured else None)

    def tenant_map(self) -> TenantMap:
        return TenantMap(self.tenants)


def _fields(model: BaseModel) -> dict[str, Any]:
    return {name: getattr(model, name) for name in type(model).model_fields}


def load_settings(**overrides: Any) -> Settings:
    """Read the settings once; a malformed value fails with the setting's environment name."""
    try:
        settings = Settings(**overrides)
        settings.tenant_map()  # a tenant map that contradicts itself fails now, not at the first message
        return settings
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "TEAMLORE_" + "__".join(
                str(part).upper() for part in error["loc"] if not isinstance(part, int)
            )
            problems.append(f"{name}: {error['msg']}")
        raise ConfigurationError("invalid settings: " + "; ".join(problems)) from exc
