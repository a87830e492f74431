"""Pure analysis shared by reflection and the quality report: duplicates, near-duplicates, possible conflicts.

Everything here works on `Memory` values and their L2-normalised vectors (rows of a float32 matrix), so
it is easy to test and runs in a worker thread. The rules, in the order they are applied to a pair:

1. **duplicate**: the same words once case, punctuation and spacing are ignored (the store's exact check
   only folds case and spacing, so "Deploys: Tuesdays!" and "deploys tuesdays" both get in).
2. **linked**: one supersedes the other. The quality report skips such pairs (resolved); a reflection
   reports them as "#old was replaced by #new" because that is exactly the contradiction a reader needs.
3. **conflict**: the conflict finder (`_conflicts`: a shared subject, then a negation flip, a
   replacement or a changed value) says the newer memory contradicts the older. It reads every pair
   among each memory's `conflict_neighbours` nearest memories from cosine `conflict_similarity`: the
   cosine only proposes candidates, the finder's shared-subject rules decide.
4. **near_duplicate**: similarity >= the core's `near_duplicate_threshold` without a conflict.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from ._conflicts import Statement, contradiction, explain
from .config import QualitySettings
from .types import Memory, PossibleConflict

__all__ = [
    "FoundConflict",
    "PairReport",
    "affinity_matrix",
    "analyse_pairs",
    "content_words",
    "find_conflict",
    "headline",
    "is_low_information",
    "memory_statement",
    "neighbour_pairs",
    "similar_pairs",
    "split_sentences",
    "store_conflicts",
    "word_key",
]

Matrix = npt.NDArray[np.float32]

# Affinity of two memories = cosine + TAG_WEIGHT x Jaccard(tags) + TIME_WEIGHT x exp(-days apart / SCALE).
# Notes about one incident share tags and days even when their wording differs (a root-cause note and a
# customer-comms note); an older incident with similar words does not.
TAG_WEIGHT = 0.15
TIME_WEIGHT = 0.10
TIME_SCALE_DAYS = 7.0

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(#])")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that say nothing on their own: a memory made only of these (and stopwords) is low-information.
_FILLER = _words(
    "ok okay k kk see thread above below thanks thank thx ty yes yep yeah no nope done test testing "
    "asdf foo bar baz hi hello hey sure cool nice great agreed same this that here there pls please "
    "fyi ack lol wip tbd todo fixme noted will do it is was the a an and or of to in on for with at "
    "by as be"
)


def word_key(text: str) -> str:
    """The words of a text, lower-case, joined by single spaces: equal keys mean the same words."""
    return " ".join(_WORD.findall(text.casefold()))


def content_words(text: str) -> list[str]:
    """Words that carry meaning: at least two characters (or a number) and not filler."""
    return [w for w in _WORD.findall(text.casefold()) if (len(w) > 1 or w.isdigit()) and w not in _FILLER]


def is_low_information(text: str, min_words: int) -> bool:
    """True when the text has fewer than `min_words` content words ("ok", "+1", "see thread above")."""
    return len(content_words(text)) < min_words


def split_sentences(text: str) -> list[str]:
    """Sentences of a text (a light splitter: ., ! or ? followed by a space and a capital or digit)."""
    parts: list[str] = []
    for line in text.splitlines():
        line = line.strip(" \t-*•>")
        if line:
            parts.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return parts


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def headline(memory: Memory, limit: int = 160) -> str:
    """A one-line label for a memory: its title, or its first sentence, shortened."""
    if memory.title:
        return _shorten(memory.title, limit)
    sentences = split_sentences(memory.text)
    return _shorten(sentences[0] if sentences else memory.text, limit)


# --- vectors ------------------------------------------------------------------------------------------------


def similar_pairs(vectors: Matrix, threshold: float, *, block: int = 512) -> list[tuple[int, int, float]]:
    """All (i, j, cosine) with i < j and cosine >= threshold, computed block by block (bounded memory)."""
    n = len(vectors)
    pairs: list[tuple[int, int, float]] = []
    for start in range(0, n, block):
        sims = vectors[start : start + block] @ vectors.T
        rows, cols = np.nonzero(sims >= threshold)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + r
            if i < c:
                pairs.append((i, c, float(sims[r, c])))
    return pairs


def affinity_matrix(memories: Sequence[Memory], vectors: Matrix) -> Matrix:
    """Pairwise affinity: cosine, plus shared tags (Jaccard) and closeness in time (see TAG_WEIGHT)."""
    sims = (vectors @ vectors.T).astype(np.float32)
    n = len(memories)
    days = np.array([m.created_at.timestamp() / 86400 for m in memories], dtype=np.float64)
    closeness = np.exp(-np.abs(days[:, None] - days[None, :]) / TIME_SCALE_DAYS)
    tags = [set(m.tags) for m in memories]
    jaccard = np.zeros((n, n), dtype=np.float64)
    for i in range(n):
        if not tags[i]:
            continue
        for j in range(i + 1, n):
            if tags[j]:
                shared = len(tags[i] & tags[j])
                if shared:
                    jaccard[i, j] = jaccard[j, i] = shared / len(tags[i] | tags[j])
    return (sims + TAG_WEIGHT * jaccard + TIME_WEIGHT * closeness).astype(np.float32)


# --- pairs of memories -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FoundConflict:
    """A possible contradiction: the ids (older first), the one-line reason, and which one is newer.

    `rule` is the finder's rule (negation, replacement, value, changed) or "replaced" for a pair already
    linked by supersedes (reflection reports those; the quality report skips them).
    """

    ids: tuple[int, int]
    reason: str
    rule: str

    @property
    def older(self) -> int:
        return self.ids[0]

    @property
    def newer(self) -> int:
        return self.ids[1]


@dataclass
class PairReport:
    """What the pair rules found: groups of ids and conflicts with their reasons; ids oldest first."""

    duplicates: list[tuple[int, ...]] = field(default_factory=list)
    near_duplicates: list[tuple[tuple[int, ...], float]] = field(default_factory=list)
    conflicts: list[FoundConflict] = field(default_factory=list)


def _linked(a: Memory, b: Memory) -> bool:
    return a.superseded_by == b.id or b.superseded_by == a.id or a.supersedes == b.id or b.supersedes == a.id


def _day(when: datetime) -> str:
    return when.strftime("%d %b %Y").lstrip("0")


def _groups(edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for x in parent:
        groups.setdefault(find(x), []).append(x)
    return [sorted(g) for g in groups.values()]


def neighbour_pairs(
    vectors: Matrix, floor: float, k: int, *, block: int = 512
) -> dict[tuple[int, int], float]:
    """(i, j) with i < j -> cosine, for each row's `k` nearest rows at or above `floor` (bounded work)."""
    n = len(vectors)
    pairs: dict[tuple[int, int], float] = {}
    if n < 2:
        return pairs
    take = min(k + 1, n)
    for start in range(0, n, block):
        sims = vectors[start : start + block] @ vectors.T
        nearest = np.argpartition(-sims, take - 1, axis=1)[:, :take]
        for r, row in enumerate(nearest.tolist()):
            i = start + r
            for c in row:
                sim = float(sims[r, c])
                if c != i and sim >= floor:
                    pairs[(min(i, c), max(i, c))] = sim
    return pairs


