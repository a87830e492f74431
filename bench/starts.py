"""Quick starts: `teamlore serve` start to ready at 100k, and the very first open of a 1M database.

Both figures come with references measured in the same run, so they can be read on a shared machine:

* **serve start to ready at 100k**: a real `teamlore serve --only web` subprocess over the 100k corpus
  (an index snapshot present, as after any earlier run), timed from `Popen` to the first 200 from
  GET /readyz; the same command over an empty data directory is the reference (Python, the model,
  the web app: what any start costs). Rounds alternate between the two. The start with no snapshot at
  all (the index rebuilt from SQL) is timed once more, for information.
* **first open at 1M**: `MemoryCore.open` on a 1M-memory database with no index snapshot, to the
  first answer of a real query; then, in the same process, how long the HNSW index takes to build in
  the background and swap in, its recall@10 against exact search, the query latency while the build
  runs and after it, the snapshot written at close, and the next open from that snapshot. The reference
  is the bare read of every vector from the SQLite file with the standard `sqlite3` module (the floor
  for any open that starts from SQL).

The corpora are built once into a cache directory and reused (`--cache-dir`; default
`bench/.cache/starts`). The 100k corpus goes in through the public bulk path `MemoryCore.import_`;
the 1M corpus is written straight into the core's tables (`bench.scale.build_direct`: `import_` would
take over half an hour). Texts are synthetic chat memories cut from LoCoMo turns; their vectors are
derived from the real all-MiniLM-L6-v2 vectors of those turns (the normalised sum of two turns'
vectors: clustered like real embeddings, which is what decides HNSW build time and recall; random
unit vectors have no neighbourhoods and make any graph index slow and useless). Each first-open round
deletes the index directory first, so it really starts from SQL.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import numpy as np

from memory_core import CoreSettings, Embedder, MemoryCore, load_embedder
from memory_core.embedding import warm_up

from .cache import DEFAULT_CACHE_DIR, CachedEmbedder, model_cache_dir
from .scale import TENANT, build_from_vectors, build_million, derived_vectors, ms_figures
from .served import serving
from .synth import synth_memories

__all__ = ["StartsConfig", "corpus_million", "run_starts", "section", "serve_start"]

Progress = Callable[[str], None]


@dataclass
class StartsConfig:
    memories: int = 100_000
    million: int = 1_000_000  # 0: skip the first-open figure
    rounds: int = 3  # serve starts of each kind, alternating
    queries: int = 60  # timed queries during and after the background build
    recall_queries: int = 200
    cache_dir: Path = field(default_factory=lambda: DEFAULT_CACHE_DIR / "starts")
    model_cache_dir: Path | None = None  # the ONNX export; default TEAMLORE_CORE__MODEL_CACHE_DIR or ~/…
    serve: bool = True
    build_timeout: float = 1800.0  # give up waiting for the 1M HNSW build after this many seconds


def turn_vectors(model: Embedder, sentences: Sequence[tuple[str, str]], cache_dir: Path) -> np.ndarray:
    """The real vectors of every LoCoMo turn (cached on disk: they only seed the derived corpora)."""
    cached = CachedEmbedder(model, cache_dir)
    try:
        return cached.embed([f"{speaker}: {text}" for speaker, text in sentences])
    finally:
        cached.close()


async def corpus_100k(
    config: StartsConfig,
    model: Embedder,
    sentences: Sequence[tuple[str, str]],
    turns: np.ndarray,
    progress: Progress,
) -> Path:
    """The 100k corpus (built once), with a snapshot of its HNSW index."""
    memories = synth_memories(config.memories, sentences, seed=0)
    data_dir = config.cache_dir / f"corpus-{config.memories}"
    await build_from_vectors(
        data_dir,
        model.model_id,
        model.dim,
        [text for text, _ in memories],
        derived_vectors(turns, [pair for _, pair in memories]),
        progress,
    )
    # The import's close may have snapshotted a flat index (HNSW was still building): one open that
    # waits for HNSW leaves a snapshot of it, as any server that ran for a while does.
    async with await MemoryCore.open(CoreSettings(data_dir=data_dir), embedder=model) as core:
        await core.wait_for_index()
    return data_dir


def corpus_million(
    config: StartsConfig,
    model: Embedder,
    sentences: Sequence[tuple[str, str]],
    turns: np.ndarray,
    progress: Progress,
) -> Path:
    """The 1M corpus (built once; `bench scale` measures its query latency on the same directory)."""
    data_dir = config.cache_dir / f"derived-{config.million}"
    build_million(data_dir, model, sentences, turns, config.million, progress)
    return data_dir


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def serve_start(data_dir: Path, models: Path, timeout: float = 180.0) -> dict[str, Any]:
    """`teamlore serve --only web` on a data directory: seconds from Popen to a 200 from /readyz."""
    settings = {
        "TEAMLORE_DATA_DIR": str(data_dir),
        "TEAMLORE_CORE__MODEL_CACHE_DIR": str(models),
        "TEAMLORE_LOGGING__LEVEL": "WARNING",
    }
    with serving(settings, timeout=timeout, poll=0.02) as served:
        rss = _rss_mb(served.process.pid)
    return {"ready_s": round(served.ready_s, 2), "rss_mb": rss}


def _serve_rounds(config: StartsConfig, corpus: Path, models: Path, progress: Progress) -> dict[str, Any]:
    """Alternating starts: over the corpus (snapshot present) and over an empty data directory."""
    corpus_s, empty_s, rss = [], [], []
    for round_ in range(config.rounds):
        with tempfile.TemporaryDirectory(prefix="teamlore-empty-") as empty:
            empty_s.append(serve_start(Path(empty), models)["ready_s"])
        started = serve_start(corpus, models)
        corpus_s.append(started["ready_s"])
        rss.append(started["rss_mb"])
        progress(f"serve round {round_ + 1}: {corpus_s[-1]} s at {config.memories:,}, {empty_s[-1]} s empty")
    # The start with no snapshot at all: the index comes from SQL (HNSW then builds in the background).
    index_dir = corpus / "index"
    kept = corpus / "index.kept"
    index_dir.rename(kept)
    try:
        cold = serve_start(corpus, models)["ready_s"]
    finally:
        shutil.rmtree(index_dir, ignore_errors=True)  # the flat snapshot that start wrote at its close
        kept.rename(index_dir)
    progress(f"serve with no snapshot: {cold} s")
    return {
        "rounds": config.rounds,
        "corpus_ready_s": corpus_s,
        "empty_ready_s": empty_s,
        "median_ready_s": round(statistics.median(corpus_s), 2),
        "median_empty_ready_s": round(statistics.median(empty_s), 2),
        "no_snapshot_ready_s": cold,
        "rss_mb": round(statistics.median(rss), 1),
    }


async def _in_process_start(corpus: Path, models: Path) -> dict[str, float]:
    """Where a start goes, in this process: the model (ONNX session, first embed), then the open."""
    started = time.perf_counter()
    model = load_embedder("all-MiniLM-L6-v2", cache_dir=models)
    await anyio.to_thread.run_sync(warm_up, model)
    model_s = time.perf_counter() - started
    started = time.perf_counter()
    async with await MemoryCore.open(CoreSettings(data_dir=corpus), embedder=model) as core:
        open_s = time.perf_counter() - started
        await core.health()
        ready_s = time.perf_counter() - started
    return {"model_s": round(model_s, 2), "open_s": round(open_s, 2), "open_and_health_s": round(ready_s, 2)}


def raw_vector_read(database: Path) -> float:
    """The reference: every vector read from the SQLite file with the standard library, into one matrix."""
    started = time.perf_counter()
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        cursor = db.execute("SELECT id, embedding FROM memory")
        parts = []
        while rows := cursor.fetchmany(50_000):
            parts.append(np.frombuffer(b"".join([r[1] for r in rows]), dtype=np.float32))
        matrix = np.concatenate(parts)
    finally:
        db.close()
    assert matrix.size > 0
    return round(time.perf_counter() - started, 3)


async def _timed_queries(core: MemoryCore, questions: Sequence[str]) -> dict[str, float]:
    seconds = []
    for q in questions:
        started = time.perf_counter()
        await core.query(TENANT, q, limit=5, record=False)
        seconds.append(time.perf_counter() - started)
    return ms_figures(seconds)


async def _recall(core: MemoryCore, model: Embedder, questions: Sequence[str]) -> dict[str, Any]:
    """recall@10 of the tenant's index against exact inner products over the same vectors (internal)."""
    index = core._index.indexes.tenants[TENANT]  # internal, on purpose: recall is a property of the index
    vectors = await anyio.to_thread.run_sync(model.embed, list(questions))

    def measure() -> dict[str, Any]:
        ids, stored = index.vectors_for_rebuild()
        row_of = {memory_id: row for row, memory_id in enumerate(ids)}
        recalls = []
        for start in range(0, len(vectors), 25):  # 25 questions x 1M scores at a time
            block = vectors[start : start + 25]
            scores = block @ stored.T
            kth = np.partition(scores, -10, axis=1)[:, -10]
            for query, row, floor in zip(block, scores, kth.tolist(), strict=True):
                found = [m for m, _ in index.search(query, 10)]
                # A hit counts when it is as close as the 10th exact neighbour (ties are not misses).
                recalls.append(sum(float(row[row_of[m]]) >= floor - 1e-6 for m in found) / 10)
        recall = float(np.mean(recalls))
        return {"approximate": index.approximate, "queries": len(recalls), "recall_at_10": recall}

    result = await anyio.to_thread.run_sync(measure)
    result["recall_at_10"] = round(result["recall_at_10"], 4)
    return result


