"""LoCoMo through the public core API: store every turn, ask every question with evidence, score the turns.

Per conversation a fresh core (its own data directory) holds one turn per memory, text
`"<speaker>: <text>"`, the speaker as author and the session's date and time as created_at (plus the
turn's position in seconds, so turns keep their order as real messages would). Each question with
evidence goes through `core.query(..., limit=10, mode=...)`; a hit is relevant when it is one of the
question's evidence turns. Malformed evidence strings are repaired as the data's README describes.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from memory_core import CoreSettings, Embedder, MemoryCore, MemoryDraft, SearchMode, SearchSettings, Source

from .metrics import Scores, score_ranking

__all__ = [
    "CATEGORIES",
    "Conversation",
    "Question",
    "Turn",
    "load_locomo",
    "parse_evidence",
    "parse_session_date",
    "run_locomo",
]

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
TENANT = "locomo"
_SESSION_KEY = re.compile(r"session_(\d+)")
_DATE = re.compile(r"(\d{1,2}):(\d{2})\s*([ap]m)\s+on\s+(\d{1,2})\s+(\w+),?\s+(\d{4})", re.IGNORECASE)
_MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}


@dataclass(frozen=True)
class Turn:
    dia_id: str
    speaker: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class Question:
    text: str
    category: int
    evidence: frozenset[str]


@dataclass(frozen=True)
class Conversation:
    sample_id: str
    turns: tuple[Turn, ...]
    questions: tuple[Question, ...]
    unusable_evidence: int


def parse_session_date(value: str) -> datetime:
    """`"1:56 pm on 8 May, 2023"` as an aware UTC datetime."""
    match = _DATE.search(value)
    if match is None:
        raise ValueError(f"unrecognised LoCoMo session date {value!r}")
    hour, minute, half, day, month, year = match.groups()
    hour_24 = int(hour) % 12 + (12 if half.lower() == "pm" else 0)
    return datetime(int(year), _MONTHS[month.lower()], int(day), hour_24, int(minute), tzinfo=UTC)


def parse_evidence(raw: Sequence[str], valid: set[str]) -> tuple[set[str], int]:
    """The valid turn ids a question's evidence names, and how many references were unusable.

    Evidence strings are sometimes several ids in one (`"D8:6; D9:17"`), carry an extra colon
    (`"D:11:26"`) or a leading zero (`"D30:05"`): split on `;` and whitespace, keep the numbers.
    """
    found: set[str] = set()
    unusable = 0
    for item in raw:
        for token in re.split(r"[;,\s]+", item.strip()):
            if not token:
                continue
            numbers = [int(n) for n in re.findall(r"\d+", token)]
            dia_id = f"D{numbers[0]}:{numbers[1]}" if len(numbers) == 2 else None
            if dia_id is not None and dia_id in valid:
                found.add(dia_id)
            else:
                unusable += 1
    return found, unusable


def load_locomo(path: Path) -> list[Conversation]:
    """The ten conversations with their turns and scorable questions (those with valid evidence)."""
    out = []
    for sample in json.loads(path.read_text()):
        conv = sample["conversation"]
        turns: list[Turn] = []
        sessions = sorted(
            (int(m.group(1)), key) for key in conv if (m := _SESSION_KEY.fullmatch(key)) and conv[key]
        )
        for number, key in sessions:
            start = parse_session_date(conv[f"session_{number}_date_time"])
            for position, turn in enumerate(conv[key]):
                turns.append(
                    Turn(turn["dia_id"], turn["speaker"], turn["text"], start + timedelta(seconds=position))
                )
        valid = {t.dia_id for t in turns}
        questions = []
        unusable = 0
        for qa in sample["qa"]:
            evidence, bad = parse_evidence(qa.get("evidence") or [], valid)
            unusable += bad
            if evidence:
                questions.append(Question(str(qa["question"]), int(qa["category"]), frozenset(evidence)))
        out.append(Conversation(sample["sample_id"], tuple(turns), tuple(questions), unusable))
    return out


def _draft(turn: Turn) -> MemoryDraft:
    return MemoryDraft(
        text=f"{turn.speaker}: {turn.text}",
        author=turn.speaker,
        author_id=f"locomo:{turn.speaker}",
        created_at=turn.created_at,
        source=Source.IMPORT,
        source_ref=turn.dia_id,
    )


ProgressFn = Callable[[str], None]


async def run_locomo(
    path: Path,
    embedder: Embedder,
    *,
    modes: Sequence[SearchMode] = ("keyword", "vector", "hybrid"),
    search: SearchSettings | None = None,
    conversations: int | None = None,
    questions_per_conversation: int | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Scores per mode: {mode: {group: {metric: mean, "n": count}}} plus run facts.

    `conversations` / `questions_per_conversation` cut the run down (the CI slice); None = all.
    """
    data = load_locomo(path)[:conversations]
    scores = {mode: Scores() for mode in modes}
    facts = {"conversations": len(data), "turns": 0, "duplicate_turns": 0, "questions": 0}
    store_seconds = 0.0
    query_seconds = dict.fromkeys(modes, 0.0)
    for conv in data:
        questions = conv.questions[:questions_per_conversation]
        with tempfile.TemporaryDirectory(prefix="teamlore-locomo-") as tmp:
            settings = CoreSettings(data_dir=Path(tmp), search=search or SearchSettings())
            async with await MemoryCore.open(settings, embedder=embedder) as core:
                started = time.perf_counter()
                results = await core.store_many(TENANT, [_draft(t) for t in conv.turns])
                store_seconds += time.perf_counter() - started
                dia_ids_of: dict[int, set[str]] = {}
                for turn, result in zip(conv.turns, results, strict=True):
                    dia_ids_of.setdefault(result.memory.id, set()).add(turn.dia_id)
                facts["turns"] += len(conv.turns)
                facts["duplicate_turns"] += sum(not r.created for r in results)
                facts["questions"] += len(questions)
                for mode in modes:
                    started = time.perf_counter()
                    for q in questions:
                        hits = await core.query(TENANT, q.text, limit=10, mode=mode, record=False)
                        # A duplicate text is one memory for several turns: it counts as the relevant one.
                        ranked = [
                            min(ids & q.evidence) if ids & q.evidence else min(ids)
                            for ids in (dia_ids_of[h.memory.id] for h in hits)
                        ]
                        metrics = score_ranking(ranked, set(q.evidence))
                        scores[mode].add(metrics, ("all", CATEGORIES[q.category]))
                    query_seconds[mode] += time.perf_counter() - started
        if progress is not None:
            progress(f"{conv.sample_id}: {len(conv.turns)} turns, {len(questions)} questions")
    return {
        "facts": facts,
        "modes": {mode: s.means() for mode, s in scores.items()},
        "seconds": {
            "store": round(store_seconds, 1),
            **{f"query_{m}": round(s, 1) for m, s in query_seconds.items()},
        },
    }
