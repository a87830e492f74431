"""`python -m bench concurrency` in a tiny run (hashing embedder): it runs, reports sane numbers, renders."""

from __future__ import annotations

from pathlib import Path

import anyio

from bench.concurrency import ConcurrencyConfig, run_concurrency, section
from bench.synth import fallback_sentences
from memory_core.testing import team_facts


def test_a_tiny_run_serves_every_query_and_reports_its_figures(tmp_path: Path) -> None:
    config = ConcurrencyConfig(
        memories=60,
        clients=3,
        queries=4,
        reference_queries=3,
        model="test-hashing",
        work_dir=tmp_path / "work",
        cache_dir=tmp_path / "cache",
        model_cache_dir=tmp_path / "models",
    )
    questions = [q for _fact, q in team_facts()]
    result = anyio.run(lambda: run_concurrency(config, fallback_sentences(), questions))
    concurrent, alone = result["concurrent"], result["single_client"]
    assert concurrent["answers"] == 12 and concurrent["errors"] == 0
    assert alone["answers"] == 6 and alone["errors"] == 0
    assert 0 < concurrent["p50_ms"] <= concurrent["p95_ms"] <= concurrent["p99_ms"] <= concurrent["max_ms"]
    assert concurrent["answers_per_s"] > 0 and result["embed_question"]["p50_ms"] > 0
    assert result["server"]["cpu_seconds"] > 0 and result["server"]["start_to_ready_s"] > 0
    assert set(result["met"]) == {"answers_per_s", "p99"}
    text = "\n".join(section(result, "*Measured today.*"))
    assert "## Concurrent REST clients" in text and "≥ 150/s" in text and "p99 < 1 s" in text
    assert "3 concurrent clients: answers/s" in text and "| question embedding |" in text
    assert result["in_process"]["answers_per_s"] > 0
