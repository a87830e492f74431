"""Pure ranking: reciprocal-rank fusion of the vector and keyword lists, then bounded boosts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from .config import SearchSettings
from .types import Importance, Memory, ScoreBreakdown

_IMPORTANCE_SHARE = {
    Importance.LOW: -0.5,
    Importance.NORMAL: 0.0,
    Importance.HIGH: 0.5,
    Importance.CRITICAL: 1.0,
}


@dataclass
class Candidate:
    memory_id: int
    vector_rank: int | None = None
    vector_similarity: float | None = None
    keyword_rank: int | None = None
    keyword_score: float | None = None
    fused: float = 0.0


def fuse(
    vector_hits: list[tuple[int, float]],
    keyword_hits: list[tuple[int, float]],
    settings: SearchSettings,
) -> list[Candidate]:
    """Reciprocal-rank fusion, normalised so a memory ranked first by every retriever scores 1.0."""
    candidates: dict[int, Candidate] = {}
    k = settings.rrf_k
    for rank, (memory_id, similarity) in enumerate(vector_hits, start=1):
        c = candidates.setdefault(memory_id, Candidate(memory_id))
        c.vector_rank, c.vector_similarity = rank, similarity
        c.fused += settings.vector_weight / (k + rank)
    for rank, (memory_id, score) in enumerate(keyword_hits, start=1):
        c = candidates.setdefault(memory_id, Candidate(memory_id))
        c.keyword_rank, c.keyword_score = rank, score
        c.fused += settings.keyword_weight / (k + rank)
    best = 0.0
    if vector_hits:
        best += settings.vector_weight / (k + 1)
    if keyword_hits:
        best += settings.keyword_weight / (k + 1)
    if best > 0:
        for c in candidates.values():
            c.fused /= best
    return sorted(candidates.values(), key=lambda c: (-c.fused, c.memory_id))


def boosts(memory: Memory, now: datetime, settings: SearchSettings) -> tuple[float, float]:
    """(importance, recency) relative boosts, each bounded by its setting."""
    importance = settings.importance_boost * _IMPORTANCE_SHARE[memory.importance]
    age_days = max(0.0, (now - memory.created_at).total_seconds() / 86400)
    recency = settings.recency_boost * math.pow(0.5, age_days / settings.recency_half_life_days)
    return importance, recency


def breakdown(candidate: Candidate, importance: float, recency: float) -> ScoreBreakdown:
    final = candidate.fused * (1.0 + importance) * (1.0 + recency)
    return ScoreBreakdown(
        vector_rank=candidate.vector_rank,
        vector_similarity=None if candidate.vector_similarity is None else round(candidate.vector_similarity, 6),
        keyword_rank=candidate.keyword_rank,
        keyword_score=None if candidate.keyword_score is None else round(candidate.keyword_score, 6),
        fused=round(candidate.fused, 6),
        importance_boost=round(importance, 6),
        recency_boost=round(recency, 6),
        final=round(final, 6),
    )