async def _first_open(
    config: StartsConfig, data_dir: Path, model: Embedder, questions: Sequence[str], progress: Progress
) -> dict[str, Any]:
    out: dict[str, Any] = {"raw_vector_read_s": raw_vector_read(data_dir / "teamlore.db")}
    progress(f"reference: raw read of every vector {out['raw_vector_read_s']} s")
    shutil.rmtree(data_dir / "index", ignore_errors=True)  # no snapshot: this is the very first open
    asked = list(questions)
    started = time.perf_counter()
    core = await MemoryCore.open(CoreSettings(data_dir=data_dir), embedder=model)
    try:
        out["open_s"] = round(time.perf_counter() - started, 2)
        await core.query(TENANT, asked[0], limit=5, record=False)
        out["first_answer_s"] = round(time.perf_counter() - started, 2)
        progress(f"first open: open {out['open_s']} s, first answer after {out['first_answer_s']} s")
        status = await core.index_status(TENANT)
        out["building_after_open"] = status["building"]
        out["query_during_build"] = await _timed_queries(core, asked[1 : 1 + config.queries])
        progress(f"queries during the build: {out['query_during_build']}")
        with anyio.move_on_after(max(0.0, config.build_timeout - (time.perf_counter() - started))):
            await core.wait_for_index()
        status = await core.index_status(TENANT)
        built = not status["building"]
        elapsed = time.perf_counter() - started
        out["hnsw_ready_s"] = round(elapsed, 1) if built else None
        if not built and status["build_progress"]:
            done, total = status["build_progress"]
            out["hnsw_progress"] = {
                "after_s": round(elapsed, 1),
                "done": done,
                "total": total,
                "projected_s": round(elapsed * total / done, 0) if done else None,
            }
        progress(
            f"HNSW in use after {out['hnsw_ready_s']} s"
            if built
            else f"unfinished: {out.get('hnsw_progress')}"
        )
        if built:
            out["hnsw_recall"] = await _recall(core, model, asked[-config.recall_queries :])
            out["query_after_build"] = await _timed_queries(core, asked[1 : 1 + config.queries])
            progress(f"recall {out['hnsw_recall']}; queries after: {out['query_after_build']}")
        out["rss_mb"] = _rss_mb(os.getpid())
    finally:
        closing = time.perf_counter()
        await core.aclose()  # cancels an unfinished build; writes the snapshot
        out["close_with_snapshot_s"] = round(time.perf_counter() - closing, 2)
    started = time.perf_counter()
    async with await MemoryCore.open(CoreSettings(data_dir=data_dir), embedder=model) as core:
        await core.query(TENANT, asked[0], limit=5, record=False)
        out["from_snapshot_first_answer_s"] = round(time.perf_counter() - started, 2)
    progress(f"next open, from the snapshot: {out['from_snapshot_first_answer_s']} s")
    return out


