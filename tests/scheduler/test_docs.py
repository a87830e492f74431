"""docs/scheduler.md stays true: every setting with its default and description, every command."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from typer.main import get_command

from scheduler import AlertsSettings
from teamlore.cli.alerts import build_alerts_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "scheduler.md"
START, END = "<!-- scheduler-settings:start -->", "<!-- scheduler-settings:end -->"


def settings_table() -> str:
    rows = ["| environment variable | default | meaning |", "|---|---|---|"]
    for name, field in AlertsSettings.model_fields.items():
        default = field.default
        if isinstance(default, Enum):
            default = default.value
        shown = (
            "—" if default is None else f"`{str(default).lower() if isinstance(default, bool) else default}`"
        )
        rows.append(f"| `TEAMLORE_ALERTS__{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)


def test_settings_table_matches_the_model() -> None:
    text = DOC.read_text()
    block = text[text.index(START) + len(START) : text.index(END)].strip()
    assert block == settings_table(), "update the settings table in docs/scheduler.md"


def test_every_alerts_command_is_documented() -> None:
    app = build_alerts_app(lambda: None, AlertsSettings)  # type: ignore[arg-type, return-value]
    commands = get_command(app).commands  # type: ignore[attr-defined]
    text = DOC.read_text()
    assert set(commands) == {"test", "run", "status"}
    for name in commands:
        assert f"`teamlore alerts {name}" in text
