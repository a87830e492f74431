"""AlertsSettings: the scheduler's settings section (TEAMLORE_ALERTS__*), filled in by teamlore."""

from __future__ import annotations

from datetime import timedelta
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from memory_core import Severity

__all__ = ["OFF", "AlertsSettings"]

OFF = "off"
"""A schedule set to this (or to an empty string) turns its job off."""


def _check_http_url(value: str, name: str) -> str:
    # Imported here: httpx costs ~80 ms to import, and every CLI command reads these settings.
    import httpx

    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"{name} is not a URL: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"{name} must be an http(s) URL with a host")
    return value


class AlertsSettings(BaseModel):
    """What the scheduler watches, when, and where it posts (`TEAMLORE_ALERTS__*`).

    Every notifier is optional; the log always gets the alerts (unless `log_alerts` is false).
    Schedules are 5-field crontab expressions in `timezone` (`minute hour day month weekday`);
    `off` turns a job off.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- notifiers -------------------------------------------------------------------------------------
    webhook_url: str | None = Field(
        None,
        description=(
            "Generic webhook: alerts and digests are POSTed here as JSON, signed with "
            "X-Teamlore-Timestamp: <Unix seconds> and "
            "X-Teamlore-Signature: sha256=<hex HMAC-SHA256 of '<timestamp>.<body>'>."
        ),
    )
    webhook_secret: SecretStr | None = Field(
        None, description="Key of the webhook signature; required with webhook_url."
    )
    slack_webhook_url: SecretStr | None = Field(
        None, description="Slack incoming-webhook URL (https://hooks.slack.com/services/...)."
    )
    slack_bot_token: SecretStr | None = Field(
        None, description="Slack bot token (xoxb-...) to post with chat.postMessage; needs slack_channel."
    )
    slack_channel: str | None = Field(
        None, description="Slack channel id (C0123...) or name the bot token posts to; the bot must be in it."
    )
    discord_webhook_url: SecretStr | None = Field(
        None, description="Discord webhook URL (https://discord.com/api/webhooks/<id>/<token>)."
    )
    log_alerts: bool = Field(True, description="Also write every alert and digest to the log.")

    # --- what alerts -----------------------------------------------------------------------------------
    threshold: int = Field(
        70, ge=0, le=100, description="Alert when the quality score (0-100) falls below this."
    )
    score_drop: int = Field(
        10,
        ge=1,
        le=100,
        description="While below the threshold, alert again only after the score fell this many more points.",
    )
    min_severity: Severity = Field(
        Severity.WARNING,
        description="New findings of this severity or worse alert (warning or critical; info never alerts).",
    )
    max_findings: int = Field(5, ge=1, le=25, description="Findings shown in one alert, worst first.")

    # --- schedules -------------------------------------------------------------------------------------
    quality_schedule: str = Field("0 * * * *", description="When the quality check runs (cron; hourly).")
    digest_schedule: str = Field(
        "0 9 * * mon", description="When the digest is posted (cron; weekly on Monday 09:00, or daily)."
    )
    expiry_schedule: str = Field("30 3 * * *", description="When the expiry sweep runs (cron; daily 03:30).")
    snapshot_schedule: str = Field(
        "15 */6 * * *", description="When the vector index snapshot is written (cron; every 6 hours)."
    )
    timezone: str = Field("UTC", description="Time zone of the schedules (IANA name, e.g. Europe/Berlin).")
    misfire_grace_seconds: int = Field(
        3600,
        ge=1,
        description=(
            "A run missed while no scheduler was up still happens if it is at most this late; "
            "missed runs of one job are coalesced into one."
        ),
    )

    # --- digest and expiry -----------------------------------------------------------------------------
    digest_first_days: int = Field(
        7, ge=1, le=90, description="Days the first digest covers; later ones cover the time since the last."
    )
    digest_max_items: int = Field(
        10, ge=1, le=50, description="New memories and reflections listed per digest."
    )
    digest_skip_empty: bool = Field(True, description="Post no digest when nothing new was stored.")
    expiry_delete_after_days: int | None = Field(
        None,
        ge=0,
        description=(
            "Delete memories expired for longer than this many days (audited, as system:scheduler); "
            "unset: expired memories are only counted and stay hidden, never deleted."
        ),
    )

    # --- delivery and coordination ---------------------------------------------------------------------
    http_timeout_seconds: float = Field(10.0, gt=0, le=120, description="Timeout of one notifier request.")
    max_attempts: int = Field(
        4, ge=1, le=10, description="Attempts per notification on 429, 5xx, timeouts and connection errors."
    )
    max_retry_wait_seconds: float = Field(
        60.0,
        ge=0,
        description="Longest wait between attempts; a Retry-After asking for more gives up on that delivery.",
    )
    lease_seconds: float = Field(
        60.0,
        gt=0,
        description=(
            "Processes sharing a database elect one scheduler through a lease row; it lasts this long "
            "unless renewed (every third of it). A standby takes over within about this time."
        ),
    )

    @field_validator("quality_schedule", "digest_schedule", "expiry_schedule", "snapshot_schedule")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        value = " ".join(value.split())
        if value.lower() in ("", OFF):
            return OFF
        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(
                f"{value!r} is not a crontab expression (minute hour day month weekday): {exc}"
            ) from exc
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone name such as UTC or Europe/Berlin") from exc
        return value

    @field_validator("min_severity")
    @classmethod
    def _check_severity(cls, value: Severity) -> Severity:
        if value is Severity.INFO:
            raise ValueError("info findings are too many to alert on: use warning or critical")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        return None if not value else _check_http_url(value, "webhook_url")

    @field_validator("slack_webhook_url", "discord_webhook_url")
    @classmethod
    def _check_secret_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        _check_http_url(value.get_secret_value(), "the webhook URL")
        return value

    @model_validator(mode="after")
    def _check_pairs(self) -> Self:
        if self.webhook_url and not (self.webhook_secret and self.webhook_secret.get_secret_value()):
            raise ValueError(
                "webhook_secret (TEAMLORE_ALERTS__WEBHOOK_SECRET) is required with webhook_url: "
                "receivers verify X-Teamlore-Signature with it"
            )
        if self.slack_bot_token and not self.slack_channel:
            raise ValueError(
                "slack_channel (TEAMLORE_ALERTS__SLACK_CHANNEL) is required with slack_bot_token"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def expiry_grace(self) -> timedelta | None:
        days = self.expiry_delete_after_days
        return None if days is None else timedelta(days=days)

    @property
    def notifier_names(self) -> list[str]:
        """The notifiers these settings turn on, in the order they are sent to."""
        names = []
        if self.slack_bot_token:
            names.append("slack")
        if self.slack_webhook_url:
            names.append("slack-webhook")
        if self.discord_webhook_url:
            names.append("discord")
        if self.webhook_url:
            names.append("webhook")
        if self.log_alerts:
            names.append("log")
        return names
