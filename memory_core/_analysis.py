"""Pure analysis shared by reflection and the quality report: duplicates, near-duplicates, possible conflicts.

Everything here works on `Memory` values and their L2-normalised vectors (rows of a float32 matrix), so
it is easy to test and runs in a worker thread. The rules, in the order they are applied to a pair:

1. **duplicate**: the same words once case, punctuation and spacing are ignored (the store's exact check
   only folds case and spacing, so "Deploys: Tuesdays!" and "deploys tuesdays" both get in).
2. **linked**: one supersedes the other. The quality report skips such pairs (resolved); a reflection
   reports them as "#old was replaced by #new" because that is exactly the contradiction a reader needs.
3. **conflict**: similarity >= `conflict_similarity` and a difference that changes the meaning: the same
   unit with other values ("35 days" / "14 days"), names only one side has ("Opsgenie" / "PagerDuty"),
   or a negation only one side makes ("no longer", "drop", "instead"). Memories of a timeline kind
   (incident updates, stand-ups) are history, so they never conflict.
4. **near_duplicate**: similarity >= the core's `near_duplicate_threshold` without such a difference.
5. **conflict** between two *decisions* on the same subject (similarity >= `decision_similarity`)
   that are not linked: if the later one replaces the earlier, it should say so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from .config import QualitySettings
from .types import Memory

__all__ = [
    "PairReport",
    "affinity_matrix",
    "analyse_pairs",
    "content_words",
    "headline",
    "is_low_information",
    "similar_pairs",
    "split_sentences",
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


# --- what makes two similar texts say different things ----------------------------------------------------

_UNITS = {
    "%": "%",
    "percent": "%",
    "ms": "ms",
    "s": "s",
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
    "min": "min",
    "mins": "min",
    "minute": "min",
    "minutes": "min",
    "h": "h",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "day": "day",
    "days": "day",
    "week": "week",
    "weeks": "week",
    "month": "month",
    "months": "month",
    "year": "year",
    "years": "year",
    "kb": "kb",
    "mb": "mb",
    "gb": "gb",
    "tb": "tb",
    "euro": "eur",
    "euros": "eur",
    "eur": "eur",
    "€": "eur",
    "dollar": "usd",
    "dollars": "usd",
    "usd": "usd",
    "$": "usd",
    "£": "gbp",
    "gbp": "gbp",
    "people": "people",
    "persons": "people",
    "engineers": "people",
    "requests": "requests",
    "rps": "requests",
    "times": "times",
    "x": "times",
    "utc": "clock",
    "cet": "clock",
    "am": "clock",
    "pm": "clock",
    "gmt": "clock",
}
_QUANTITY = re.compile(
    r"(?P<pre>[$€£])?\s?(?<![\w.\-])(?P<value>\d+(?:[.,:]\d+)*)\s?(?P<unit>%|[A-Za-z]+)?", re.UNICODE
)
_UNIT_NAMES = {"day": "days", "week": "weeks", "month": "months", "year": "years", "clock": "", "%": "%"}
_CLOCK = re.compile(r"^\d{1,2}:\d{2}$")
_NEGATIONS = (
    "not",
    "no",
    "never",
    "cannot",
    "can't",
    "don't",
    "doesn't",
    "won't",
    "isn't",
    "aren't",
    "no longer",
    "instead",
    "drop",
    "dropped",
    "stop",
    "stopped",
    "cancel",
    "cancelled",
    "canceled",
    "revert",
    "reverted",
    "abandon",
    "abandoned",
    "rolled back",
)
# Longest first, so "no longer" is one cue rather than "no".
_NEGATION = re.compile(
    r"\b(" + "|".join(re.escape(n) for n in sorted(_NEGATIONS, key=len, reverse=True)) + r")\b", re.IGNORECASE
)
_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*\b|\b[a-z]+[A-Z][A-Za-z0-9]*\b")
# Capitalised words that are not names of anything a team could disagree on.
_NOT_NAMES = _words(
    "i a an the we our us you it its they this that these those utc cet gmt am pm api pr prs ci id "
    "ids ok fyi tldr eu faq note decision"
)


def _quantities(text: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for match in _QUANTITY.finditer(text):
        value = match.group("value").replace(",", "")
        unit_word = (match.group("unit") or "").lower()
        if match.group("pre"):
            unit = _UNITS[match.group("pre")]
        elif _CLOCK.match(value):
            unit = "clock"
        else:
            unit = _UNITS.get(unit_word, "")
        if unit:
            found.setdefault(unit, set()).add(value.lstrip("0") or "0")
    return found


def _names(text: str) -> set[str]:
    names: set[str] = set()
    for sentence in split_sentences(text):
        for position, match in enumerate(_NAME.finditer(sentence)):
            word = match.group(0)
            # The first word of a sentence is capitalised for grammar, unless it is clearly a name.
            if position == 0 and match.start() == 0 and not any(c.isupper() for c in word[1:]):
                continue
            if word.casefold() not in _NOT_NAMES:
                names.add(word.casefold())
    return names


def _negations(text: str) -> set[str]:
    return {m.group(1).lower() for m in _NEGATION.finditer(text)}


def difference(a: str, b: str) -> str | None:
    """Why two texts on the same subject may disagree, or None: other values, other names, a negation."""
    qa, qb = _quantities(a), _quantities(b)
    for unit in sorted(set(qa) & set(qb)):
        if qa[unit].isdisjoint(qb[unit]):
            values_a, values_b = ", ".join(sorted(qa[unit])), ", ".join(sorted(qb[unit]))
            shown = _UNIT_NAMES.get(unit, unit)
            return f"different numbers ({values_a} vs {values_b}{' ' + shown if shown else ''})"
    na, nb = _names(a), _names(b)
    only_a, only_b = na - nb, nb - na
    if only_a and only_b:
        return f"different names ({', '.join(sorted(only_a)[:3])} vs {', '.join(sorted(only_b)[:3])})"
    ga, gb = _negations(a), _negations(b)
    if bool(ga) != bool(gb):
        return "one says “" + "”, “".join(sorted(ga or gb)[:3]) + "” where the other does not"
    return None


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


@dataclass
class PairReport:
    """What the pair rules found: groups of ids and conflicts with their reasons; ids oldest first."""

    duplicates: list[tuple[int, ...]] = field(default_factory=list)
    near_duplicates: list[tuple[tuple[int, ...], float]] = field(default_factory=list)
    conflicts: list[tuple[tuple[int, ...], str]] = field(default_factory=list)


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

    timeline = set(settings.timeline_kinds)
    floor = min(near_duplicate, settings.conflict_similarity, settings.decision_similarity)
    near_edges: list[tuple[int, int]] = []
    near_best: dict[tuple[int, int], float] = {}
    for i, j, sim in similar_pairs(vectors, floor):
        a, b = memories[i], memories[j]
        if (a.created_at, a.id) > (b.created_at, b.id):
            a, b = b, a
        if same_words.get(i) is not None and same_words.get(i) == same_words.get(j):
            continue
        if _linked(a, b):
            if report_replacements:
                old, new = (a, b) if a.superseded_by == b.id or b.supersedes == a.id else (b, a)
                report.conflicts.append(
                    (
                        (old.id, new.id),
                        f"#{old.id} ({_day(old.created_at)}) was replaced by #{new.id} "
                        f"({_day(new.created_at)})",
                    )
                )
            continue
        history = a.kind in timeline or b.kind in timeline
        why = None if history or sim < settings.conflict_similarity else difference(a.text, b.text)
        if why is not None:
            report.conflicts.append(((a.id, b.id), f"similar memories with {why}"))
        elif sim >= near_duplicate:
            near_edges.append((a.id, b.id))
            near_best[(a.id, b.id)] = sim
        elif a.kind == b.kind == "decision" and sim >= settings.decision_similarity:
            detail = difference(a.text, b.text)
            report.conflicts.append(
                (
                    (a.id, b.id),
                    f"two decisions on the same subject ({_day(a.created_at)} and "
                    f"{_day(b.created_at)}){f', {detail}' if detail else ''}; if #{b.id} replaces #{a.id}, "
                    "mark it superseded",
                )
            )
    when = {m.id: (m.created_at, m.id) for m in memories}
    for members in _groups(near_edges):
        members.sort(key=when.__getitem__)
        best = max(s for (x, y), s in near_best.items() if x in members and y in members)
        report.near_duplicates.append((tuple(members), round(best, 3)))
    report.duplicates.sort(key=lambda g: when[g[0]])
    report.near_duplicates.sort(key=lambda g: when[g[0][0]])
    report.conflicts.sort(key=lambda c: (when[c[0][0]], c[0]))
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
