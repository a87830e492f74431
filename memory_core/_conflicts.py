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

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from ._conflict_words import (
    BYTES,
    CHANGE,
    CHANGE_WORDS,
    CLAUSE_BREAK,
    CLOCK,
    COMMON,
    DAY_MONTH,
    DAYS,
    DECISION,
    EMAIL,
    EVERY,
    FREQUENCY,
    HISTORY,
    HOST,
    IRREGULAR,
    ISO_DATE,
    LIGHT,
    MENTION,
    MONEY,
    MONTH_DAY,
    MONTHS,
    NAME,
    NEGATION_PHRASES,
    NEGATION_WORDS,
    NOT_NAMES,
    NUMBER,
    NUMBER_WORDS,
    REASON,
    REJECTED,
    REPLACED_BY,
    SECONDS,
    STOP,
    URL,
    VERSION,
    VERSION_CUES,
    WORD,
    in_order,
    word_set,
)
from ._parse_cache import ParseCache

__all__ = [
    "Contradiction",
    "Statement",
    "contradiction",
    "explain",
    "is_decision",
    "is_history",
]

DEFAULT_TIMELINE_KINDS = ("incident", "status", "standup", "log", "reflection")


@dataclass(frozen=True)
class Statement:
    """What the finder reads of a memory: its text, kind and tags."""

    text: str
    kind: str = "note"
    tags: tuple[str, ...] = ()


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


# --- parsing ------------------------------------------------------------------------------------------------


@dataclass
class _Clause:
    text: str
    words: set[str] = field(default_factory=set)  # content stems (names included, values excluded)
    names: dict[str, str] = field(default_factory=dict)  # stem -> as written
    values: dict[str, set[object]] = field(default_factory=dict)  # slot -> values
    shown: dict[str, str] = field(default_factory=dict)  # slot -> how the value was written
    initial: dict[str, str] = field(default_factory=dict)  # a capitalised first word that may be a name
    negated: bool = False
    negation: str = ""
    negation_at: int = 0
    focus: str = ""  # the first content word after the negation: what is negated
    name_at: dict[str, int] = field(default_factory=dict)  # where each name first appears
    guessed: set[str] = field(default_factory=set)  # names guessed from a capitalised first word
    changed: bool = False
    reason: bool = False


@dataclass
class _Parsed:
    clauses: list[_Clause]
    rejected: dict[str, str]  # names this text says were given up -> the phrase
    asserted: set[str]  # names it states positively
    tags: set[str]
    decision: bool
    history: bool
    # `_stances` of the clauses as parsed, worked out on first use: most comparisons promote no name,
    # and a store compares its own text with ten others.
    plain_stances: tuple[dict[str, str], set[str]] | None = field(default=None, repr=False, compare=False)


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """A light stem (plural, -ing, -ed, a final e); cached: the same words recur in every text."""
    w = word.casefold().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.replace("-", "").replace("'", "")
    if w in IRREGULAR:
        return IRREGULAR[w]
    if len(w) > 4 and w.endswith(("ies", "ied")):
        w = w[:-3] + "y"
    elif len(w) > 4 and w.endswith(("ches", "shes", "xes", "sses")):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
        if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
            w = w[:-1]
    elif len(w) > 4 and w.endswith("ed"):
        w = w[:-2]
        if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
            w = w[:-1]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return IRREGULAR.get(w, w)


_FRAME = {
    _stem(w)
    for w in in_order(
        "start starts begin begins required require requires need needs minimum maximum max min limit least "
        "most later earlier pay pays paid cost costs take takes last lasts run runs expire expires valid set "
        "allow allowed allows up until due open opens close closes version release"
    )
}


def _number(text: str) -> float | None:
    t = text.casefold().replace(",", "")
    try:
        return float(t)
    except ValueError:
        pass
    total = 0.0
    for part in re.split(r"[- ]", t):
        if part not in NUMBER_WORDS:
            return None
        total += NUMBER_WORDS[part]
    return total


