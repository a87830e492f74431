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

__all__ = ["fallback_sentences", "locomo_questions", "locomo_sentences", "synth_memories", "synth_texts"]


def locomo_sentences(path: Path) -> list[tuple[str, str]]:
    """(speaker, text) of every LoCoMo turn."""
    return [(t.speaker, t.text) for conv in load_locomo(path) for t in conv.turns]


def locomo_questions(path: Path) -> list[str]:
    return [q.text for conv in load_locomo(path) for q in conv.questions]


def fallback_sentences() -> list[tuple[str, str]]:
    """Without the shared data: the team facts (enough for a tiny CI slice)."""
    from memory_core.testing import team_facts

    return [
        (name, fact)
        for name, (fact, _q) in zip(["alice", "bob", "carol", "dan"] * 5, team_facts(), strict=False)
    ]


def synth_texts(n: int, sentences: Sequence[tuple[str, str]], *, seed: int = 0) -> list[str]:
    return [text for text, _sources in synth_memories(n, sentences, seed=seed)]


def synth_memories(
    n: int, sentences: Sequence[tuple[str, str]], *, seed: int = 0
) -> list[tuple[str, tuple[int, int]]]:
    """n unique texts, each with the indexes (into `sentences`) of the two turns it is cut from."""
    rng = random.Random(seed)
    usable = [i for i, (_speaker, text) in enumerate(sentences) if len(text.split()) >= 5]
    seen: set[str] = set()
    out: list[tuple[str, tuple[int, int]]] = []
    while len(out) < n:
        parts = []
        sources = []
        for _ in range(2):
            index = usable[rng.randrange(len(usable))]
            tokens = sentences[index][1].split()
            length = rng.randint(5, 14)
            start = rng.randrange(max(1, len(tokens) - length + 1))
            parts.append(" ".join(tokens[start : start + length]))
            sources.append(index)
        text = f"{sentences[sources[0]][0]}: {parts[0]} {parts[1]}"
        if text not in seen:
            seen.add(text)
            out.append((text, (sources[0], sources[1])))
    return out
