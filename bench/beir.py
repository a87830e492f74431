"""Any data set in BEIR layout (corpus.jsonl, queries.jsonl, qrels/test.tsv), scored through the public API.

Each corpus document becomes one memory whose text is `"<title>\\n\\n<text>"` (or just the text when
there is no title: the core embeds the text, and dense retrievers are given title and body together in
BEIR too). Every query with at least one positive judgement is asked with limit 10 and scored with
nDCG@10 (graded gains, as BEIR's pytrec_eval does) and Recall@10 (judgements > 0 are relevant).
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory_core import CoreSettings, Embedder, MemoryCore, MemoryDraft, SearchMode, SearchSettings, Source

from .metrics import Scores, recall_at

__all__ = ["BeirSet", "load_beir", "ndcg_graded", "run_beir"]

TENANT = "beir"


@dataclass(frozen=True)
class BeirSet:
    name: str
    corpus: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_beir(directory: Path, split: str = "test") -> BeirSet:
    """Read a BEIR-layout directory. Raises FileNotFoundError / ValueError on a malformed one."""
    corpus = {}
    for doc in _jsonl(directory / "corpus.jsonl"):
        title, text = (doc.get("title") or "").strip(), (doc.get("text") or "").strip()
        body = f"{title}\n\n{text}" if title and text else title or text
        if body:
            corpus[str(doc["_id"])] = body
    queries = {str(q["_id"]): str(q["text"]) for q in _jsonl(directory / "queries.jsonl")}
    qrels: dict[str, dict[str, int]] = {}
    with (directory / "qrels" / f"{split}.tsv").open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t")
        for row in rows:
            if not row or row[0] == "query-id":
                continue
            if len(row) != 3:
                raise ValueError(f"qrels row must be query-id, corpus-id, score: {row!r}")
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return BeirSet(directory.name, corpus, queries, qrels)


def ndcg_graded(ranked: Sequence[str], gains: dict[str, int], k: int = 10) -> float:
    ideal_gains = sorted((g for g in gains.values() if g > 0), reverse=True)[:k]
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(ideal_gains))
    if ideal == 0:
        return 0.0
    dcg = sum(max(gains.get(doc, 0), 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    return dcg / ideal


async def run_beir(
    directory: Path,
    embedder: Embedder,
    *,
    modes: Sequence[SearchMode] = ("keyword", "vector", "hybrid"),
    search: SearchSettings | None = None,
    split: str = "test",
    max_queries: int | None = None,
) -> dict[str, Any]:
    """{"name", "documents", "queries", "modes": {mode: {"all": {"nDCG@10", "R@10", "n"}}}}."""
    data = load_beir(directory, split)
    judged = [q for q in data.queries if any(g > 0 for g in data.qrels.get(q, {}).values())][:max_queries]
    scores = {mode: Scores() for mode in modes}
    with tempfile.TemporaryDirectory(prefix="teamlore-beir-") as tmp:
        settings = CoreSettings(data_dir=Path(tmp), search=search or SearchSettings())
        async with await MemoryCore.open(settings, embedder=embedder) as core:
            doc_ids = list(data.corpus)
            results = await core.store_many(
                TENANT,
                [MemoryDraft(text=data.corpus[d], source=Source.IMPORT, source_ref=d) for d in doc_ids],
            )
            docs_of: dict[int, list[str]] = {}
            for doc_id, result in zip(doc_ids, results, strict=True):
                docs_of.setdefault(result.memory.id, []).append(doc_id)
            for mode in modes:
                for query_id in judged:
                    gains = data.qrels[query_id]
                    hits = await core.query(TENANT, data.queries[query_id], limit=10, mode=mode, record=False)
                    ranked = [max(docs_of[h.memory.id], key=lambda d: gains.get(d, 0)) for h in hits]
                    relevant = {d for d, g in gains.items() if g > 0}
                    scores[mode].add(
                        {"nDCG@10": ndcg_graded(ranked, gains), "R@10": recall_at(ranked, relevant, 10)}
                    )
    return {
        "name": data.name,
        "documents": len(data.corpus),
        "queries": len(judged),
        "modes": {mode: s.means() for mode, s in scores.items()},
    }
