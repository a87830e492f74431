"""bench/slack_ack.py runs and reports (a small load; real figures: `python -m bench.slack_ack`)."""

from __future__ import annotations

import json

import pytest

from bench import slack_ack


def test_the_ack_benchmark_reports_latencies(capsys: pytest.CaptureFixture[str]) -> None:
    assert slack_ack.main(["--requests", "5", "--rounds", "2", "--json"]) == 0
    [cold, warm] = json.loads(capsys.readouterr().out)
    for report in (cold, warm):
        assert report["requests"] == 5
        assert report["late_acks"] == 0
        assert 0 < report["ack_p50_ms"] <= report["ack_p99_ms"] <= report["ack_max_ms"] < 3000
        assert report["all_answered_s"] > 0
