"""The general sanity set: the core's twenty team facts and the small BEIR-layout fixture `teamkb`.

LoCoMo is one kind of data (chit-chat between two people). A default that helps it and hurts
paraphrased team facts or plain documents is not an improvement, so every tuning run reports these too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memory_core import CoreSettings, Embedder, MemoryCore, SearchMode, SearchSettings
from memory_core.testing import draft, team_facts

from .beir import run_beir
from .metrics import Scores, mrr_at, recall_at

__all__ = ["TEAMKB", "run_sanity", "run_team_facts"]

TEAMKB = Path(__file__).resolve().parent / "fixtures" / "teamkb"


async def run_team_facts(
    embedder: Embedder,
    *,
    modes: Sequence[SearchMode] = ("keyword", "vector", "hybrid"),
    search: SearchSettings | None = None,
) -> dict[str, Any]:
    """Each paraphrased question must find its fact: R@1, R@3 and MRR@10 per mode."""
    facts = list(team_facts())
    scores = {mode: Scores() for mode in modes}
    with tempfile.TemporaryDirectory(prefix="teamlore-facts-") as tmp:
        settings = CoreSettings(data_dir=Path(tmp), search=search or SearchSettings())
        async with await MemoryCore.open(settings, embedder=embedder) as core:
            results = await core.store_many("default", [draft(fact) for fact, _ in facts])
            for mode in modes:
                for (_fact, question), result in zip(facts, results, strict=True):
                    hits = await core.query("default", question, limit=10, mode=mode, record=False)
                    ranked = [str(h.memory.id) for h in hits]
                    wanted = {str(result.memory.id)}
                    scores[mode].add(
                        {
                            "R@1": recall_at(ranked, wanted, 1),
                            "R@3": recall_at(ranked, wanted, 3),
                            "MRR@10": mrr_at(ranked, wanted, 10),
                        }
                    )
    return {"name": "team facts", "documents": len(facts), "modes": {m: s.means() for m, s in scores.items()}}


async def run_sanity(
    embedder: Embedder,
    *,
    modes: Sequence[SearchMode] = ("keyword", "vector", "hybrid"),
    search: SearchSettings | None = None,
) -> dict[str, Any]:
    return {
        "team_facts": await run_team_facts(embedder, modes=modes, search=search),
        "teamkb": await run_beir(TEAMKB, embedder, modes=modes, search=search),
    }
