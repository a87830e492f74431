"""Pack the most relevant memories into one compact, id-citing block that fits a token budget (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from memory_core import Importance, Memory

from .views import ContextBlock

__all__ = ["CHARS_PER_TOKEN", "assemble_context", "estimate_tokens", "memory_line"]

CHARS_PER_TOKEN = 4
"""The heuristic: English text averages about four characters per token in BPE tokenizers (GPT, Claude).
It errs large for code and non-Latin scripts, so callers should keep some headroom."""

_MAX_TASK_CHARS = 200
# A memory cut to fewer characters than this says nothing useful: leave it out instead.
_MIN_PARTIAL_CHARS = 80


def estimate_tokens(text: str) -> int:
    """Tokens in `text`, estimated as ceil(characters / 4)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def memory_line(memory: Memory) -> str:
    """`- #42 (decision; 2026-01-03; alice; high; tags: vpn, infra): text` with whitespace collapsed."""
    meta = [memory.kind, memory.created_at.date().isoformat()]
    if memory.author:
        meta.append(memory.author)
    if memory.importance in (Importance.HIGH, Importance.CRITICAL):
        meta.append(memory.importance.value)
    if memory.tags:
        meta.append("tags: " + ", ".join(memory.tags))
    text = " ".join(memory.text.split())
    if memory.title and memory.title not in text:
        text = f"{' '.join(memory.title.split())}: {text}"
    return f"- {memory.ref} ({'; '.join(meta)}): {text}"


def assemble_context(task: str, memories: Sequence[Memory], token_budget: int) -> ContextBlock:
    """The memories, most relevant first, as lines under a short header, cut to `token_budget`.

    Whole lines are added while they fit; the first line that does not fit is shortened (ending in
    "…") when enough room is left for it to say something, and everything after it is left out.
    """
    shown_task = " ".join(task.split())
    if len(shown_task) > _MAX_TASK_CHARS:
        shown_task = shown_task[: _MAX_TASK_CHARS - 1] + "…"
    if not memories:
        context = f"No stored team memory is relevant to: {shown_task}"
        return ContextBlock(
            task=task,
            context=context,
            memory_ids=[],
            estimated_tokens=estimate_tokens(context),
            token_budget=token_budget,
            omitted=0,
        )
    header = (
        f"Team memory relevant to: {shown_task}\n"
        "Cite memories by their id (#N). When two disagree, the newer one usually wins."
    )
    parts = [header]
    ids: list[int] = []
    whole = 0
    room = token_budget * CHARS_PER_TOKEN - len(header)
    for memory in memories:
        line = "\n" + memory_line(memory)
        if len(line) <= room:
            parts.append(line)
            ids.append(memory.id)
            whole += 1
            room -= len(line)
            continue
        if room >= _MIN_PARTIAL_CHARS:
            parts.append(line[: room - 1] + "…")
            ids.append(memory.id)
        break
    context = "".join(parts)
    return ContextBlock(
        task=task,
        context=context,
        memory_ids=ids,
        estimated_tokens=estimate_tokens(context),
        token_budget=token_budget,
        omitted=len(memories) - whole,
    )
