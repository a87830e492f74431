"""`python -m bench peers`: a tiny run beside a real ChromaDB (when installed), the corpus, skip, section."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from typer.testing import CliRunner

import bench.__main__ as bench_main
from bench.peers import (
    TARGET_RATIO,
    PeersConfig,
    chroma_available,
    corpus,
    orders,
    run_peers,
    section,
    spread,
)
from bench.synth import fallback_sentences
from memory_core.testing import team_facts


@pytest.mark.skipif(not chroma_available(), reason="chromadb (the bench extra) is not installed")
def test_a_tiny_run_asks_both_and_reports_the_ratio(tmp_path: Path) -> None:
    config = PeersConfig(
        memories=40, questions=6, chunk=15, warm_up=1, model="test-hashing", work_dir=tmp_path
    )
    questions = [q for _fact, q in team_facts()]
    result = anyio.run(lambda: run_peers(config, fallback_sentences(), questions, progress=lambda _m: None))
    assert result["ingest"]["teamlore"]["stored"] == 40
    assert result["ingest"]["chroma (same embedder)"]["stored"] == 40
    assert set(result["query"]) == {"teamlore", "chroma (same embedder)", "encode (test-hashing)"}
    assert all(figures["n"] == 6 and figures["p50_ms"] > 0 for figures in result["query"].values())
    assert result["hits_per_question"]["chroma (same embedder)"] == 10
    assert result["reference"] == "chroma (same embedder)"
    expected = result["query"]["teamlore"]["p50_ms"] / result["query"]["chroma (same embedder)"]["p50_ms"]
    assert result["ratio_p50"]["chroma (same embedder)"] == pytest.approx(expected, abs=0.01)
    assert result["met"] == (result["ratio_p50"]["chroma (same embedder)"] <= TARGET_RATIO)
    assert "question embedding" in result["teamlore_stages"]  # teamlore's own stages, same loop


def test_the_corpus_is_every_turn_once_then_synthetic_texts() -> None:
    ship, backups = "we ship on tuesdays and thursdays only", "backups are kept for thirty days"
    turns = [("ann", ship), ("bob", backups)] * 3
    rows = corpus(turns, 10)
    texts = [text for _author, text in rows]
    assert texts[:2] == [f"ann: {ship}", f"bob: {backups}"]
    assert len(rows) == 10 and len(set(texts)) == 10
    assert all(text.startswith(f"{author}: ") for author, text in rows)
    assert corpus(turns, 1) == [("ann", f"ann: {ship}")]


def test_questions_are_spread_over_the_whole_list() -> None:
    assert spread([str(i) for i in range(10)], 5) == ["0", "2", "4", "6", "8"]
    assert spread(["a", "b"], 5) == ["a", "b"]


def test_every_system_is_asked_once_per_question_after_every_other_one() -> None:
    systems = ["teamlore", "chroma", "encode (onnx)", "encode (torch)"]
    asked = orders(systems, 200)
    assert asked == orders(systems, 200)  # the same order every run
    assert all(sorted(order) == sorted(systems) for order in asked)
    before_teamlore = {order[order.index("teamlore") - 1] for order in asked if order[0] != "teamlore"}
    assert before_teamlore == set(systems) - {"teamlore"}  # not always after the same one, as a rotation was
    assert sum(order[0] == "teamlore" for order in asked) in range(30, 71)


def test_without_chromadb_the_command_says_so_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench_main, "chroma_available", lambda: False)
    monkeypatch.setattr(bench_main, "RESULTS", tmp_path)
    done = CliRunner().invoke(bench_main.app, ["peers", "--memories", "10"])
    assert done.exit_code == 0
    assert "skipped, chromadb is not installed" in done.output
    assert list(tmp_path.iterdir()) == []


def test_the_section_shows_every_system_and_the_verdict_against_the_reference() -> None:
    figures = {"p50_ms": 10.0, "p99_ms": 20.0, "mean_ms": 11.0, "n": 200}
    result = {
        "config": {"memories": 10_000, "questions": 200, "chunk": 1000, "model": "m", "chromadb": "1.5"},
        "ingest": {
            "teamlore": {"stored": 10_000, "per_s": 500.0},
            "chroma (sentence-transformers)": {"stored": 10_000, "per_s": 1.0},
        },
        "query": {
            "teamlore": figures,
            "chroma (sentence-transformers)": {**figures, "p50_ms": 8.0},
            "chroma (same embedder)": {**figures, "p50_ms": 6.0},
            "encode (onnx)": figures,
            "encode (torch)": figures,
        },
        "teamlore_stages": {"question embedding": 5.0, "keyword search (beside the embedding)": 1.5},
        "ratio_p50": {"chroma (sentence-transformers)": 1.25, "chroma (same embedder)": 1.67},
        "ratio_p99": {"chroma (sentence-transformers)": 1.0, "chroma (same embedder)": 1.0},
        "reference": "chroma (sentence-transformers)",
        "met": False,
    }
    text = "\n".join(section(result, "*Measured today.*"))
    assert "## Beside plain ChromaDB" in text and "vector-only" in text
    assert "| query p50, teamlore / chroma (sentence-transformers), same run | 1.25×" in text
    assert "≤ 0.8× | **missed** |" in text and "(like for like)" in text
    assert "bare encode of one question, PyTorch (reference) | 10.0 ms" in text
    assert "500/s" in text
    assert "| keyword search (beside the embedding) | 1.5 |" in text  # teamlore's stages in the same loop
    assert section(None, None) == []
