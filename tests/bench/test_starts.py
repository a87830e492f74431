"""A tiny slice of the quick-starts benchmark: every first-open figure is produced (no timing assertions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.starts import StartsConfig, run_starts, section
from bench.synth import fallback_sentences
from memory_core.testing import HashingEmbedder, team_facts


@pytest.mark.anyio
async def test_a_small_starts_run_produces_every_first_open_figure(tmp_path: Path) -> None:
    config = StartsConfig(
        memories=300, million=1500, queries=3, recall_queries=5, cache_dir=tmp_path, serve=False
    )
    questions = [q for _fact, q in team_facts()]
    result = await run_starts(config, HashingEmbedder(), fallback_sentences(), questions)
    first = result["first_open"]
    assert first["raw_vector_read_s"] >= 0 and first["first_answer_s"] >= first["open_s"]
    assert first["hnsw_recall"]["queries"] == 5 and first["query_during_build"]["n"] == 3
    assert first["hnsw_ready_s"] is not None and first["from_snapshot_first_answer_s"] > 0
    assert (tmp_path / "derived-1500" / "index" / "CURRENT").is_file()  # the close wrote a snapshot
    again = await run_starts(config, HashingEmbedder(), fallback_sentences(), questions)  # reuses the corpus
    assert again["first_open"]["hnsw_recall"]["recall_at_10"] == 1.0
    lines = "\n".join(section({**result, "machine": {}}, "*machine*"))
    assert "| first open of 1,500 memories (no snapshot) to the first answer | ≤ 120 s |" in lines
    assert "HNSW recall@10" in lines and "How: `python -m bench starts`" in lines