def _clock(match: re.Match[str]) -> int | None:
    if match.group(4) is not None:
        hour, minute, half = int(match.group(4)), 0, match.group(5).casefold()
    else:
        hour, minute, half = int(match.group(1)), int(match.group(2)), (match.group(3) or "").casefold()
    if half.startswith("p") and hour < 12:
        hour += 12
    if half.startswith("a") and hour == 12:
        hour = 0
    if hour > 24 or minute > 59:
        return None
    return (hour % 24) * 60 + minute


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _split_clauses(text: str) -> list[tuple[str, bool]]:
    """(clause, is_reason) for every clause of every line and sentence."""
    out: list[tuple[str, bool]] = []
    for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(#@])|\n+", text):
        for piece in CLAUSE_BREAK.split(sentence):
            piece = piece.strip(" \t-*•>.,:!?")
            if not piece:
                continue
            match = REASON.search(piece)
            if match:
                head, tail = piece[: match.start()].strip(" ,:"), piece[match.start() :]
                if head:
                    out.append((head, False))
                out.append((tail, True))
            else:
                out.append((piece, False))
    return out


_POSSESSIVE = re.compile(r"['’]s$")
_OPENING = " \"'("  # what may come before a clause's first word
_NEGATION_PHRASE_PATTERNS = tuple((p, re.compile(rf"\b{re.escape(p)}\b")) for p in NEGATION_PHRASES)


def _add(clause: _Clause, slot: str, value: object, shown: str) -> None:
    clause.values.setdefault(slot, set()).add(value)
    clause.shown.setdefault(slot, shown.strip())


def _parse_clause(raw: str, reason: bool) -> _Clause:
    clause = _Clause(text=raw, reason=reason)
    text = raw

    def each(pattern: re.Pattern[str], handle: object) -> None:
        # Handle each match, then blank it out so later patterns do not see it again. One pass: the
        # matches are those `pattern.sub` would replace (same scan), blanked from their spans.
        nonlocal text
        matches = list(pattern.finditer(text))
        if not matches:
            return
        pieces: list[str] = []
        at = 0
        for m in matches:
            handle(m)  # type: ignore[operator]
            start, end = m.span()
            pieces += (text[at:start], " " * (end - start))
            at = end
        pieces.append(text[at:])
        text = "".join(pieces)

    each(
        URL,
        lambda m: _add(
            clause, "link", m.group(0).rstrip(".,;:").casefold().split("://", 1)[1].rstrip("/"), m.group(0)
        ),
    )
    each(EMAIL, lambda m: _add(clause, "person", m.group(0).casefold(), m.group(0)))
    each(HOST, lambda m: _add(clause, "link", m.group(0).rstrip(".,;:").casefold().rstrip("/"), m.group(0)))
    each(MENTION, lambda m: _add(clause, "person", m.group(1).casefold(), m.group(0)))
    each(ISO_DATE, lambda m: _add(clause, "date", (int(m.group(2)), int(m.group(3))), m.group(0)))
    each(
        DAY_MONTH,
        lambda m: _add(
            clause,
            "date",
            (
                MONTHS[
                    m.group(2).casefold()[:3]
                    if m.group(2).casefold() not in MONTHS
                    else m.group(2).casefold()
                ],
                int(m.group(1)),
            ),
            m.group(0),
        ),
    )
    each(
        MONTH_DAY,
        lambda m: _add(
            clause,
            "date",
            (
                MONTHS[
                    m.group(1).casefold()[:3]
                    if m.group(1).casefold() not in MONTHS
                    else m.group(1).casefold()
                ],
                int(m.group(2)),
            ),
            m.group(0),
        ),
    )

    def clock(m: re.Match[str]) -> None:
        value = _clock(m)
        if value is not None:
            _add(clause, "clock", value, m.group(0))

    each(CLOCK, clock)

    def every(m: re.Match[str]) -> None:
        count = m.group(1)
        n = 2.0 if count and count.casefold() in ("other", "second") else (_number(count) if count else 1.0)
        unit = m.group(2).casefold()
        unit = "day" if unit in ("morning", "evening") else unit
        if n is not None:
            _add(clause, "frequency", n * SECONDS[unit], m.group(0))

    each(EVERY, every)
    # Versions: a dotted number, or a number after a product name or a version word.
    tokens = [(m.group(0), m.start()) for m in WORD.finditer(text)]
    product = ""
    has_version_cue = any(t.casefold() in VERSION_CUES for t, _ in tokens)
    version_spans: list[tuple[int, int]] = []
    for index, (token, start) in enumerate(tokens):
        lower = token.casefold()
        if ("." in token or lower.startswith("v")) and VERSION.fullmatch(token):
            _add(
                clause, f"version:{product}", lower.lstrip("v"), (product_shown(tokens, index) + " " + token)
            )
            version_spans.append((start, start + len(token)))
        elif token.isdigit() and index > 0:
            before = tokens[index - 1][0]
            after = tokens[index + 1][0].casefold() if index + 1 < len(tokens) else ""
            if after in SECONDS or after.rstrip("s") in SECONDS or after in BYTES or after in MONEY:
                pass
            elif (
                NAME.match(before)
                and before.casefold() not in NOT_NAMES | word_set("version")
                and before.casefold() not in MONTHS
            ) or (has_version_cue and product):
                key = before.casefold() if NAME.match(before) and before.casefold() != "version" else product
                if key and key not in NOT_NAMES:
                    _add(clause, f"version:{_stem(key)}", token, f"{before} {token}")
                    version_spans.append((start, start + len(token)))
        # A name has a capital letter (tokens are ASCII words): most tokens need no NAME match.
        if (
            token != lower
            and NAME.match(token)
            and lower not in NOT_NAMES
            and not lower.isdigit()
            and lower not in VERSION_CUES
        ):
            product = _stem(token)
    for start, end in version_spans:
        text = text[:start] + " " * (end - start) + text[end:]

    def number(m: re.Match[str]) -> None:
        value = _number(m.group("num"))
        if value is None:
            return
        unit = (m.group("unit") or "").casefold()
        unit_stem = unit[:-1] if unit.endswith("s") and len(unit) > 2 else unit
        cur = m.group("cur")
        if m.group("num").casefold() in ("a", "an", "half", "single") and not unit:
            return
        if cur:
            _add(clause, "money:" + MONEY[cur], value, m.group(0))
        elif m.group("pct"):
            _add(clause, "percent", value, m.group(0))
        elif unit_stem in SECONDS:
            _add(clause, "duration", value * SECONDS[unit_stem], m.group(0))
        elif unit in BYTES:
            _add(clause, "size", value * BYTES[unit], m.group(0))
        elif unit_stem in MONEY:
            _add(clause, "money:" + MONEY[unit_stem], value, m.group(0))
        elif unit and unit.isalpha() and unit not in STOP:
            _add(clause, "count:" + _stem(unit), value, m.group(0))
        else:
            _add(clause, "number", value, m.group(0))

    for m in list(NUMBER.finditer(text)):
        if m.group("num").casefold() in ("a", "an"):
            continue
        number(m)
    text = NUMBER.sub(
        lambda m: " " * (m.end() - m.start()) if m.group("num").casefold() not in ("a", "an") else m.group(0),
        text,
    )
    # Where the first word starts: a word at or before it opens the clause (only quotes or a
    # parenthesis before it). Worked out once, not by stripping the text before every word.
    opening = len(raw) - len(raw.lstrip(_OPENING))
    for m in WORD.finditer(text):
        word = _POSSESSIVE.sub("", m.group(0))
        initial = m.start() <= opening
        lower = word.casefold().replace("’", "'")
        if lower in DAYS or (lower.endswith("s") and lower[:-1] in DAYS):
            _add(clause, "day", lower.rstrip("s") if lower not in DAYS else lower, word)
            continue
        if lower in FREQUENCY:
            _add(clause, "frequency", float(FREQUENCY[lower]), word)
            continue
        if lower in NEGATION_WORDS or lower.endswith("n't"):
            # "spend dropped to 1,900 dollars" is a new value, not a negation.
            if lower.startswith("drop") and re.match(r"\s+(?:to|by)\b", text[m.end() :]):
                continue
            clause.negated = True
            if not clause.negation:
                clause.negation, clause.negation_at = word, m.start()
            continue
        if (
            lower in STOP
            or lower in MONTHS
            or lower in CHANGE_WORDS
            or (len(lower) < 2 and not lower.isdigit())
        ):
            continue
        if lower in LIGHT and not word[0].isupper():
            continue
        if lower in LIGHT and initial:
            clause.initial[lower] = word
            continue
        stem = _stem(word)
        if not stem:
            continue
        clause.words.add(stem)
        if _is_name(word, initial):
            clause.names[stem] = word
            clause.name_at.setdefault(stem, m.start())
            if initial and word[1:].islower():
                clause.guessed.add(stem)
        elif word[0].isupper() and lower not in NOT_NAMES:
            clause.initial[stem] = word
    low = raw.casefold()
    for phrase, pattern in _NEGATION_PHRASE_PATTERNS:
        found = pattern.search(low)
        if found and (not clause.negation or found.start() < clause.negation_at):
            clause.negated = True
            clause.negation, clause.negation_at = phrase, found.start()
    if clause.negated:
        # What is negated: the first content word after the cue ("no longer *reset*").
        rest = WORD.findall(raw[clause.negation_at + len(clause.negation) :])
        clause.focus = next((w for w in rest if _stem(w) in clause.words), "")
    clause.changed = bool(CHANGE.search(raw))
    return clause


def product_shown(tokens: Sequence[tuple[str, int]], index: int) -> str:
    """The name just before a version number, if any ("Python" in "Python 3.12")."""
    if index > 0 and NAME.match(tokens[index - 1][0]):
        return tokens[index - 1][0]
    return ""


def _is_name(word: str, initial: bool) -> bool:
    lower = word.casefold()
    if lower in NOT_NAMES or lower in STOP or not NAME.match(word):
        return False
    if any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word):
        return True
    if not initial:
        return True
    # A capitalised first word is grammar unless it is clearly not an ordinary word.
    return (
        lower not in COMMON
        and not (lower.endswith("s") and len(lower) > 4)
        and not lower.endswith(("ing", "ed", "ly", "ion", "ment"))
    )