def memory_statement(memory: Memory) -> Statement:
    """What the conflict finder reads of a memory."""
    return Statement(text=memory.text, kind=memory.kind, tags=memory.tags)


def find_conflict(
    older: Memory, newer: Memory, similarity: float | None, settings: QualitySettings
) -> FoundConflict | None:
    """The conflict finder (`_conflicts`) on two memories, older first; the reason names both ids."""
    found = contradiction(
        memory_statement(older),
        memory_statement(newer),
        similarity=similarity,
        timeline_kinds=settings.timeline_kinds,
    )
    if found is None:
        return None
    return FoundConflict((older.id, newer.id), explain(found, older.id, newer.id), found.rule)


def store_conflicts(
    text: str,
    kind: str,
    tags: Sequence[str],
    candidates: Sequence[tuple[Memory, float]],
    settings: QualitySettings,
    *,
    now: datetime,
) -> tuple[PossibleConflict, ...]:
    """The stored memories (nearest first) a memory about to be stored may contradict.

    `candidates` are its nearest stored memories with their cosine; superseded, expired memories and
    reflections are history, so they are not checked.
    """
    new = Statement(text=text, kind=kind, tags=tuple(tags))
    found: list[PossibleConflict] = []
    for memory, sim in candidates:
        if sim < settings.conflict_similarity or memory.superseded_by is not None:
            continue
        if memory.kind == "reflection" or memory.is_expired(now):
            continue
        why = contradiction(
            memory_statement(memory), new, similarity=sim, timeline_kinds=settings.timeline_kinds
        )
        if why is not None:
            found.append(
                PossibleConflict(
                    id=memory.id,
                    author=memory.author,
                    created_at=memory.created_at,
                    reason=explain(why, memory.id, 0).replace("#0 says", "this says", 1),
                )
            )
    return tuple(found)


