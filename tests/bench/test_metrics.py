"""Ranking metrics: the definitions the reports rely on."""

from __future__ import annotations

import math

import pytest

from bench.metrics import Scores, mrr_at, ndcg_at, recall_at, score_ranking


def test_recall_is_the_share_of_evidence_found() -> None:
    ranked = ["a", "b", "c", "d", "e", "f"]
    assert recall_at(ranked, {"b", "z"}, 5) == 0.5
    assert recall_at(ranked, {"f"}, 5) == 0.0
    assert recall_at(ranked, {"f"}, 10) == 1.0


def test_ndcg_and_mrr() -> None:
    assert ndcg_at(["a", "b"], {"a"}, 10) == 1.0
    assert ndcg_at(["x", "a"], {"a"}, 10) == pytest.approx(1 / math.log2(3))
    assert ndcg_at(["x", "a"], {"a", "b"}, 10) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert mrr_at(["x", "y", "a"], {"a"}, 10) == pytest.approx(1 / 3)
    assert mrr_at(["x"] * 10 + ["a"], {"a"}, 10) == 0.0


def test_repeated_items_count_once() -> None:
    assert score_ranking(["a", "a", "b"], {"b"})["MRR@10"] == 0.5


def test_scores_average_per_group() -> None:
    scores = Scores()
    scores.add({"R@5": 1.0}, ("all", "x"))
    scores.add({"R@5": 0.0}, ("all", "y"))
    assert scores.means() == {
        "all": {"R@5": 0.5, "n": 2},
        "x": {"R@5": 1.0, "n": 1},
        "y": {"R@5": 0.0, "n": 1},
    }