def is_decision(text: str, kind: str = "note") -> bool:
    """A decision whatever its kind: `kind:decision`, or it says so ("Decision:", "we decided", ...)."""
    return kind == "decision" or bool(DECISION.search(text))


def is_history(text: str, kind: str = "note", timeline_kinds: Iterable[str] = DEFAULT_TIMELINE_KINDS) -> bool:
    """Reads as a status update (timeline kind, `update:`, `investigating`, `resolved`, `sev2`...)."""
    return kind in set(timeline_kinds) or bool(HISTORY.search(text))


# Parses by content, bounded (memory_core/_parse_cache.py says how much memory that is at most).
_PARSED: ParseCache[_Parsed] = ParseCache(max_entries=8192, max_chars=1_000_000)


def _parse(statement: Statement, timeline_kinds: tuple[str, ...]) -> _Parsed:
    """The clauses of a statement (cached: a store compares its text with its 10 nearest memories and a
    quality report compares each memory with many others).

    The result is shared: callers never change it (`_promote` copies what it adds to).
    """
    return _PARSED.get(
        (statement, timeline_kinds), len(statement.text), lambda: _parse_now(statement, timeline_kinds)
    )


def _parse_now(statement: Statement, timeline_kinds: tuple[str, ...]) -> _Parsed:
    return _Parsed(
        clauses=[_parse_clause(raw, reason) for raw, reason in _split_clauses(statement.text)],
        rejected={},
        asserted=set(),
        tags={t.casefold() for t in statement.tags},
        decision=is_decision(statement.text, statement.kind),
        history=is_history(statement.text, statement.kind, timeline_kinds),
    )


