"""AlertsSettings: documented fields, read from TEAMLORE_ALERTS__*, mistakes named clearly."""

from __future__ import annotations

import pytest
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from memory_core import Severity
from scheduler import AlertsSettings
from scheduler.config import OFF


class _Env(BaseSettings):
    """What teamlore's Settings does with the section: TEAMLORE_ prefix, nested with __."""

    model_config = SettingsConfigDict(env_prefix="TEAMLORE_", env_nested_delimiter="__")
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)


def test_every_field_has_a_description() -> None:
    missing = [name for name, field in AlertsSettings.model_fields.items() if not field.description]
    assert missing == []


def test_defaults_are_safe_and_log_only() -> None:
    settings = AlertsSettings()
    assert settings.notifier_names == ["log"]
    assert settings.quality_schedule == "0 * * * *"
    assert settings.expiry_grace is None  # nothing is deleted unless asked
    assert settings.min_severity is Severity.WARNING


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMLORE_ALERTS__WEBHOOK_URL", "https://hooks.example.com/x")
    monkeypatch.setenv("TEAMLORE_ALERTS__WEBHOOK_SECRET", "hush-hush-42")
    monkeypatch.setenv("TEAMLORE_ALERTS__THRESHOLD", "60")
    monkeypatch.setenv("TEAMLORE_ALERTS__DIGEST_SCHEDULE", "0 8 * * *")
    monkeypatch.setenv("TEAMLORE_ALERTS__EXPIRY_SCHEDULE", "off")
    monkeypatch.setenv("TEAMLORE_ALERTS__TIMEZONE", "Europe/Berlin")
    alerts = _Env().alerts
    assert alerts.webhook_secret is not None and alerts.webhook_secret.get_secret_value() == "hush-hush-42"
    assert "hush-hush-42" not in repr(alerts)
    assert (alerts.threshold, alerts.digest_schedule, alerts.expiry_schedule) == (60, "0 8 * * *", OFF)
    assert str(alerts.zone) == "Europe/Berlin"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"quality_schedule": "every hour"}, "not a crontab expression"),
        ({"digest_schedule": "61 * * * *"}, "not a crontab expression"),
        ({"timezone": "Mars/Olympus"}, "IANA time zone"),
        ({"webhook_url": "https://x.example/h"}, "TEAMLORE_ALERTS__WEBHOOK_SECRET"),
        ({"webhook_url": "ftp://x.example/h", "webhook_secret": "k"}, r"http\(s\) URL"),
        ({"slack_bot_token": "xoxb-1"}, "TEAMLORE_ALERTS__SLACK_CHANNEL"),
        ({"discord_webhook_url": "not a url"}, r"http\(s\) URL"),
        ({"min_severity": "info"}, "warning or critical"),
        ({"threshold": 101}, "less than or equal to 100"),
    ],
)
def test_mistakes_are_named(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AlertsSettings(**values)  # type: ignore[arg-type]


def test_schedules_are_normalised_and_can_be_off() -> None:
    settings = AlertsSettings(quality_schedule="  */15   * * * * ", snapshot_schedule="")
    assert settings.quality_schedule == "*/15 * * * *"
    assert settings.snapshot_schedule == OFF


def test_empty_webhook_urls_mean_off() -> None:
    settings = AlertsSettings(discord_webhook_url="", slack_webhook_url="", webhook_url="")
    assert settings.notifier_names == ["log"]
