"""A tiny slice of the scale benchmark: every figure is produced (no timing assertions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.scale import BESIDE, OVERLAPPED, REST, ScaleConfig, percentile, run_scale, stage_figures
from bench.scale_report import scale_section
from bench.synth import fallback_sentences, synth_memories, synth_texts
from memory_core import QueryTrace
from memory_core.testing import HashingEmbedder, team_facts


def test_synthetic_texts_are_unique_and_deterministic() -> None:
    sentences = fallback_sentences()
    texts = synth_texts(300, sentences, seed=3)
    assert len(set(texts)) == 300
    assert texts == synth_texts(300, sentences, seed=3)
    for text, (first, _second) in synth_memories(20, sentences):
        assert text.startswith(sentences[first][0] + ": ")


def test_percentile() -> None:
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0


def test_stage_figures_leave_a_stage_run_beside_the_embedding_out_of_the_rest() -> None:
    traces = []
    for whole_ms in (10.0, 11.0, 12.0):
        trace = QueryTrace()
        trace.stages = {"question embedding": 0.005, "keyword search": 0.002, "fusion": 0.001}
        trace.overlapped = {"keyword search"}
        traces.append((whole_ms / 1000, trace))
    figures = stage_figures(traces)
    assert "keyword search" not in figures and figures["keyword search" + OVERLAPPED] == 2.0
    assert figures["whole query"] == 11.0
    assert figures[REST] == 5.0  # 11 less the embedding (5) and fusion (1): keyword hid in the embedding
    assert figures[BESIDE] == 6.0 and 6.9 < figures[BESIDE + " p99"] <= 7.0
    for _whole, trace in traces:
        trace.overlapped = set()  # one stage after the other: everything is on the critical path
    assert stage_figures(traces)[REST] == 3.0


@pytest.mark.anyio
async def test_a_small_scale_run_produces_every_figure(tmp_path: Path) -> None:
    config = ScaleConfig(
        small=300,
        memories=1200,
        million=1500,
        queries=10,
        stores=3,
        ingest_texts=80,
        work_dir=tmp_path / "scale",
        serve=False,
        cache_dir=tmp_path / "cache",
    )
    questions = [q for _fact, q in team_facts()]
    result = await run_scale(config, HashingEmbedder(), fallback_sentences(), questions)
    assert result["ingest"]["texts"] == 40 and result["ingest"]["ratio"] > 0
    assert result["query_100k"]["n"] == config.queries
    assert result["query_1m"]["n"] == config.queries
    assert result["store"]["n"] == 3
    stages = result["stages_100k"]
    # A lone question on SQLite: its keyword search runs beside the embedding, and is labelled so.
    assert {
        "question embedding",
        "keyword search" + OVERLAPPED,
        "vector search (FAISS)",
        "dates and context",
    } <= set(stages)
    assert result["deleted_never_returned"] is True
    assert result["hnsw"]["recall_at_10"] == 1.0  # 1,200 vectors: the exact index
    for size in ("small", "1m"):
        assert BESIDE in result[f"stages_{size}"] and BESIDE + " p99" in result[f"stages_{size}"]
    assert result["query_small"]["n"] == config.queries
    assert result["query_embedding"]["n"] > 0 and "query_embedding_torch" not in result
    assert 0 < result["stages_100k"][BESIDE] <= result["stages_100k"]["whole query"]

    # The docs section: every figure beside issue #16's target, a missed one marked.
    result["machine"] = {"date": "today"}
    result["stages_small"][BESIDE] = 3.5
    text = "\n".join(scale_section(result, "*machine*"))
    assert "| p50 ≤ 3 ms | p50 3.5 ms" in text and "**missed**" in text
    assert "p50 ≤ 12 ms, p99 ≤ 40 ms" in text and "| single store latency | p50 ≤ 15 ms |" in text
    assert "Where a query's time goes at 1k" in text and "### Reading the misses" in text


@pytest.mark.anyio
async def test_prepare_builds_the_corpora_and_times_nothing(tmp_path: Path) -> None:
    config = ScaleConfig(
        small=200,
        memories=400,
        million=600,
        work_dir=tmp_path / "scale",
        cache_dir=tmp_path / "c",
        prepare=True,
    )
    result = await run_scale(config, HashingEmbedder(), fallback_sentences(), ["a question"])
    assert "query_100k" not in result and "ingest" not in result
    for name in ("corpus-200", "corpus-400", "derived-600"):
        assert (tmp_path / "scale" / name / "index" / "CURRENT").is_file()  # the snapshot later runs load