async def run_starts(
    config: StartsConfig,
    model: Embedder,
    sentences: Sequence[tuple[str, str]],
    questions: Sequence[str],
    progress: Progress = lambda _m: None,
) -> dict[str, Any]:
    models = model_cache_dir(config.model_cache_dir)
    out: dict[str, Any] = {
        "config": {
            "memories": config.memories,
            "million": config.million,
            "rounds": config.rounds,
            "queries": config.queries,
            "recall_queries": config.recall_queries,
        }
    }
    turns = turn_vectors(model, sentences, config.cache_dir)
    corpus = await corpus_100k(config, model, sentences, turns, progress)
    if config.serve:
        load_embedder("all-MiniLM-L6-v2", cache_dir=models).embed(["export the model once, untimed"])
        out["serve"] = _serve_rounds(config, corpus, models, progress)
        out["in_process"] = await _in_process_start(corpus, models)
        progress(f"in process: {out['in_process']}")
    if config.million:
        big = corpus_million(config, model, sentences, turns, progress)
        out["first_open"] = await _first_open(config, big, model, questions, progress)
    return out


def _size(n: int) -> str:
    if n and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    return f"{n // 1000}k" if n and n % 1000 == 0 else f"{n:,}"


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}×" if reference > 0 else "—"


def _unfinished(progress: dict[str, Any] | None) -> str:
    if not progress:
        return "still building when the run stopped waiting."
    return (
        f"still building when the run stopped waiting ({progress['after_s']} s after the open started: "
        f"{progress['done']:,} of {progress['total']:,} vectors in; at that rate the whole build takes "
        f"about {progress['projected_s']:.0f} s); the close cancelled it."
    )


