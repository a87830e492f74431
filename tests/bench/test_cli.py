"""`python -m bench`: the commands the docs name exist, and the report renders from saved results."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench import report
from bench.__main__ import app


def test_every_command_is_in_the_docs_and_exists() -> None:
    help_text = CliRunner().invoke(app, ["--help"]).output
    documented = set(re.findall(r"python -m bench (\w+)", report.HEADER))
    commands = {command.name or command.callback.__name__ for command in app.registered_commands}  # type: ignore[union-attr]
    assert documented == commands
    for command in documented:
        assert command in help_text


def test_report_renders_saved_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    machine = {
        "date": "2026-01-01 00:00 UTC",
        "command": "python -m bench x",
        "cpu": "cpu",
        "cores": 2,
        "memory_gib": 24,
        "load_average_1m": 1.0,
        "os": "Linux",
        "python": "3.11",
        "sqlite": "3.40",
        "versions": {},
    }
    metrics = {"R@5": 0.61, "R@10": 0.71, "nDCG@10": 0.5, "MRR@10": 0.5, "n": 3}
    groups = {"all": metrics, "single-hop": metrics}
    results = tmp_path / "results"
    results.mkdir()
    (results / "locomo.json").write_text(
        json.dumps(
            {
                "machine": machine,
                "facts": {"conversations": 1, "turns": 10, "questions": 3, "duplicate_turns": 0},
                "modes": {"keyword": groups, "vector": groups, "hybrid": groups},
                "ablations": {"default": groups},
            }
        )
    )
    (results / "beir-mine.json").write_text(
        json.dumps(
            {
                "machine": machine,
                "name": "mine",
                "documents": 5,
                "queries": 2,
                "modes": {"hybrid": {"all": {"nDCG@10": 0.7, "R@10": 0.8, "n": 2}}},
            }
        )
    )
    monkeypatch.setattr(report, "RESULTS", results)
    text = report.render()
    assert "**teamlore hybrid (default)** | 0.610 | 0.710" in text
    assert "R@5 met, R@10 met" in text
    assert "**mine**: 5 documents" in text
    assert "Not measured yet: run `python -m bench scale`." in text
    out = report.write_report(tmp_path / "benchmarks.md")
    assert out.read_text() == text