def analyse_pairs(
    memories: Sequence[Memory],
    vectors: Matrix,
    *,
    near_duplicate: float,
    settings: QualitySettings,
    report_replacements: bool,
) -> PairReport:
    """Apply the pair rules (module docstring) to memories and their vectors (rows aligned).

    `report_replacements`: a linked pair (one supersedes the other) is reported as a conflict (reflection)
    instead of being skipped (quality report).
    """
    report = PairReport()
    order = sorted(range(len(memories)), key=lambda i: (memories[i].created_at, memories[i].id))
    by_key: dict[str, list[int]] = {}
    for i in order:
        by_key.setdefault(word_key(memories[i].text), []).append(i)
    same_words = {i: tuple(group) for group in by_key.values() if len(group) > 1 for i in group}
    for group in set(same_words.values()):
        report.duplicates.append(tuple(memories[i].id for i in group))

    candidates = neighbour_pairs(vectors, settings.conflict_similarity, settings.conflict_neighbours)
    for i, j, sim in similar_pairs(vectors, near_duplicate):
        candidates[(i, j)] = sim
    # A memory and the one it supersedes are a pair however far apart their words are.
    row = {m.id: i for i, m in enumerate(memories)}
    for i, m in enumerate(memories):
        for other in (m.supersedes, m.superseded_by):
            k = row.get(other) if other is not None else None
            if k is not None and (min(i, k), max(i, k)) not in candidates:
                candidates[(min(i, k), max(i, k))] = float(vectors[i] @ vectors[k])
    near_edges: list[tuple[int, int]] = []
    near_best: dict[tuple[int, int], float] = {}
    for (i, j), sim in sorted(candidates.items()):
        a, b = memories[i], memories[j]
        if (a.created_at, a.id) > (b.created_at, b.id):
            a, b = b, a
        if same_words.get(i) is not None and same_words.get(i) == same_words.get(j):
            continue
        if _linked(a, b):
            if report_replacements:
                old, new = (a, b) if a.superseded_by == b.id or b.supersedes == a.id else (b, a)
                report.conflicts.append(
                    FoundConflict(
                        (old.id, new.id),
                        f"#{old.id} ({_day(old.created_at)}) was replaced by #{new.id} "
                        f"({_day(new.created_at)})",
                        "replaced",
                    )
                )
            continue
        found = find_conflict(a, b, sim, settings)
        if found is not None:
            report.conflicts.append(found)
        elif sim >= near_duplicate:
            near_edges.append((a.id, b.id))
            near_best[(a.id, b.id)] = sim
    when = {m.id: (m.created_at, m.id) for m in memories}
    for members in _groups(near_edges):
        members.sort(key=when.__getitem__)
        best = max(s for (x, y), s in near_best.items() if x in members and y in members)
        report.near_duplicates.append((tuple(members), round(best, 3)))
    report.duplicates.sort(key=lambda g: when[g[0]])
    report.near_duplicates.sort(key=lambda g: when[g[0][0]])
    report.conflicts.sort(key=lambda c: (when[c.ids[0]], c.ids))
    return report


def mmr(relevance: Sequence[float], vectors: Matrix, k: int, diversity: float) -> list[int]:
    """Maximal marginal relevance: pick k rows that are relevant and not redundant with earlier picks."""
    n = len(relevance)
    if n == 0 or k <= 0:
        return []
    sims = vectors @ vectors.T
    chosen: list[int] = []
    best_sim = np.full(n, -math.inf)
    remaining = set(range(n))
    while remaining and len(chosen) < k:
        redundancy = best_sim if chosen else np.zeros(n)
        pick = max(
            sorted(remaining), key=lambda i: (1 - diversity) * relevance[i] - diversity * float(redundancy[i])
        )
        chosen.append(pick)
        remaining.discard(pick)
        best_sim = np.maximum(best_sim, sims[pick])
    return chosen
