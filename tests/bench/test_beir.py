"""The BEIR-layout scorer on a tiny fixture written here, and the teamkb fixture with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.beir import load_beir, ndcg_graded, run_beir
from bench.sanity import TEAMKB, run_sanity
from memory_core import Embedder
from memory_core.testing import HashingEmbedder

pytestmark = pytest.mark.anyio


def write_beir(root: Path) -> Path:
    (root / "qrels").mkdir(parents=True)
    docs = [
        {"_id": "d1", "title": "Kafka", "text": "The events topic keeps messages for seven days."},
        {"_id": "d2", "title": "", "text": "Backups run nightly at two and are kept for 35 days."},
        {"_id": "d3", "title": "Lunch", "text": "Lunch is served at noon on the third floor."},
        {"_id": "d4", "title": "Empty", "text": ""},
    ]
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    queries = [
        {"_id": "q1", "text": "kafka events retention"},
        {"_id": "q2", "text": "when is lunch"},
        {"_id": "q3", "text": "unjudged question"},
    ]
    (root / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t1\nq2\td3\t1\n")
    return root


def test_loading(tmp_path: Path) -> None:
    data = load_beir(write_beir(tmp_path / "tiny"))
    assert data.corpus["d1"] == "Kafka\n\nThe events topic keeps messages for seven days."
    assert data.corpus["d4"] == "Empty"  # a title alone is still a document
    assert data.qrels == {"q1": {"d1": 2, "d2": 1}, "q2": {"d3": 1}}


def test_graded_ndcg() -> None:
    gains = {"a": 2, "b": 1}
    assert ndcg_graded(["a", "b"], gains) == pytest.approx(1.0)
    swapped = (1 + 2 / 1.5849625007211562) / (2 + 1 / 1.5849625007211562)
    assert ndcg_graded(["b", "a"], gains) == pytest.approx(swapped)
    assert ndcg_graded(["x"], gains) == 0.0


async def test_scores_per_mode(tmp_path: Path) -> None:
    result = await run_beir(write_beir(tmp_path / "tiny"), HashingEmbedder())
    assert (result["name"], result["documents"], result["queries"]) == ("tiny", 4, 2)
    keyword = result["modes"]["keyword"]["all"]
    assert keyword["n"] == 2
    assert keyword["R@10"] == pytest.approx(
        (0.5 + 1.0) / 2
    )  # d2 shares no word with "kafka events retention"
    assert result["modes"]["hybrid"]["all"]["nDCG@10"] > 0.5


@pytest.mark.model
async def test_teamkb_and_team_facts_with_the_real_model(real_embedder: Embedder) -> None:
    result = await run_sanity(real_embedder)
    assert TEAMKB.is_dir()
    assert result["teamkb"]["queries"] == 25
    assert result["teamkb"]["modes"]["hybrid"]["all"]["nDCG@10"] >= 0.9
    assert result["team_facts"]["modes"]["hybrid"]["all"]["R@3"] >= 0.9
