"""MailSettings: documented fields, env-friendly lists, and combinations refused at start."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from mailer import MailSettings, RelaySettings


@pytest.mark.parametrize("model", [MailSettings, RelaySettings])
def test_every_setting_is_described(model: type[BaseModel]) -> None:
    missing = [name for name, field in model.model_fields.items() if not field.description]
    assert missing == []


def test_defaults_listen_on_loopback_2525() -> None:
    settings = MailSettings()
    assert (settings.host, settings.port) == ("127.0.0.1", 2525)
    assert settings.recipients == ()
    assert not settings.tls_enabled


def test_lists_accept_comma_separated_text() -> None:
    settings = MailSettings(
        recipients="Lore@Teamlore.example, acme.com", allowed_senders=" @acme.com ,bob@x.org"
    )  # type: ignore[arg-type]
    assert settings.recipients == ("lore@teamlore.example", "acme.com")
    assert settings.allowed_senders == ("acme.com", "bob@x.org")


@pytest.mark.parametrize(
    "values",
    [
        {"recipients": ("not an address",)},
        {"recipients": ("a@b@c",)},
        {"tls_cert_file": Path("cert.pem")},
        {"require_starttls": True},
        {"auth_users": {"bob": "secret"}},
        {"auth_required": True},
        {"confirm": True},
        {"port": 70000},
    ],
)
def test_inconsistent_settings_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        MailSettings(**values)  # type: ignore[arg-type]


def test_secrets_stay_secret() -> None:
    settings = MailSettings(
        tls_cert_file=Path("c.pem"),
        tls_key_file=Path("k.pem"),
        auth_users={"bob": "hunter2"},  # type: ignore[dict-item]
    )
    assert "hunter2" not in repr(settings)
    assert settings.auth_users["bob"].get_secret_value() == "hunter2"


class _EnvSettings(BaseSettings):
    """How the composition root reads the section: env prefix TEAMLORE_, nested with __."""

    model_config = SettingsConfigDict(env_prefix="TEAMLORE_", env_nested_delimiter="__")
    mail: MailSettings = MailSettings()


@pytest.mark.parametrize("value", ["lore@acme.com, acme.org", '["lore@acme.com", "acme.org"]'])
def test_lists_from_the_environment(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TEAMLORE_MAIL__RECIPIENTS", value)
    monkeypatch.setenv("TEAMLORE_MAIL__ALLOWED_SENDERS", "acme.com")
    monkeypatch.setenv("TEAMLORE_MAIL__PORT", "2626")
    mail = _EnvSettings().mail
    assert mail.recipients == ("lore@acme.com", "acme.org")
    assert mail.allowed_senders == ("acme.com",)
    assert mail.port == 2626


def _env_names(model: type[BaseModel], prefix: str) -> list[str]:
    return [f"{prefix}{name.upper()}" for name in model.model_fields]


def test_docs_list_every_setting() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "mail.md").read_text()
    names = _env_names(MailSettings, "TEAMLORE_MAIL__") + _env_names(RelaySettings, "TEAMLORE_MAIL__RELAY__")
    assert [name for name in names if f"`{name}`" not in docs] == []
