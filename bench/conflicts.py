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


TARGET = 0.85
CATEGORY_FLOOR = 0.7


def table(result: dict[str, Any]) -> str:
    """The figures as plain text for the terminal."""
    lines = []
    for name in ("overall", "dev", "held_out", "blind", "below_0_6"):
        r = result[name]
        lines.append(f"{name:>10}  n={r['n']:<4} precision={r['precision']:.3f}  recall={r['recall']:.3f}")
    for category, c in result["categories"].items():
        what = "recall" if c["contradicts"] else "left alone"
        lines.append(f"  {category:<18} n={c['n']:<3} {what}={c['score']:.3f}")
    for rule, r in result["rules"].items():
        lines.append(f"  rule {rule:<13} flagged={r['flagged']:<3} precision={r['precision']:.3f}")
    return "\n".join(lines)


def section(result: dict[str, Any] | None, machine_line: str | None) -> list[str]:
    """The docs/benchmarks.md section (`bench/report.py` places it)."""
    out = [
        "## Conflict finder",
        "",
        "`python -m bench conflicts` runs the conflict finder (`memory_core/_conflicts.py`, the same code "
        "the quality report, reflection and the store-time warning use) on `bench/fixtures/conflicts`: "
        "pairs of team memories written for this set, an older one and a newer one, labelled as "
        "contradicting (reversed decisions, negation flips, replacements, changed numbers, times, owners, "
        "URLs, versions) or only looking alike (restatements, elaborations, complementary facts, incident "
        "timelines, a fact and its reason). Each pair gets its cosine under all-MiniLM-L6-v2, as in the "
        "core. Targets: precision and recall at least 0.85 overall, no category under 0.7.",
        "",
    ]
    if result is None:
        return [*out, "Not measured yet: run `python -m bench conflicts`.", ""]
    low = result["below_0_6"]
    out += [
        "| part | pairs | precision | recall | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    labels = {
        "overall": "all pairs",
        "dev": "development (the rules were written looking at these)",
        "held_out": "held out (written with the others, not looked at while writing the rules)",
        "blind": "blind (written after the rules, scored once, then see below)",
        "below_0_6": "pairs with cosine below 0.6",
    }
    for name, label in labels.items():
        r = result[name]
        met = (
            ("met" if r["precision"] >= TARGET and r["recall"] >= TARGET else "**missed**")
            if name == "overall"
            else ""
        )
        out.append(f"| {label} | {r['n']} | {r['precision']:.3f} | {r['recall']:.3f} | {met} |")
    out += [
        "",
        "| category | kind | pairs | below 0.6 cosine | share right | floor 0.7 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for category, c in result["categories"].items():
        kind = "contradicting (recall)" if c["contradicts"] else "agreeing (left alone)"
        ok = "met" if c["score"] >= CATEGORY_FLOOR else "**missed**"
        out.append(f"| {category} | {kind} | {c['n']} | {c['below_0_6']} | {c['score']:.3f} | {ok} |")
    out += ["", "| rule that fired | pairs flagged | precision |", "| --- | --- | --- |"]
    for rule, r in result["rules"].items():
        out.append(f"| {rule} | {r['flagged']} | {r['precision']:.3f} |")
    misses = result["errors"]
    out += [
        "",
        f"{low['n']} pairs have a cosine below 0.6; what decides is the subject the two share, not the "
        "surface. Honest reading of the figures: the development pairs are fitted (the rules were written "
        "and corrected on them). On its first run the blind part scored precision 0.82 and recall 0.75 "
        "(2 false positives: sibling facts such as session vs refresh tokens; 3 misses); four general "
        "fixes followed (a parser bug on `$2,000`, `moved off X` as a replacement, the sibling-subject "
        "guard, a comma before a new subject and verb starting a clause), so its figure above is no "
        "longer blind. The held-out part was not tuned on. The quality "
        "report's planted team history (tests/memory_core/test_quality.py, 200 memories) is a second check "
        "on unrelated pairs: exactly the two planted contradictions are found, and none on the clean copy.",
        "",
        "Pairs the finder gets wrong:",
        "",
    ]
    out += [
        f"- `{e['id']}` ({e['category']}, {e['split']}, cosine {e['similarity']:.2f}): "
        + ("missed" if e["contradicts"] else f"false positive ({e['rule']}: {e['why']})")
        for e in misses
    ] or ["- none"]
    if machine_line:
        out += ["", machine_line]
    return [*out, ""]
