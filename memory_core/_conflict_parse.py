"""The conflict finder's reading of one text: clauses with their words, names, values and stances.

`parse` cuts a memory's text into clauses (memory_core/_conflicts.py states the rules) and reads each:
content stems, names, typed values (numbers with units, clock times, dates, URLs, hosts, versions,
people), negation and change words; then which names the text gives up or states. Parses are cached by
content, bounded (memory_core/_parse_cache.py).
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
    "DEFAULT_TIMELINE_KINDS",
    "FRAME_WORDS",
    "Clause",
    "Parsed",
    "Statement",
    "is_decision",
    "is_history",
    "parse",
    "promote",
    "quote",
    "word_stem",
]

DEFAULT_TIMELINE_KINDS = ("incident", "status", "standup", "log", "reflection")


@dataclass(frozen=True)
class Statement:
    """What the finder reads of a memory: its text, kind and tags."""

    text: str
    kind: str = "note"
    tags: tuple[str, ...] = ()


# --- clauses ------------------------------------------------------------------------------------------------


@dataclass
class Clause:
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
class Parsed:
    clauses: list[Clause]
    rejected: dict[str, str]  # names this text says were given up -> the phrase
    asserted: set[str]  # names it states positively
    tags: set[str]
    decision: bool
    history: bool
    # `_stances` of the clauses as parsed, worked out on first use: most comparisons promote no name,
    # and a store compares its own text with ten others.
    plain_stances: tuple[dict[str, str], set[str]] | None = field(default=None, repr=False, compare=False)


@functools.lru_cache(maxsize=65536)
def word_stem(word: str) -> str:
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


FRAME_WORDS = {
    word_stem(w)
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


def _month(name: str) -> int:
    """The month a written name means: "March", "mar" or "Sept" (its first three letters)."""
    lower = name.casefold()
    return MONTHS[lower if lower in MONTHS else lower[:3]]


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


def _add(clause: Clause, slot: str, value: object, shown: str) -> None:
    clause.values.setdefault(slot, set()).add(value)
    clause.shown.setdefault(slot, shown.strip())


def _parse_clause(raw: str, reason: bool) -> Clause:
    clause = Clause(text=raw, reason=reason)
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
    each(DAY_MONTH, lambda m: _add(clause, "date", (_month(m.group(2)), int(m.group(1))), m.group(0)))
    each(MONTH_DAY, lambda m: _add(clause, "date", (_month(m.group(1)), int(m.group(2))), m.group(0)))

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
                    _add(clause, f"version:{word_stem(key)}", token, f"{before} {token}")
                    version_spans.append((start, start + len(token)))
        # A name has a capital letter (tokens are ASCII words): most tokens need no NAME match.
        if (
            token != lower
            and NAME.match(token)
            and lower not in NOT_NAMES
            and not lower.isdigit()
            and lower not in VERSION_CUES
        ):
            product = word_stem(token)
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
            _add(clause, "count:" + word_stem(unit), value, m.group(0))
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
        stem = word_stem(word)
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
        clause.focus = next((w for w in rest if word_stem(w) in clause.words), "")
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
_PARSED: ParseCache[Parsed] = ParseCache(max_entries=8192, max_chars=1_000_000)


def parse(statement: Statement, timeline_kinds: tuple[str, ...]) -> Parsed:
    """The clauses of a statement (cached: a store compares its text with its 10 nearest memories and a
    quality report compares each memory with many others).

    The result is shared: callers never change it (`promote` copies what it adds to).
    """
    return _PARSED.get(
        (statement, timeline_kinds), len(statement.text), lambda: _parse_now(statement, timeline_kinds)
    )


def _parse_now(statement: Statement, timeline_kinds: tuple[str, ...]) -> Parsed:
    return Parsed(
        clauses=[_parse_clause(raw, reason) for raw, reason in _split_clauses(statement.text)],
        rejected={},
        asserted=set(),
        tags={t.casefold() for t in statement.tags},
        decision=is_decision(statement.text, statement.kind),
        history=is_history(statement.text, statement.kind, timeline_kinds),
    )


def promote(parsed: Parsed, other: Parsed) -> Parsed:
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


def _stances(clauses: Sequence[Clause], decision: bool) -> tuple[dict[str, str], set[str]]:
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
                stem = word_stem(word)
                if stem in clause.names and stem not in clause.guessed:
                    rejected.setdefault(stem, _phrase(clause.text, m.start("cue"), m.end("what"), stem))
        for m in REPLACED_BY.finditer(clause.text):
            stem = word_stem(m.group("what"))
            if stem in clause.names:
                rejected.setdefault(stem, m.group(0).strip())
        if clause.negated and not clause.changed:
            for stem, at in clause.name_at.items():
                if at < clause.negation_at and stem not in clause.guessed:
                    rejected.setdefault(stem, quote(clause.text))
    asserted = {s for c in clauses if not c.reason for s in c.names if s not in rejected}
    return rejected, asserted


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
            if word_stem(_POSSESSIVE.sub("", m.group(0))) == stem:
                end = m.end()
                break
    before = list(WORD.finditer(text[:start]))
    while before and before[-1].group(0).casefold() in _AUX and start - before[-1].start() < 40:
        start = before.pop().start()
    return quote(text[start:end])


def quote(text: str, limit: int = 80) -> str:
    """`text` on one line, cut at a word to at most `limit` characters (how a finding quotes a memory)."""
    text = " ".join(text.split()).strip(" .,;:")
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"
