"""`python -m bench cli` in one short round: the harness runs and its section renders (no timing asserted)."""

from __future__ import annotations

import pytest

from bench.cli import run_cli
from bench.report import cli_section

from ..conftest import MODEL_CACHE


@pytest.mark.model
@pytest.mark.slow
def test_one_round_measures_every_command_and_both_runtimes() -> None:
    result = run_cli(rounds=1, models=MODEL_CACHE, progress=lambda message: None)
    commands = result["commands"]
    assert commands['python -c "import torch"']["vs_import_torch"] == 1.0
    wanted = {"teamlore --help", "teamlore get 1", "teamlore query (onnx)", "teamlore query (torch runtime)"}
    assert wanted <= set(commands)
    assert all(c["median_s"] > 0 for c in commands.values())
    assert result["embedding"]["onnx"]["question_p50_ms"] > 0
    assert result["embedding"]["torch"]["batch32_texts_per_s"] > 0
    text = "\n".join(cli_section({**result, "machine": _machine_stub()}))
    assert "## Cold command line" in text and "`teamlore --help`" in text and "≤ 0.4×" in text


def _machine_stub() -> dict[str, object]:
    return {
        "date": "today",
        "command": "python -m bench cli",
        "cpu": "cpu",
        "cores": 2,
        "memory_gib": 8,
        "os": "linux",
        "python": "3.11",
        "sqlite": "3.40",
        "load_average_1m": 1.0,
    }
