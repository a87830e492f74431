"""`python -m bench conflicts` on a slice of the labelled pairs, so the harness and the set never rot."""

from __future__ import annotations

from pathlib import Path

import anyio

from bench.conflicts import PAIRS, load_pairs, run_conflicts, score_pairs, section, table
from memory_core.testing import HashingEmbedder


def test_the_labelled_set_is_what_the_docs_say() -> None:
    pairs = load_pairs()
    assert len(pairs) >= 80 and len({p["id"] for p in pairs}) == len(pairs)
    contradicting = [p for p in pairs if p["contradicts"]]
    assert abs(len(contradicting) - len(pairs) / 2) <= 1
    for pair in pairs:
        assert pair["a"]["text"] and pair["b"]["text"] and pair["category"]
        assert pair.get("split", "dev") in ("dev", "held-out", "blind")
    # Every category is all-contradicting or all-agreeing.
    kinds = {(p["category"], p["contradicts"]) for p in pairs}
    assert len(kinds) == len({p["category"] for p in pairs})


def test_a_slice_runs_and_scores(tmp_path: Path) -> None:
    pairs = load_pairs()[::8]
    sliced = tmp_path / "pairs.jsonl"
    sliced.write_text("".join(line + "\n" for line in PAIRS.read_text().splitlines()[::8]))
    result = anyio.run(lambda: run_conflicts(HashingEmbedder(), sliced))
    assert result["pairs"] == len(pairs)
    for name in ("overall", "dev", "held_out", "blind", "below_0_6"):
        assert 0 <= result[name]["precision"] <= 1 and 0 <= result[name]["recall"] <= 1
    assert set(result["categories"]) == {p["category"] for p in pairs}
    assert "overall" in table(result)
    text = "\n".join(section(result, None))
    assert "## Conflict finder" in text and "| all pairs |" in text


def test_scores_count_what_the_finder_says() -> None:
    pairs = [
        {
            "id": "x1",
            "category": "negation",
            "contradicts": True,
            "a": {"text": "The staging database is reset every night."},
            "b": {"text": "The staging database is no longer reset every night."},
        },
        {
            "id": "x2",
            "category": "restatement",
            "contradicts": False,
            "a": {"text": "Deploys happen on Tuesdays."},
            "b": {"text": "Tuesday is our deploy day."},
        },
    ]
    result = score_pairs(pairs, [0.9, 0.8])
    assert result["overall"] == {"n": 2, "precision": 1.0, "recall": 1.0, "tp": 1, "fp": 0, "fn": 0}
    assert result["rules"] == {"negation": {"flagged": 1, "precision": 1.0}} and result["errors"] == []