def _promote(parsed: _Parsed, other: _Parsed) -> _Parsed:
    """A capitalised first word is a name when the other memory uses it as one ("Go is ..." / "in Go")."""
    names = {s for c in other.clauses for s in c.names if s not in c.guessed}
    clauses = []
    promoted = False
    for clause in parsed.clauses:
        extra = {stem: word for stem, word in clause.initial.items() if stem in names}
        if clause.guessed & names:
            clause = replace(clause, guessed=clause.guessed - names)
            promoted = True
        if extra:
            clause = replace(
                clause,
                names={**clause.names, **extra},
                words=clause.words | set(extra),
                name_at={**dict.fromkeys(extra, 0), **clause.name_at},
            )
            promoted = True
        clauses.append(clause)
    if promoted:
        rejected, asserted = _stances(clauses, parsed.decision)
    else:
        if parsed.plain_stances is None:
            parsed.plain_stances = _stances(clauses, parsed.decision)
        rejected, asserted = parsed.plain_stances
    return replace(parsed, clauses=clauses, rejected=rejected, asserted=asserted)


def _stances(clauses: Sequence[_Clause], decision: bool) -> tuple[dict[str, str], set[str]]:
    """Which names the text gives up (name -> the words saying so) and which it states.

    Given up: what follows "instead of", "rather than", "switched from", "replaced", "dropped", "stop
    using", "no longer"; what "X was replaced / retired / archived" names; the subject of a negated
    clause ("Go is no longer mandatory"). A bare "no X" / "not X" rejects X only in a decision ("no
    GraphQL"): elsewhere it describes what is missing ("complaints: no Apple Pay").
    """
    rejected: dict[str, str] = {}
    for clause in clauses:
        if clause.reason:
            continue
        for m in REJECTED.finditer(clause.text):
            if m.group("cue").casefold() in ("no", "not") and not decision:
                continue
            for word in m.group("what").split():
                stem = _stem(word)
                if stem in clause.names and stem not in clause.guessed:
                    rejected.setdefault(stem, _phrase(clause.text, m.start("cue"), m.end("what"), stem))
        for m in REPLACED_BY.finditer(clause.text):
            stem = _stem(m.group("what"))
            if stem in clause.names:
                rejected.setdefault(stem, m.group(0).strip())
        if clause.negated and not clause.changed:
            for stem, at in clause.name_at.items():
                if at < clause.negation_at and stem not in clause.guessed:
                    rejected.setdefault(stem, _quote(clause.text))
    asserted = {s for c in clauses if not c.reason for s in c.names if s not in rejected}
    return rejected, asserted


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