def _status(value: float | None, target: float, *, at_most: bool = True) -> str:
    if value is None:
        return "**missed** (not finished)"
    return "met" if (value <= target if at_most else value >= target) else "**missed**"


def section(result: dict[str, Any] | None, machine: str | None) -> list[str]:
    """The "Quick starts" section of docs/benchmarks.md."""
    if result is None:
        return []
    config = result["config"]
    n, big = _size(config["memories"]), _size(config["million"])
    lines = ["## Quick starts", "", machine or "", ""]
    rows = []
    serve, first = result.get("serve"), result.get("first_open")
    if serve:
        rows.append(
            f"| `teamlore serve` start to ready, {n} memories (snapshot present) | ≤ 5 s | "
            f"{serve['median_ready_s']} s (median of {serve['rounds']}; "
            f"{_ratio(serve['median_ready_s'], serve['median_empty_ready_s'])} the empty start) | "
            f"{_status(serve['median_ready_s'], 5)} |"
        )
    if first:
        rows.append(
            f"| first open of {big} memories (no snapshot) to the first answer | ≤ 120 s | "
            f"{first['first_answer_s']} s ({_ratio(first['first_answer_s'], first['raw_vector_read_s'])} "
            f"the bare read of the vectors) | {_status(first['first_answer_s'], 120)} |"
        )
        hnsw = first.get("hnsw_recall")
        rows.append(
            f"| HNSW recall@10 against exact, {big} (built in the background) | ≥ 0.95 | "
            + (
                f"{hnsw['recall_at_10']} ({hnsw['queries']} questions)"
                if hnsw
                else "not measured (build unfinished)"
            )
            + f" | {_status(hnsw['recall_at_10'] if hnsw else None, 0.95, at_most=False)} |"
        )
    lines += ["| figure | target | measured | status |", "| --- | --- | --- | --- |", *rows, ""]
    notes = []
    if serve:
        notes.append(
            f"`teamlore serve --only web` in a fresh process, from `Popen` to the first 200 from `/readyz`, "
            f"rounds alternating with the same command over an empty data directory (the reference: "
            f"Python, the ONNX model, the web app). {n}: {serve['corpus_ready_s']} s; empty: "
            f"{serve['empty_ready_s']} s (median {serve['median_empty_ready_s']} s). With no index snapshot "
            f"at all (the index read from SQL, HNSW then built in the background) it was ready after "
            f"{serve['no_snapshot_ready_s']} s. Resident memory once ready: {serve['rss_mb']:.0f} MiB."
        )
    inproc = result.get("in_process")
    if inproc:
        notes.append(
            f"Where a start goes, in one process: loading the model (ONNX session and a first embed) "
            f"{inproc['model_s']} s; `MemoryCore.open` at {n} (database, snapshot load, catch-up) "
            f"{inproc['open_s']} s; with the readiness check {inproc['open_and_health_s']} s. The rest of "
            "a serve start is Python's imports and the web app. Before (2026-11-21, PyTorch runtime): "
            "9.27 s."
        )
    if first:
        during, after = first.get("query_during_build"), first.get("query_after_build")
        notes.append(
            f"First open at {big}: `MemoryCore.open` returned after {first['open_s']} s (every vector read "
            f"from SQL, 50,000 rows a fetch, into an exact index; the bare read with `sqlite3` took "
            f"{first['raw_vector_read_s']} s in the same run, just before, so the open read from a warm "
            f"page cache) and answered its first query at {first['first_answer_s']} s. Before "
            "(2026-11-21), HNSW was built on the open's path and the first open took 791 s (random "
            "vectors, efConstruction 80). Now HNSW was "
            + (
                f"built in the background and in use {first['hnsw_ready_s']} s after the open started."
                if first.get("hnsw_ready_s") is not None
                else _unfinished(first.get("hnsw_progress"))
            )
        )
        if during:
            notes.append(
                f"Queries while HNSW built (exact search over {big} vectors, beside the build): p50 "
                f"{during['p50_ms']} ms, p99 {during['p99_ms']} ms"
                + (f"; after the swap: p50 {after['p50_ms']} ms, p99 {after['p99_ms']} ms." if after else ".")
            )
        notes.append(
            f"Closing wrote the snapshot in {first['close_with_snapshot_s']} s; the next open, from it, "
            f"answered its first query after {first['from_snapshot_first_answer_s']} s. The process held "
            f"{first['rss_mb']:.0f} MiB."
        )
    notes.append(
        "How: `python -m bench starts` (`bench/starts.py`). Corpora built once into `bench/.cache/starts` "
        f"and reused: {n} through `MemoryCore.import_`, {big} written straight into the tables; texts cut "
        "from LoCoMo turns, vectors the normalised sum of two turns' real all-MiniLM-L6-v2 vectors "
        "(clustered like real embeddings; random unit vectors make any graph index slow and useless). "
        "Each first-open round deletes the index directory first. Recall counts a hit when it is as "
        "close as the 10th exact neighbour."
    )
    lines += [f"- {note}" for note in notes]
    lines.append("")
    return lines
