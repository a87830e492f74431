"""Slack settings, the retry window, the manifest and the docs: each kept true by a test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from bots.slack import SlackSettings
from bots.slack.config import SlackCommands
from bots.slack.deliveries import Deliveries, delivery_key

ROOT = Path(__file__).resolve().parents[3]


def test_defaults_are_off_and_modes_follow_the_tokens() -> None:
    assert not SlackSettings().enabled
    http = SlackSettings(bot_token="xoxb-1", signing_secret="0123456789abcdef0123")
    assert http.enabled
    assert not http.socket_mode
    socket = SlackSettings(bot_token="xoxb-1", app_token="xapp-1-A")
    assert socket.socket_mode
    assert SlackSettings(api_base_url="http://127.0.0.1:9/api").api_base_url == "http://127.0.0.1:9/api/"
    assert SlackSettings(admin_user_ids="U1, U2").admin_user_ids == ("U1", "U2")
    assert SlackSettings(admin_user_ids='["U3"]').admin_user_ids == ("U3",)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"bot_token": "xoxp-user-token", "app_token": "xapp-1"}, "TEAMLORE_SLACK__BOT_TOKEN"),
        ({"bot_token": "xoxb-1", "app_token": "xoxb-wrong"}, "TEAMLORE_SLACK__APP_TOKEN"),
        ({"bot_token": "xoxb-1", "signing_secret": "short"}, "TEAMLORE_SLACK__SIGNING_SECRET"),
        ({"bot_token": "xoxb-1"}, "TEAMLORE_SLACK__SIGNING_SECRET"),
        ({"app_token": "xapp-1"}, "TEAMLORE_SLACK__BOT_TOKEN"),
        ({"api_base_url": "slack.com/api"}, "TEAMLORE_SLACK__API_BASE_URL"),
    ],
)
def test_missing_or_malformed_settings_name_the_setting(values: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        SlackSettings(**values)


def test_secrets_do_not_leak_into_reprs() -> None:
    settings = SlackSettings(bot_token="xoxb-very-secret", signing_secret="s" * 32)
    assert "very-secret" not in repr(settings)
    assert "sss" not in str(settings.model_dump())


def test_command_names_are_validated() -> None:
    with pytest.raises(ValidationError):
        SlackCommands(store="store")  # no leading slash
    with pytest.raises(ValidationError, match="same name"):
        SlackCommands(store="/lore")
    assert SlackCommands(store="", query="/tl-query").by_name() == {
        "query": "/tl-query",
        "reflect": "/reflect",
        "forget": "/forget",
        "lore": "/lore",
    }


def test_deliveries_are_remembered_for_the_window_only() -> None:
    now = [0.0]
    seen = Deliveries(60, max_entries=3, clock=lambda: now[0])
    assert seen.first("a")
    assert not seen.first("a")
    now[0] = 61
    assert seen.first("a")  # the window passed
    for key in "bcd":
        assert seen.first(key)
    assert len(seen) == 3  # bounded: the oldest went first
    assert seen.first("a")


def test_delivery_keys() -> None:
    assert delivery_key({"type": "event_callback", "event_id": "Ev1", "trigger_id": "x"}) == "event:Ev1"
    assert delivery_key({"command": "/store", "trigger_id": "123.456"}) == "trigger:123.456"
    assert delivery_key({"type": "url_verification"}) is None


# --- the manifest matches the code -----------------------------------------------------------------


def manifest() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "deploy" / "slack-manifest.yml").read_text()))


def test_manifest_declares_exactly_what_teamlore_listens_to() -> None:
    data = manifest()
    settings = SlackSettings()
    features = data["features"]
    commands = [c["command"] for c in features["slash_commands"]]
    assert commands == list(settings.commands.by_name().values())
    assert all(c["should_escape"] is False for c in features["slash_commands"])
    [shortcut] = features["shortcuts"]
    assert shortcut == {
        "name": "Save to teamlore",
        "type": "message",
        "callback_id": settings.shortcut_callback_id,
        "description": shortcut["description"],
    }
    assert set(data["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "app_mentions:read",
        "chat:write",
        "users:read",
    }
    assert "user" not in data["oauth_config"]["scopes"]
    assert data["settings"]["event_subscriptions"]["bot_events"] == ["app_mention"]
    assert data["settings"]["interactivity"]["is_enabled"] is True
    urls = [c["url"] for c in features["slash_commands"]]
    urls += [
        data["settings"]["event_subscriptions"]["request_url"],
        data["settings"]["interactivity"]["request_url"],
    ]
    assert {url.removeprefix("https://teamlore.example.com") for url in urls} == {settings.events_path}
    assert data["settings"]["socket_mode_enabled"] is False


def test_socket_mode_variant_as_the_docs_describe_it_is_a_valid_manifest() -> None:
    text = (ROOT / "deploy" / "slack-manifest.yml").read_text()
    lines = [line for line in text.splitlines() if not line.strip().startswith(("url:", "request_url:"))]
    data = yaml.safe_load("\n".join(lines).replace("socket_mode_enabled: false", "socket_mode_enabled: true"))
    assert data["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in data["settings"]["event_subscriptions"]
    assert all(
        set(c) == {"command", "description", "usage_hint", "should_escape"}
        for c in data["features"]["slash_commands"]
    )


# --- the docs list every setting -------------------------------------------------------------------


def env_names(model: type[BaseModel], prefix: str) -> list[str]:
    names: list[str] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += env_names(annotation, f"{prefix}{name.upper()}__")
        else:
            names.append(prefix + name.upper())
    return names


def test_docs_list_every_setting_and_command() -> None:
    docs = (ROOT / "docs" / "slack.md").read_text()
    for env in env_names(SlackSettings, "TEAMLORE_SLACK__"):
        assert f"| `{env}` |" in docs, env
    for command in SlackSettings().commands.by_name().values():
        assert f"`{command}" in docs, command
    assert "Save to teamlore" in docs
    for field in (*SlackSettings.model_fields.values(), *SlackCommands.model_fields.values()):
        assert field.description, field