_AUX = word_set(
    "will would shall should can could may might must do does did is are was were be been we they it i you "
    "to 're 'll 's going has have had am"
)


def _phrase(text: str, start: int, end: int, stem: str | None = None) -> str:
    """The words from `start` to `end` of a clause, with the auxiliaries just before ("will not use X")."""
    if stem is not None:
        # End at the name itself rather than at whatever the pattern took after it.
        for m in WORD.finditer(text, start):
            if m.start() >= end:
                break
            if _stem(_POSSESSIVE.sub("", m.group(0))) == stem:
                end = m.end()
                break
    before = list(WORD.finditer(text[:start]))
    while before and before[-1].group(0).casefold() in _AUX and start - before[-1].start() < 40:
        start = before.pop().start()
    return _quote(text[start:end])


def _asserting(clause: _Clause, stem: str) -> str:
    """Where a clause states a name: up to three words before it, and the name ("we will use MongoDB")."""
    at = clause.name_at.get(stem)
    if at is None:
        return _quote(clause.text)
    words = list(WORD.finditer(clause.text[:at]))
    start = words[-3].start() if len(words) >= 3 else 0
    name = WORD.match(clause.text, at)
    return _quote(clause.text[start : name.end() if name else at])


def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split()).strip(" .,;:")
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


@dataclass
class _Match:
    old: _Clause
    new: _Clause
    shared: set[str]
    only_old: set[str]
    only_new: set[str]


def _overlap(old: _Clause, new: _Clause, tags: set[str]) -> _Match:
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
    return bool(negated.focus) and _stem(negated.focus) in match.shared | {
        w for w in other.words if w.startswith(_stem(negated.focus)[:4])
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
    if match.only_old - _FRAME and match.only_new - _FRAME and not new.changed:
        return None
    for slot in sorted(set(old.values) & set(new.values)):
        if slot == "number" or (slot.startswith("version:") and slot == "version:"):
            continue
        if old.values[slot].isdisjoint(new.values[slot]):
            return Contradiction(
                "value",
                _quote(old.text),
                _quote(new.text),
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
                "value", _quote(old.text), _quote(new.text), f"{new.shown[slot_n]} vs {old.shown[slot_o]}"
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
    return Contradiction("value", _quote(old.text), _quote(new.text), f"{shown_new} vs {shown_old}")


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
    b = _parse(newer, kinds)
    if b.history:
        return None
    a = _parse(older, kinds)
    if a.history:
        return None
    a, b = _promote(a, b), _promote(b, a)
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
                    _quote(phrase),
                    f"it gives up {_shown(stem, a, b)}",
                )
        for stem, phrase in a.rejected.items():
            if canon_all[stem] in {canon_all[s] for s in b.asserted} and about_it(stem):
                clause = next((c for c in new_clauses if stem in c.names), new_clauses[0])
                return Contradiction(
                    "replacement",
                    _quote(phrase),
                    _asserting(clause, stem),
                    f"it takes back {_shown(stem, a, b)}",
                )
    for match in matches:
        # Two decisions on one subject that differ in polarity are a reversal even in other words.
        decided = a.decision and b.decision and len(match.shared) >= 2
        if match.old.negated != match.new.negated and (_same_claim(match) or decided):
            cue = match.new.negation or match.old.negation
            return Contradiction("negation", _quote(match.old.text), _quote(match.new.text), f"“{cue}”")
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
            return Contradiction(
                "changed", _quote(match.old.text), _quote(match.new.text), f"now {new_words}"
            )
    return None


def _shown(stem: str, a: _Parsed, b: _Parsed) -> str:
    for parsed in (a, b):
        for clause in parsed.clauses:
            if stem in clause.names:
                return clause.names[stem]
    return stem
