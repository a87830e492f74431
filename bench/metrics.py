"""Ranking metrics over binary relevance: Recall@k, nDCG@k and MRR@k, and their averages."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Scores", "mrr_at", "ndcg_at", "recall_at", "score_ranking"]

KS = (5, 10)


def recall_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """The fraction of the relevant items found in the first k (the LoCoMo paper's definition)."""
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Normalised discounted cumulative gain with binary gains, as BEIR computes it."""
    if not relevant:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 2) for rank, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(relevant), k)))
    return dcg / ideal


def mrr_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """1/rank of the first relevant item in the first k, else 0."""
    for rank, item in enumerate(ranked[:k], start=1):
        if item in relevant:
            return 1.0 / rank
    return 0.0


def score_ranking(ranked: Sequence[str], relevant: set[str]) -> dict[str, float]:
    """Every metric the reports show, for one question."""
    ranked = list(dict.fromkeys(ranked))  # one item may be reached twice (e.g. duplicate texts)
    return {
        "R@5": recall_at(ranked, relevant, 5),
        "R@10": recall_at(ranked, relevant, 10),
        "nDCG@10": ndcg_at(ranked, relevant, 10),
        "MRR@10": mrr_at(ranked, relevant, 10),
    }


@dataclass
class Scores:
    """Running sums of per-question metrics, overall and by a group key (e.g. LoCoMo category)."""

    sums: dict[str, dict[str, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, metrics: Mapping[str, float], groups: Iterable[str] = ("all",)) -> None:
        for group in groups:
            bucket = self.sums.setdefault(group, {})
            for name, value in metrics.items():
                bucket[name] = bucket.get(name, 0.0) + value
            self.counts[group] = self.counts.get(group, 0) + 1

    def means(self) -> dict[str, dict[str, float]]:
        """{group: {metric: mean}} plus each group's question count under "n"."""
        return {
            group: {
                **{m: round(v / self.counts[group], 4) for m, v in bucket.items()},
                "n": self.counts[group],
            }
            for group, bucket in self.sums.items()
        }
