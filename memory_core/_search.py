"""Pure ranking: fuse the vector and keyword lists, then dates, conversation context and bounded boosts.

The final score of a hit is

    (fused * (1 + date_boost) + context) * (1 + importance_boost) * (1 + recency_boost)

* fused: a weighted mean of the two retrievers' normalised scores (default), or reciprocal-rank fusion.
  Cosine similarity is scaled so `min_similarity` is 0 and the best hit 1, then raised to
  `vector_exponent`: a hit well below the clear best meaning match keeps little. BM25 is divided by the
  best BM25, or by `keyword_coverage` times what a memory holding every word of the question would
  score, whichever is larger: a best keyword hit that shares one word of five with the question is not
  a perfect match just because nothing matched better. Scores keep more information than ranks: a
  retriever that is sure (one hit far above the rest) outweighs one that is not, which RRF cannot see.
* date_boost: the question names a time ("on 5 May 2023", "last week") and the memory was written in
  it, or within a week after (things are written down shortly after they happen).
* context: conversation turns borrow relevance from their neighbours. A message that is the reply to
  (or is replied to by) a well-ranked message of someone else, written minutes apart, gets a share of
  that message's score: "what did Sam answer when asked about X" finds the answer, not only the
  question. It only reorders memories a retriever proposed; it never adds one.
* importance and recency: small, bounded relative boosts.

docs/benchmarks.md has the measurements behind every default (LoCoMo, BEIR-layout sets, team facts).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NamedTuple, Protocol

from .config import SearchSettings
from .types import Importance, ScoreBreakdown

SearchMode = Literal["hybrid", "vector", "keyword"]
"""Which retrievers a query runs: both, fused (the default), or one of them alone."""

__all__ = [
    "Candidate",
    "CandidateFacts",
    "Ranked",
    "RankingFacts",
    "SearchMode",
    "above_floor",
    "apply_context",
    "apply_dates",
    "boosts",
    "breakdown",
    "final_score",
    "fuse",
    "rank",
]

_IMPORTANCE_SHARE = {
    Importance.LOW: -0.5,
    Importance.NORMAL: 0.0,
    Importance.HIGH: 0.5,
    Importance.CRITICAL: 1.0,
}

# A memory written up to a day before or a week after a named time still belongs to it.
_DATE_SLACK_BEFORE = timedelta(days=1)
_DATE_SLACK_AFTER = timedelta(days=7)


class RankingFacts(Protocol):
    """What ranking needs to know of a memory beyond its scores (a `Memory` has it all)."""

    @property
    def created_at(self) -> datetime: ...
    @property
    def importance(self) -> Importance: ...
    @property
    def author(self) -> str | None: ...
    @property
    def author_id(self) -> str | None: ...


class CandidateFacts(NamedTuple):
    """The few columns ranking reads for every candidate; whole memories are built only for the hits."""

    created_at: datetime
    importance: Importance
    author: str | None
    author_id: str | None


@dataclass
class Candidate:
    memory_id: int
    vector_rank: int | None = None
    vector_similarity: float | None = None
    keyword_rank: int | None = None
    keyword_score: float | None = None
    fused: float = 0.0
    date_boost: float = 0.0
    context: float = 0.0

    @property
    def ranking_score(self) -> float:
        """The score before the importance and recency boosts."""
        return self.fused * (1.0 + self.date_boost) + self.context


def _sort(candidates: Sequence[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=lambda c: (-c.ranking_score, c.memory_id))


def fuse(
    vector_hits: list[tuple[int, float]],
    keyword_hits: list[tuple[int, float]],
    settings: SearchSettings,
    keyword_full_match: float = 0.0,
) -> list[Candidate]:
    """Both lists (best first) as one, best first.

    `keyword_full_match` is what a memory holding every word of the question would score in the
    keyword list (see the module docstring). A memory first in every non-empty list scores 1.0 unless
    the best keyword hit covers less than `keyword_coverage` of the question.
    """
    candidates: dict[int, Candidate] = {}
    for rank, (memory_id, similarity) in enumerate(vector_hits, start=1):
        c = candidates.setdefault(memory_id, Candidate(memory_id))
        c.vector_rank, c.vector_similarity = rank, similarity
    for rank, (memory_id, score) in enumerate(keyword_hits, start=1):
        c = candidates.setdefault(memory_id, Candidate(memory_id))
        c.keyword_rank, c.keyword_score = rank, score
    weight = (settings.vector_weight if vector_hits else 0.0) + (
        settings.keyword_weight if keyword_hits else 0.0
    )
    if weight <= 0:
        return _sort(list(candidates.values()))
    if settings.fusion == "rrf":
        k = settings.rrf_k
        for c in candidates.values():
            if c.vector_rank is not None:
                c.fused += settings.vector_weight / (k + c.vector_rank)
            if c.keyword_rank is not None:
                c.fused += settings.keyword_weight / (k + c.keyword_rank)
        best = weight / (k + 1)
    else:
        floor = settings.min_similarity
        top_similarity = max((s for _, s in vector_hits), default=floor)
        top_keyword = max(
            max((s for _, s in keyword_hits), default=0.0), settings.keyword_coverage * keyword_full_match
        )
        for c in candidates.values():
            if c.vector_similarity is not None:
                span = top_similarity - floor
                share = (c.vector_similarity - floor) / span if span > 1e-9 else 1.0
                c.fused += settings.vector_weight * min(1.0, max(0.0, share)) ** settings.vector_exponent
            if c.keyword_score is not None:
                share = c.keyword_score / top_keyword if top_keyword > 0 else 1.0
                c.fused += settings.keyword_weight * min(1.0, max(0.0, share))
        best = weight
    for c in candidates.values():
        c.fused /= best
    return _sort(list(candidates.values()))


def apply_dates(
    candidates: list[Candidate],
    written: Mapping[int, datetime],
    windows: Sequence[tuple[datetime, datetime]],
    settings: SearchSettings,
) -> list[Candidate]:
    """Boost the memories written in (or just after) a time the question names; re-sorted."""
    if not windows or settings.date_boost <= 0:
        return candidates
    for c in candidates:
        at = written.get(c.memory_id)
        if at is not None and any(
            start - _DATE_SLACK_BEFORE <= at < end + _DATE_SLACK_AFTER for start, end in windows
        ):
            c.date_boost = settings.date_boost
    return _sort(candidates)


def _may_lend(lender: RankingFacts, receiver: RankingFacts, window: timedelta) -> bool:
    """Two neighbouring memories are turns of one conversation: different people, minutes apart."""
    lender_who = lender.author_id or lender.author
    receiver_who = receiver.author_id or receiver.author
    return bool(
        lender_who
        and receiver_who
        and lender_who != receiver_who
        and abs(lender.created_at - receiver.created_at) <= window
    )


def apply_context(
    candidates: list[Candidate],
    memories: Mapping[int, RankingFacts],
    neighbours: Mapping[int, Sequence[int]],
    settings: SearchSettings,
) -> list[Candidate]:
    """Let the best candidates lend a share of their score to neighbouring turns; re-sorted.

    `neighbours[m]` are the memories stored right before and after m in the tenant. Only the
    `context_lenders` best candidates lend, only to candidates, and each receiver takes the largest
    share it is offered (not the sum), so context can reorder but never dominate.
    """
    if settings.context_weight <= 0 or not neighbours:
        return candidates
    window = timedelta(minutes=settings.context_window_minutes)
    by_id = {c.memory_id: c for c in candidates}
    lenders = [c for c in candidates[: settings.context_lenders] if c.memory_id in memories]
    offers: dict[int, float] = {}
    for lender in lenders:
        for receiver_id in neighbours.get(lender.memory_id, ()):
            receiver = by_id.get(receiver_id)
            if receiver is None or receiver_id not in memories:
                continue
            if not _may_lend(memories[lender.memory_id], memories[receiver_id], window):
                continue
            share = settings.context_weight * lender.fused * (1.0 + lender.date_boost)
            offers[receiver_id] = max(offers.get(receiver_id, 0.0), share)
    if not offers:
        return candidates
    for receiver_id, share in offers.items():
        by_id[receiver_id].context = share
    return _sort(candidates)


def boosts(memory: RankingFacts, now: datetime, settings: SearchSettings) -> tuple[float, float]:
    """(importance, recency) relative boosts, each bounded by its setting."""
    importance = settings.importance_boost * _IMPORTANCE_SHARE[memory.importance]
    age_days = max(0.0, (now - memory.created_at).total_seconds() / 86400)
    recency = settings.recency_boost * math.pow(0.5, age_days / settings.recency_half_life_days)
    return importance, recency


def final_score(candidate: Candidate, importance: float, recency: float) -> float:
    """The score a hit is ranked by (rounded as its breakdown shows it)."""
    return round(candidate.ranking_score * (1.0 + importance) * (1.0 + recency), 6)


def breakdown(candidate: Candidate, importance: float, recency: float) -> ScoreBreakdown:
    final = final_score(candidate, importance, recency)
    return ScoreBreakdown(
        vector_rank=candidate.vector_rank,
        vector_similarity=None
        if candidate.vector_similarity is None
        else round(candidate.vector_similarity, 6),
        keyword_rank=candidate.keyword_rank,
        keyword_score=None if candidate.keyword_score is None else round(candidate.keyword_score, 6),
        fused=round(candidate.fused, 6),
        date_boost=round(candidate.date_boost, 6),
        context=round(candidate.context, 6),
        importance_boost=round(importance, 6),
        recency_boost=round(recency, 6),
        final=final,
    )


Ranked = tuple[float, Candidate, float, float]
"""A ranked candidate: its final score, the candidate, its importance and recency boosts."""


def above_floor(hits: list[tuple[int, float]], settings: SearchSettings) -> list[tuple[int, float]]:
    """The vector hits at or above `min_similarity`."""
    # Unrelated texts still have *a* nearest neighbour; a floor keeps them out of the fusion.
    return [(m, sim) for m, sim in hits if sim >= settings.min_similarity]


def rank(
    candidates: list[Candidate],
    facts: Mapping[int, CandidateFacts],
    now: datetime,
    settings: SearchSettings,
    limit: int,
) -> list[Ranked]:
    """The best `limit` candidates with facts, by final score (importance and recency boosts applied).

    A candidate whose score could not reach the `limit`-th best final score so far even with the
    largest boosts is skipped unscored: the boosts are bounded and never negative factors (settings
    keep each in 0..0.5, and the importance share is at least -0.5), so its final score is at most
    `ranking_score * (1 + importance_boost) * (1 + recency_boost)`, computed in the same order and
    rounded alike, and a strictly lower bound cannot tie its way in. The result is exactly the full
    ranking's best `limit`; most of the ~200 candidates of a hybrid query are skipped this way.
    """
    most_importance = 1.0 + settings.importance_boost
    most_recency = 1.0 + settings.recency_boost
    ranked: list[Ranked] = []
    best: list[float] = []  # a min-heap of the `limit` best final scores so far
    for candidate in candidates:
        if len(best) >= limit:
            score = candidate.ranking_score
            if score >= 0 and round(score * most_importance * most_recency, 6) < best[0]:
                continue
        fact = facts.get(candidate.memory_id)
        if fact is None:
            continue
        importance, recency = boosts(fact, now, settings)
        final = final_score(candidate, importance, recency)
        ranked.append((final, candidate, importance, recency))
        if len(best) < limit:
            heapq.heappush(best, final)
        elif final > best[0]:
            heapq.heapreplace(best, final)
    ranked.sort(key=lambda r: (-r[0], r[1].memory_id))
    return ranked[:limit]
