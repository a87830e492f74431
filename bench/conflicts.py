"""The conflict finder on the labelled pairs of bench/fixtures/conflicts: precision and recall per category.

Each pair is an older memory `a` and a newer memory `b`, labelled contradicting or agreeing, with a
category (how they contradict, or why they only look alike). The finder (`memory_core._conflicts`) gets
the two texts, kinds and tags and their cosine under the real embedding model, exactly what the core
gives it. Pairs marked `"split": "held-out"` were written with the others but not looked at while the
rules were written; their figures are reported apart.

- Per contradicting category: recall (share of its pairs found).
- Per agreeing category: the share correctly left alone (a finding there is a false positive).
- Per rule the finder reports (negation, replacement, value, changed): precision.
- Overall precision and recall, for all pairs, for the development part and for the held-out part.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memory_core import Embedder
from memory_core._conflicts import Statement, contradiction

__all__ = ["PAIRS", "load_pairs", "run_conflicts", "score_pairs"]

PAIRS = Path(__file__).resolve().parent / "fixtures" / "conflicts" / "pairs.jsonl"


def load_pairs(path: Path = PAIRS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _statement(side: dict[str, Any]) -> Statement:
    return Statement(text=side["text"], kind=side.get("kind", "note"), tags=tuple(side.get("tags", ())))


def _pr(rows: Sequence[dict[str, Any]]) -> dict[str, float | int]:
    tp = sum(1 for r in rows if r["contradicts"] and r["found"])
    fp = sum(1 for r in rows if not r["contradicts"] and r["found"])
    fn = sum(1 for r in rows if r["contradicts"] and not r["found"])
    return {
        "n": len(rows),
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def score_pairs(pairs: Sequence[dict[str, Any]], similarities: Sequence[float]) -> dict[str, Any]:
    """Run the finder on each pair; figures per category, per rule, per split, and every miss."""
    rows = []
    for pair, similarity in zip(pairs, similarities, strict=True):
        found = contradiction(_statement(pair["a"]), _statement(pair["b"]), similarity=similarity)
        rows.append(
            {
                "id": pair["id"],
                "category": pair["category"],
                "contradicts": pair["contradicts"],
                "split": pair.get("split", "dev"),
                "similarity": round(similarity, 3),
                "found": found is not None,
                "rule": found.rule if found else None,
                "why": found.detail if found else None,
            }
        )
    categories: dict[str, dict[str, Any]] = {}
    for category in dict.fromkeys(r["category"] for r in rows):
        members = [r for r in rows if r["category"] == category]
        contradicting = members[0]["contradicts"]
        right = sum(1 for r in members if r["found"] == r["contradicts"])
        categories[category] = {
            "contradicts": contradicting,
            "n": len(members),
            "score": right / len(members),
            "below_0_6": sum(1 for r in members if r["similarity"] < 0.6),
        }
    rules: dict[str, dict[str, Any]] = {}
    for rule in sorted({r["rule"] for r in rows if r["rule"]}):
        flagged = [r for r in rows if r["rule"] == rule]
        rules[rule] = {
            "flagged": len(flagged),
            "precision": sum(1 for r in flagged if r["contradicts"]) / len(flagged),
        }
    low = [r for r in rows if r["similarity"] < 0.6]
    return {
        "pairs": len(rows),
        "contradicting": sum(1 for r in rows if r["contradicts"]),
        "overall": _pr(rows),
        "dev": _pr([r for r in rows if r["split"] == "dev"]),
        "held_out": _pr([r for r in rows if r["split"] == "held-out"]),
        "blind": _pr([r for r in rows if r["split"] == "blind"]),
        "below_0_6": _pr(low),
        "categories": categories,
        "rules": rules,
        "errors": [r for r in rows if r["found"] != r["contradicts"]],
    }


async def run_conflicts(embedder: Embedder, path: Path = PAIRS) -> dict[str, Any]:
    """Embed both sides of every pair with `embedder` and score the finder on them."""
    pairs = load_pairs(path)
    texts = [p[side]["text"] for p in pairs for side in ("a", "b")]
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    similarities = [float(vectors[2 * i] @ vectors[2 * i + 1]) for i in range(len(pairs))]
    return score_pairs(pairs, similarities)
