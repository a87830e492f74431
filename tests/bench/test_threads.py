"""`python -m bench threads` in a tiny run (hashing embedder): the hog burns a core, every row renders."""

from __future__ import annotations

import time
from pathlib import Path

import anyio

from bench.synth import fallback_sentences
from bench.threads import TARGET_TAIL, ThreadsConfig, cpu_hog, run_threads, section
from memory_core.testing import team_facts


def test_the_hog_is_a_busy_second_process_while_the_block_runs() -> None:
    with cpu_hog() as cpu_seconds:
        before = cpu_seconds()
        time.sleep(0.5)
        assert cpu_seconds() - before > 0.1


def test_a_tiny_run_measures_every_setting_quiet_and_beside_the_hog(tmp_path: Path) -> None:
    config = ThreadsConfig(
        counts=(1, 2), questions=4, batches=2, memories=30, queries=4, model="test-hashing", work_dir=tmp_path
    )
    questions = [q for _fact, q in team_facts()]
    result = anyio.run(lambda: run_threads(config, fallback_sentences(), questions, progress=lambda _m: None))
    names = set(result["embed"]["quiet"])
    assert len(names) == 2 and names == set(result["embed"]["hog"]) == set(result["query"])
    assert result["default"] in names and "1 thread a call" in result["default"]
    for runs in result["query"].values():
        assert runs["quiet"]["n"] == runs["hog"]["n"] == 4
    assert result["met"] == (result["tail_ratio"] <= TARGET_TAIL)
    text = "\n".join(section(result, "*Measured today.*"))
    assert "## Embedder threads, quiet and beside a busy process" in text
    assert f"{result['default']} (default)" in text and "≤ 2×" in text
