"""Synthetic memories for the scale benchmarks: realistic words and lengths, built from LoCoMo's turns.

Each text is a speaker name and two spans of 5-14 words cut from random turns, so term frequencies,
text lengths and the model's token counts look like real chat memories, and real LoCoMo questions
make realistic queries against them. Deterministic for a seed; every text is unique.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from .locomo import load_locomo

__all__ = ["fallback_sentences", "locomo_questions", "locomo_sentences", "synth_texts"]


def locomo_sentences(path: Path) -> list[tuple[str, str]]:
    """(speaker, text) of every LoCoMo turn."""
    return [(t.speaker, t.text) for conv in load_locomo(path) for t in conv.turns]


def locomo_questions(path: Path) -> list[str]:
    return [q.text for conv in load_locomo(path) for q in conv.questions]


def fallback_sentences() -> list[tuple[str, str]]:
    """Without the shared data: the team facts (enough for a tiny CI slice)."""
    from memory_core.testing import team_facts

    return [(name, fact) for name, (fact, _q) in zip(["alice", "bob", "carol", "dan"] * 5, team_facts(), strict=False)]


def synth_texts(n: int, sentences: Sequence[tuple[str, str]], *, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = [(speaker, text.split()) for speaker, text in sentences if len(text.split()) >= 5]
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        parts = []
        for _ in range(2):
            speaker, tokens = words[rng.randrange(len(words))]
            length = rng.randint(5, 14)
            start = rng.randrange(max(1, len(tokens) - length + 1))
            parts.append(" ".join(tokens[start : start + length]))
        text = f"{speaker}: {parts[0]} {parts[1]}"
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out
