"""The conflict finder: does a newer memory contradict an older one on the subject they share?

Pure functions over two texts (plus kind, tags and, when known, their cosine), so the same rules serve
the quality report, reflection, the store-time warning and `python -m bench conflicts`. The rules are
written from how teams change their minds in writing, not from one similarity threshold:

1. **Clauses.** Each text is cut into clauses (sentences, `;`, parentheses, `but`, `which`); a clause
   that gives a reason (`because`, `since` + a cause, `so that`, `due to`) explains, it never asserts,
   so it is never compared. Memories that read as a status update (a timeline kind, `update:`,
   `investigating`, `resolved`, `sev2`, a leading clock time...) are history: they never conflict.
2. **Shared subject.** A clause of the newer memory is compared with the clause of the older one that
   shares most with it: the content words they have in common (light stemming; `postgres` matches
   `postgresql`), names, and the memories' shared tags. Weak overlap (one word) needs the two texts to be
   close in meaning as well (cosine, when given).
3. **What differs**, in this order:
   - *negation flip*: one clause says "not", "no longer", "never", "stopped", "dropped"... and the other
     does not;
   - *replacement*: a name one memory uses is what the other says was replaced ("switched from X",
     "instead of X", "X was replaced by", "rather than X", a negated clause naming X);
   - *changed value*: the same slot with other values: numbers with their unit (durations are compared in
     seconds, so "30 minutes" differs from "1 hour"; "thirty-five" is 35), clock times, weekdays, dates,
     URLs and host names, versions (keyed by the product they follow), @people and other names;
   - *changed value after a change word*: the newer clause says "now", "moved to", "switched to",
     "migrated to"... and names something the older one does not, about the same subject.
4. **Decisions**: a memory is a decision whatever its kind when it says so ("Decision:", "we decided",
   "we agreed", "from now on", "going forward"); reflection states the newer decision as current.

The finding explains itself in one line: `#2 says “will not use MongoDB” where #1 says “will use MongoDB”`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ._conflict_parse import (
    DEFAULT_TIMELINE_KINDS,
    FRAME_WORDS,
    Clause,
    Parsed,
    Statement,
    is_decision,
    is_history,
    parse,
    promote,
    quote,
    word_stem,
)
from ._conflict_words import (
    WORD,
)

__all__ = [
    "Contradiction",
    "Statement",
    "contradiction",
    "explain",
    "is_decision",
    "is_history",
]


@dataclass(frozen=True)
class Contradiction:
    """Why the newer statement contradicts the older: the rule, and the words of each side it rests on."""

    rule: str  # negation | replacement | value | changed
    older: str
    newer: str
    detail: str


def explain(found: Contradiction, older_id: int, newer_id: int) -> str:
    """One line: `#2 says “…” where #1 says “…” (detail)`."""
    return f"#{newer_id} says “{found.newer}” where #{older_id} says “{found.older}” ({found.detail})"


# --- comparing ----------------------------------------------------------------------------------------------


def _canon(a: set[str], b: set[str]) -> dict[str, str]:
    """Map each stem to a shorter stem of the pair it starts with (`postgres` ~ `postgresql`)."""
    every = a | b
    out: dict[str, str] = {}
    # Shortest words first, so a shorter stem is mapped before the longer ones that start with it; the
    # shortest prefix present (at least 4 characters, at most 4 fewer than the word) wins, as comparing
    # every pair did.
    for word in sorted(every, key=len):
        size = len(word)
        if size <= 4:  # no shorter stem of 4 characters or more can start it
            out[word] = word
            continue
        for cut in range(max(4, size - 4), size):
            if word[:cut] in every:
                out[word] = out[word[:cut]]
                break
        else:
            out[word] = word
    return out


def _asserting(clause: Clause, stem: str) -> str:
    """Where a clause states a name: up to three words before it, and the name ("we will use MongoDB")."""
    at = clause.name_at.get(stem)
    if at is None:
        return quote(clause.text)
    words = list(WORD.finditer(clause.text[:at]))
    start = words[-3].start() if len(words) >= 3 else 0
    name = WORD.match(clause.text, at)
    return quote(clause.text[start : name.end() if name else at])


@dataclass
class _Match:
    old: Clause
    new: Clause
    shared: set[str]
    only_old: set[str]
    only_new: set[str]


def _overlap(old: Clause, new: Clause, tags: set[str]) -> _Match:
    canon = _canon(old.words, new.words)
    a = {canon[w] for w in old.words}
    b = {canon[w] for w in new.words}
    shared = a & b
    # A tag both memories carry is part of their subject even when a text does not repeat it.
    shared |= {t for t in tags if t in a or t in b}
    return _Match(old, new, shared, a - b - tags, b - a - tags)


def _subject(match: _Match, similarity: float | None) -> bool:
    """Do the two clauses talk about the same thing?"""
    shared = len(match.shared)
    if shared >= 2:
        return True
    if shared == 1:
        small = max(len(match.old.words), len(match.new.words)) <= 2
        close = similarity is not None and similarity >= 0.6
        return small or close
    return False


def _same_claim(match: _Match) -> bool:
    """Is a negation flip about the claim both clauses make (not about another value or object)?"""
    old, new = match.old, match.new
    negated = new if new.negated else old
    other = old if new.negated else new
    # "We do not deploy on Fridays" says nothing against "Deploys happen on Tuesdays".
    for slot in set(negated.values) & set(other.values):
        if negated.values[slot].isdisjoint(other.values[slot]):
            return False
    if set(negated.values) - set(other.values):
        return False
    if len(match.only_old) + len(match.only_new) > 3 * len(match.shared):
        return False
    # What is negated must be what they share ("no longer *reset*"), not another part of the sentence.
    return bool(negated.focus) and word_stem(negated.focus) in match.shared | {
        w for w in other.words if w.startswith(word_stem(negated.focus)[:4])
    }


def _values(match: _Match, similarity: float | None) -> Contradiction | None:
    old, new = match.old, match.new
    if len(match.only_old) + len(match.only_new) > 2 * len(match.shared):
        return None
    # "No deploys on Fridays" and "deploys happen on Tuesdays" agree: a value under a negation is
    # excluded, not stated.
    if old.negated != new.negated:
        return None
    # Both sides naming something the other does not ("session tokens" / "refresh tokens") are sibling
    # facts in one frame, unless the newer one says it is a change.
    # Words that only frame a value ("starts", "requires", "minimum", "pays") do not name a subject.
    if match.only_old - FRAME_WORDS and match.only_new - FRAME_WORDS and not new.changed:
        return None
    for slot in sorted(set(old.values) & set(new.values)):
        if slot == "number" or (slot.startswith("version:") and slot == "version:"):
            continue
        if old.values[slot].isdisjoint(new.values[slot]):
            return Contradiction(
                "value",
                quote(old.text),
                quote(new.text),
                f"{new.shown[slot]} vs {old.shown[slot]}",
            )
    # A version without a product name matches the product the other side names.
    old_v = {s: v for s, v in old.values.items() if s.startswith("version:")}
    new_v = {s: v for s, v in new.values.items() if s.startswith("version:")}
    if old_v and new_v and not set(old_v) & set(new_v):
        loose = (
            "version:" in old_v
            or "version:" in new_v
            or (
                len(old_v) == len(new_v) == 1
                and {s.split(":", 1)[1] for s in old_v} <= match.shared | set(old.names)
            )
        )
        values_old = set().union(*old_v.values())
        values_new = set().union(*new_v.values())
        names_old = {s.split(":", 1)[1] for s in old_v} - {""}
        names_new = {s.split(":", 1)[1] for s in new_v} - {""}
        same_product = (
            not names_old
            or not names_new
            or names_old & names_new
            or (names_old <= set(new.names) | new.words and names_new <= set(old.names) | old.words)
        )
        if loose and same_product and values_old.isdisjoint(values_new):
            slot_o, slot_n = next(iter(old_v)), next(iter(new_v))
            return Contradiction(
                "value", quote(old.text), quote(new.text), f"{new.shown[slot_n]} vs {old.shown[slot_o]}"
            )
    return None


def _names(match: _Match, new_changed: bool) -> Contradiction | None:
    old, new = match.old, match.new
    canon = _canon(set(old.names), set(new.names))
    names_old = {canon[s] for s in old.names} - match.shared
    names_new = {canon[s] for s in new.names} - match.shared
    if not names_old or not names_new:
        return None
    rest_old = match.only_old - names_old
    rest_new = match.only_new - names_new
    room = 1 if new_changed else 0
    if len(rest_old) + len(rest_new) > room:
        return None
    shown_old = ", ".join(sorted(old.names[s] for s in old.names if canon[s] in names_old))
    shown_new = ", ".join(sorted(new.names[s] for s in new.names if canon[s] in names_new))
    return Contradiction("value", quote(old.text), quote(new.text), f"{shown_new} vs {shown_old}")


def contradiction(
    older: Statement,
    newer: Statement,
    *,
    similarity: float | None = None,
    timeline_kinds: Iterable[str] = DEFAULT_TIMELINE_KINDS,
) -> Contradiction | None:
    """Why `newer` contradicts `older` (the rules of the module docstring), or None.

    `similarity` is the cosine of the two texts when known: it only helps when they share one word.
    """
    kinds = tuple(timeline_kinds)
    # The newer side first (a store compares one new text with many): when it reads as history, no
    # older text needs parsing.
    b = parse(newer, kinds)
    if b.history:
        return None
    a = parse(older, kinds)
    if a.history:
        return None
    a, b = promote(a, b), promote(b, a)
    tags = a.tags & b.tags
    old_clauses = [c for c in a.clauses if not c.reason]
    new_clauses = [c for c in b.clauses if not c.reason]
    if not old_clauses or not new_clauses:
        return None
    # Each older clause answers to the newer clause that shares most with it (an added sentence that
    # shares a word with it is elaboration, not a second claim about the same thing).
    best_for: dict[int, _Match] = {}
    for new in new_clauses:
        candidates = [(_overlap(old, new, tags), i) for i, old in enumerate(old_clauses)]
        best, index = max(candidates, key=lambda pair: len(pair[0].shared))
        if _subject(best, similarity) and (
            index not in best_for or len(best.shared) > len(best_for[index].shared)
        ):
            best_for[index] = best
    matches = list(best_for.values())
    # Replacement: a name one side asserts is one the other says was given up.
    whole_old = set().union(*(c.words for c in old_clauses))
    whole_new = set().union(*(c.words for c in new_clauses))
    canon_all = _canon(whole_old | set(a.rejected), whole_new | set(b.rejected))
    shared_whole = {canon_all[w] for w in whole_old} & {canon_all[w] for w in whole_new}
    short = max(len(whole_old), len(whole_new)) <= 8

    def about_it(stem: str) -> bool:  # the subject besides the name itself is shared
        return len((shared_whole | tags) - {canon_all[stem]}) >= (1 if short else 2)

    if True:
        for stem, phrase in b.rejected.items():
            if canon_all[stem] in {canon_all[s] for s in a.asserted} and about_it(stem):
                clause = next((c for c in old_clauses if stem in c.names), old_clauses[0])
                return Contradiction(
                    "replacement",
                    _asserting(clause, stem),
                    quote(phrase),
                    f"it gives up {_shown(stem, a, b)}",
                )
        for stem, phrase in a.rejected.items():
            if canon_all[stem] in {canon_all[s] for s in b.asserted} and about_it(stem):
                clause = next((c for c in new_clauses if stem in c.names), new_clauses[0])
                return Contradiction(
                    "replacement",
                    quote(phrase),
                    _asserting(clause, stem),
                    f"it takes back {_shown(stem, a, b)}",
                )
    for match in matches:
        # Two decisions on one subject that differ in polarity are a reversal even in other words.
        decided = a.decision and b.decision and len(match.shared) >= 2
        if match.old.negated != match.new.negated and (_same_claim(match) or decided):
            cue = match.new.negation or match.old.negation
            return Contradiction("negation", quote(match.old.text), quote(match.new.text), f"“{cue}”")
    for match in matches:
        found = _values(match, similarity)
        if found is not None:
            return found
    for match in matches:
        found = _names(match, match.new.changed)
        if found is not None:
            return found
    for match in matches:
        if (
            match.new.changed
            and match.only_new
            and match.only_old
            and len(match.shared) >= 2
            and len(match.only_old) + len(match.only_new) <= 3
        ):
            new_words = ", ".join(sorted(match.only_new))
            return Contradiction("changed", quote(match.old.text), quote(match.new.text), f"now {new_words}")
    return None


def _shown(stem: str, a: Parsed, b: Parsed) -> str:
    for parsed in (a, b):
        for clause in parsed.clauses:
            if stem in clause.names:
                return clause.names[stem]
    return stem
