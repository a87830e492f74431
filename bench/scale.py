"""Speed, cost and scale: query latency and what the pipeline costs beside the embedding, per stage,
at 10k, 100k and 1M memories; single store and delete; ingest vs raw model throughput; HNSW recall.

Everything runs on this machine in one run, so the ratios compare like with like. What is public API
and what is not:

* ingest, store, query and delete go through `MemoryCore` (public API), with the real model (ONNX
  Runtime, the default); the bare encode of a question is timed on ONNX and on PyTorch interleaved,
  the PyTorch figure being the reference;
* the corpora are synthetic chat text (bench/synth.py) whose vectors are derived, not embedded: each
  text is cut from two real LoCoMo turns and gets the normalised sum of those turns' real MiniLM vectors
  (clustered like real embeddings, which matters for HNSW). Embedding 100k texts would take minutes at
  the raw model rate and far longer on a shared machine; the ingest path with the real model is
  measured separately (the ingest ratio). `--embed-corpus` embeds the 100k corpus for real;
* the 10k corpus is the first 10,000 texts of the 100k one; both go in through the public bulk path
  `MemoryCore.import_` (ExportRecords that carry their vector); the 1M corpus (other texts, seed 1) is
  written straight into the core's tables (internal schema: `import_` would take over half an hour
  here). Each is built once into the cache directory and reused, with the index snapshot its first
  open wrote (`--prepare` builds them all without timing anything); query latency always embeds the
  question with the real, uncached model;
* the per-stage figures are the core's public `QueryTrace`;
* HNSW recall@10 reads the tenant's live index (`core._index`, internal) and compares it with exact
  inner products over the same vectors; bench/index_choice.py times exact and HNSW search on subsets
  of those vectors (the measurement behind the default `approximate_above`);
* resident memory is measured on a real `teamlore serve` subprocess once GET /readyz answers; its
  VmRSS is read from /proc (start-to-ready itself is bench/starts.py's figure).
"""

from __future__ import annotations

import base64
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from memory_core import (
    Actor,
    CoreSettings,
    Embedder,
    ExportRecord,
    MemoryCore,
    MemoryDraft,
    QueryTrace,
    Source,
)

from .cache import DEFAULT_CACHE_DIR, CachedEmbedder
from .index_choice import index_choice
from .served import NeverReady, serving

__all__ = [
    "ScaleConfig",
    "build_direct",
    "build_from_vectors",
    "build_million",
    "derived_vectors",
    "percentile",
    "run_scale",
]

TENANT = "scale"
ADMIN = Actor(id="bench:admin", name="bench", is_admin=True)

Progress = Callable[[str], None]


@dataclass
class ScaleConfig:
    small: int = 10_000  # the pipeline's own cost is also measured at this size (0: skip)
    memories: int = 100_000
    million: int = 1_000_000  # 0: skip the 1M figure
    queries: int = 300
    stores: int = 100
    ingest_texts: int = 4_000
    work_dir: Path = field(default_factory=lambda: DEFAULT_CACHE_DIR / "scale")
    million_dir: Path | None = None  # default: work_dir / derived-<million>
    serve: bool = True
    embed_corpus: bool = False  # embed the 100k corpus with the model instead of deriving its vectors
    cache_dir: Path = DEFAULT_CACHE_DIR
    prepare: bool = False  # only build the cached corpora and their index snapshots; time nothing


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def ms_figures(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p99_ms": round(percentile(values, 99) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2),
        "n": len(values),
    }


def _rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MiB."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            name, value = line.split(":", 1)
            fields[name] = int(value.split()[0]) / 1024
    return round(fields.get("VmRSS", 0.0), 1), round(fields.get("VmHWM", 0.0), 1)


def _draft(text: str) -> MemoryDraft:
    speaker = text.split(":", 1)[0]
    return MemoryDraft(text=text, author=speaker, author_id=f"bench:{speaker}", source=Source.IMPORT)


async def _ingest_ratio(model: Embedder, texts: list[str], progress: Progress) -> dict[str, Any]:
    """Raw model throughput (A), bulk ingest through store_many (B), raw again (A'): ratio B / mean(A, A')."""
    half = len(texts) // 4
    raw_a, ingest, raw_b = texts[:half], texts[half : 3 * half], texts[3 * half : 4 * half]
    model.embed(texts[4 * half :] or raw_a[:32])  # warm-up: the first forward passes are slow
    started = time.perf_counter()
    model.embed(raw_a)
    raw_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="teamlore-ingest-") as tmp:
        async with await MemoryCore.open(CoreSettings(data_dir=Path(tmp)), embedder=model) as core:
            started = time.perf_counter()
            results = await core.store_many(TENANT, [_draft(t) for t in ingest])
            ingest_seconds = time.perf_counter() - started
            assert sum(r.created for r in results) == len(ingest)
    started = time.perf_counter()
    model.embed(raw_b)
    raw_seconds += time.perf_counter() - started
    raw_rate = (len(raw_a) + len(raw_b)) / raw_seconds
    ingest_rate = len(ingest) / ingest_seconds
    progress(f"ingest {ingest_rate:.0f}/s vs raw model {raw_rate:.0f}/s")
    return {
        "texts": len(ingest),
        "raw_model_per_s": round(raw_rate, 1),
        "bulk_ingest_per_s": round(ingest_rate, 1),
        "ratio": round(ingest_rate / raw_rate, 3),
    }


async def build_corpus(
    data_dir: Path, embedder: Embedder, texts: list[str], progress: Progress, *, chunk: int = 5_000
) -> float:
    """The corpus in `data_dir`, built once and reused while its marker file says it is complete."""
    marker = data_dir / f"complete-{len(texts)}"
    if marker.is_file():
        return 0.0
    shutil.rmtree(data_dir, ignore_errors=True)
    started = time.perf_counter()
    async with await MemoryCore.open(CoreSettings(data_dir=data_dir), embedder=embedder) as core:
        for start in range(0, len(texts), chunk):
            await core.store_many(TENANT, [_draft(t) for t in texts[start : start + chunk]])
            progress(f"built {start + chunk:,} / {len(texts):,}")
    marker.write_text("ok")
    return time.perf_counter() - started


async def build_from_vectors(
    data_dir: Path,
    model_id: str,
    dim: int,
    texts: list[str],
    vectors_for: Callable[[int, int], np.ndarray],
    progress: Progress,
) -> float:
    """A corpus with precomputed vectors through the public bulk path (import_ with vectors)."""
    marker = data_dir / f"complete-{len(texts)}"
    if marker.is_file():
        return 0.0
    shutil.rmtree(data_dir, ignore_errors=True)
    now = datetime.now(UTC)
    started = time.perf_counter()
    settings = CoreSettings(data_dir=data_dir, snapshot_every_changes=0)
    async with await MemoryCore.open(settings, embedder=NoEmbedder(model_id, dim)) as core:
        chunk = 20_000
        for start in range(0, len(texts), chunk):
            part = texts[start : start + chunk]
            vectors = vectors_for(start, start + len(part))
            records = [
                ExportRecord(
                    id=start + i + 1,
                    text=text,
                    author=text.split(":", 1)[0],
                    source=Source.IMPORT,
                    created_at=now,
                    embedding_model=model_id,
                    embedding=base64.b64encode(
                        np.ascontiguousarray(vector, dtype=np.float32).tobytes()
                    ).decode(),
                )
                for i, (text, vector) in enumerate(zip(part, vectors, strict=True))
            ]
            await core.import_(TENANT, records)
            progress(f"imported {start + len(part):,} / {len(texts):,}")
    marker.write_text("ok")
    return time.perf_counter() - started


def build_direct(
    data_dir: Path,
    model_id: str,
    dim: int,
    texts: list[str],
    vectors_for: Callable[[int, int], np.ndarray],
    progress: Progress,
) -> float:
    """A corpus written straight into the core's tables (internal schema), for the 1M figure.

    Going through `import_` costs ~2 ms a memory on this machine (duplicate checks, change log, index
    sync per chunk of 256): over half an hour for a million. The rows written here are the ones
    `import_` would write; the first `MemoryCore.open` then builds the HNSW index from SQL as it does
    after any crash or on a new replica.
    """
    import sqlalchemy as sa

    from memory_core._keyword import FTS_DDL
    from memory_core._schema import memory_table, meta_table, metadata
    from memory_core.hygiene import content_hash

    marker = data_dir / f"complete-{len(texts)}"
    if marker.is_file():
        return 0.0
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    started = time.perf_counter()
    engine = sa.create_engine(f"sqlite:///{data_dir / 'teamlore.db'}")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        metadata.create_all(conn)
        conn.exec_driver_sql(FTS_DDL)
        conn.execute(
            sa.insert(meta_table),
            [{"key": "embedding_model", "value": model_id}, {"key": "embedding_dim", "value": str(dim)}],
        )
    chunk = 20_000
    for start in range(0, len(texts), chunk):
        part = texts[start : start + chunk]
        vectors = vectors_for(start, start + len(part))
        rows = [
            {
                "id": start + i + 1,
                "tenant": TENANT,
                "text": text,
                "kind": "note",
                "tags": "",
                "importance": "normal",
                "source": "import",
                "author": text.split(":", 1)[0],
                "created_at": now,
                "updated_at": now,
                "links": "",
                "content_hash": content_hash(text),
                "embedding_model": model_id,
                "access_count": 0,
                "embedding": np.ascontiguousarray(vector, dtype=np.float32).tobytes(),
            }
            for i, (text, vector) in enumerate(zip(part, vectors, strict=True))
        ]
        with engine.begin() as conn:
            conn.execute(sa.insert(memory_table), rows)
            conn.execute(
                sa.text(
                    "INSERT INTO memory_fts(rowid, text, title, tags, author) "
                    "VALUES (:id, :text, '', '', :author)"
                ),
                [{"id": r["id"], "text": r["text"], "author": r["author"]} for r in rows],
            )
        progress(f"wrote {start + len(part):,} / {len(texts):,}")
    engine.dispose()
    marker.write_text("ok")
    return time.perf_counter() - started


def build_million(
    data_dir: Path,
    model: Embedder,
    sentences: Sequence[tuple[str, str]],
    turns: np.ndarray,
    n: int,
    progress: Progress,
) -> float:
    """The large corpus (built once; shared by `bench scale` and `bench starts`): synthetic texts
    (seed 1) with vectors derived from the real vectors of their LoCoMo turns, straight into the tables."""
    from .synth import synth_memories

    if (data_dir / f"complete-{n}").is_file():
        return 0.0
    memories = synth_memories(n, sentences, seed=1)
    return build_direct(
        data_dir,
        model.model_id,
        model.dim,
        [text for text, _ in memories],
        derived_vectors(turns, [pair for _, pair in memories]),
        progress,
    )


def random_vectors(dim: int, seed: int) -> Callable[[int, int], np.ndarray]:
    def vectors_for(start: int, end: int) -> np.ndarray:
        rng = np.random.default_rng(seed + start)
        vectors = rng.standard_normal((end - start, dim)).astype(np.float32)
        unit: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return unit

    return vectors_for


def derived_vectors(
    turn_vectors: np.ndarray, sources: Sequence[tuple[int, int]]
) -> Callable[[int, int], np.ndarray]:
    def vectors_for(start: int, end: int) -> np.ndarray:
        pairs = np.asarray(sources[start:end], dtype=np.int64)
        vectors = turn_vectors[pairs[:, 0]] + turn_vectors[pairs[:, 1]]
        unit: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return unit

    return vectors_for


class NoEmbedder:
    """For building from precomputed vectors: any call to embed is a bug in the benchmark."""

    def __init__(self, model_id: str, dim: int) -> None:
        self.model_id = model_id
        self.dim = dim

    def embed(self, texts: list[str]) -> np.ndarray:
        raise AssertionError(f"the precomputed corpus asked to embed {len(texts)} texts")


async def _latency(core: MemoryCore, questions: Sequence[str], *, warmup: int = 5) -> dict[str, float]:
    for q in questions[:warmup]:
        await core.query(TENANT, q, limit=5, record=False)
    seconds = []
    for q in questions[warmup:]:
        started = time.perf_counter()
        await core.query(TENANT, q, limit=5, record=False)
        seconds.append(time.perf_counter() - started)
    return ms_figures(seconds)


BESIDE = "everything beside the question embedding"
REST = "the rest (thread hand-offs, query log, transactions)"
OVERLAPPED = " (beside the embedding)"
"""Appended to the label of a stage run while the question was embedded (`QueryTrace.overlapped`)."""


def stage_figures(traces: Sequence[tuple[float, QueryTrace]]) -> dict[str, float]:
    """p50 ms of each stage of (whole seconds, trace) pairs, the whole query, the rest and BESIDE.

    BESIDE is each query's whole time less its question embedding (p50, and its p99 under
    `BESIDE + " p99"`): what the pipeline itself costs on the query's critical path (issue #16's "lean
    hybrid pipeline"). A stage that ran beside the embedding in most queries is labelled so and left out
    of the rest (the whole query less the stages on its critical path), as its time hides in the
    embedding's.
    """
    seconds: dict[str, list[float]] = {}
    overlapped: dict[str, int] = {}
    for _whole, trace in traces:
        for label, spent in trace.stages.items():
            seconds.setdefault(label, []).append(spent)
        for label in trace.overlapped:
            overlapped[label] = overlapped.get(label, 0) + 1
    beside = [whole - trace.stages.get("question embedding", 0.0) for whole, trace in traces]
    out: dict[str, float] = {}
    on_path = 0.0
    for label, values in seconds.items():
        ms = round(percentile(values, 50) * 1000, 2)
        if overlapped.get(label, 0) * 2 > len(traces):
            out[label + OVERLAPPED] = ms
        else:
            out[label] = ms
            on_path += ms
    out["whole query"] = round(percentile([whole for whole, _ in traces], 50) * 1000, 2)
    out[REST] = round(out["whole query"] - on_path, 2)
    out[BESIDE] = round(percentile(beside, 50) * 1000, 2)
    out[BESIDE + " p99"] = round(percentile(beside, 99) * 1000, 2)
    return out


async def _stages(core: MemoryCore, questions: Sequence[str]) -> dict[str, float]:
    """Where a query's time goes: `stage_figures` of each question's query, as its `QueryTrace` says."""
    traces = []
    for q in questions:
        trace = QueryTrace()
        started = time.perf_counter()
        await core.query(TENANT, q, limit=5, record=False, trace=trace)
        traces.append((time.perf_counter() - started, trace))
    return stage_figures(traces)


def _encode_figures(models: dict[str, Embedder], questions: Sequence[str]) -> dict[str, dict[str, float]]:
    """The bare encode of one question through each runtime, interleaved so both see the same load."""
    for model in models.values():
        model.embed(list(questions[:3]))  # warm-up: the first forward passes are slow
    seconds: dict[str, list[float]] = {name: [] for name in models}
    for q in questions:
        for name, model in models.items():
            started = time.perf_counter()
            model.embed([q])
            seconds[name].append(time.perf_counter() - started)
    return {name: ms_figures(values) for name, values in seconds.items()}


async def _open_ready(data_dir: Path, model: Embedder) -> MemoryCore:
    core = await MemoryCore.open(CoreSettings(data_dir=data_dir), embedder=model)
    await core.wait_for_index()  # HNSW may build in the background after an open: time HNSW
    return core


def _hnsw_recall(core: MemoryCore, query_vectors: np.ndarray, k: int = 10) -> dict[str, Any]:
    index = core._index.indexes.tenants[TENANT]  # internal, on purpose: recall is a property of the index
    ids, vectors = index.vectors_for_rebuild()
    scores = query_vectors @ vectors.T
    score_of = [dict(zip(ids, row.tolist(), strict=True)) for row in scores]
    recalls = []
    for q, row, true_score in zip(query_vectors, scores, score_of, strict=True):
        # A hit counts when it is as close as the k-th exact neighbour (ties are not misses).
        kth = float(np.sort(row)[-k])
        found = [m for m, _ in index.search(q, k)]
        recalls.append(sum(true_score[m] >= kth - 1e-6 for m in found) / k)
    return {
        "approximate": index.approximate,
        "vectors": len(ids),
        "queries": len(recalls),
        "recall_at_10": round(float(np.mean(recalls)), 4),
    }


def _serve_start(data_dir: Path, progress: Progress, timeout: float = 180.0) -> dict[str, Any]:
    """`teamlore serve --only web` on a data directory: seconds to a 200 from /readyz, and its memory."""
    try:
        with serving({"TEAMLORE_DATA_DIR": str(data_dir)}, timeout=timeout, stop_timeout=60) as served:
            rss, peak = _rss_mb(served.process.pid) if served.process.poll() is None else (0.0, 0.0)
    except NeverReady as error:
        progress(str(error)[-2000:])
        return {"start_to_ready_s": None, "rss_mb": 0.0, "peak_rss_mb": 0.0}
    progress(f"serve ready after {served.ready_s:.2f}s, {rss:.0f} MiB resident")
    return {"start_to_ready_s": round(served.ready_s, 2), "rss_mb": rss, "peak_rss_mb": peak}


async def run_scale(
    config: ScaleConfig,
    model: Embedder,
    sentences: Sequence[tuple[str, str]],
    questions: Sequence[str],
    progress: Progress = lambda _m: None,
    torch_model: Embedder | None = None,
) -> dict[str, Any]:
    from .synth import synth_memories

    out: dict[str, Any] = {
        "config": {
            "small": config.small,
            "memories": config.memories,
            "million": config.million,
            "queries": config.queries,
            "stores": config.stores,
            "ingest_texts": config.ingest_texts,
            "embed_corpus": config.embed_corpus,
            "runtime": type(getattr(model, "model", model)).__name__,
        }
    }
    cached = CachedEmbedder(model, config.cache_dir)
    memories = synth_memories(config.memories + config.ingest_texts + config.stores, sentences, seed=0)
    texts = [text for text, _ in memories]
    corpus, ingest, fresh = (
        texts[: config.memories],
        texts[config.memories : config.memories + config.ingest_texts],
        texts[config.memories + config.ingest_texts :],
    )
    asked = list(questions)[: config.queries + 5]
    turn_vectors = cached.embed([f"{speaker}: {text}" for speaker, text in sentences])

    # The corpora: built once into the cache directory and reused (their index snapshots too).
    sizes: dict[str, Path] = {}
    if config.small:
        sizes["small"] = config.work_dir / f"corpus-{config.small}"
        out["small_build_seconds"] = round(
            await build_from_vectors(
                sizes["small"],
                model.model_id,
                model.dim,
                corpus[: config.small],
                derived_vectors(turn_vectors, [pair for _, pair in memories[: config.small]]),
                progress,
            ),
            1,
        )
    data_dir = config.work_dir / f"corpus-{config.memories}{'-embedded' if config.embed_corpus else ''}"
    if config.embed_corpus:
        built = await build_corpus(data_dir, cached, corpus, progress)
    else:
        sources = [pair for _, pair in memories[: config.memories]]
        built = await build_from_vectors(
            data_dir, model.model_id, model.dim, corpus, derived_vectors(turn_vectors, sources), progress
        )
    out["build_seconds"] = round(built, 1)
    big_dir = config.million_dir or config.work_dir / f"derived-{config.million}"
    if config.million:
        built_million = build_million(big_dir, model, sentences, turn_vectors, config.million, progress)
        out["million_build_seconds"] = round(built_million, 1)
    if config.prepare:
        for directory in [*sizes.values(), data_dir, *([big_dir] if config.million else [])]:
            started = time.perf_counter()
            async with await _open_ready(directory, model):
                pass  # closing writes the index snapshot the timed runs load
            progress(f"{directory.name}: opened and snapshotted in {time.perf_counter() - started:.0f} s")
        return out

    out["ingest"] = await _ingest_ratio(model, ingest, progress)
    encoders = {"onnx": model} if torch_model is None else {"onnx": model, "torch": torch_model}
    encode = _encode_figures(encoders, asked[5:105])
    out["query_embedding"] = encode["onnx"]
    if "torch" in encode:
        out["query_embedding_torch"] = encode["torch"]
    progress(f"query embedding alone: {encode}")

    if config.small:
        async with await _open_ready(sizes["small"], model) as core:
            out["query_small"] = await _latency(core, asked)
            out["stages_small"] = await _stages(core, asked[5:])
        progress(f"at {config.small:,}: {out['query_small']}; stages {out['stages_small']}")

    started = time.perf_counter()
    async with await _open_ready(data_dir, model) as core:
        await core.query(TENANT, asked[0], limit=5, record=False)
        out["open_to_first_query_s"] = round(time.perf_counter() - started, 2)
        out["query_100k"] = await _latency(core, asked)
        progress(f"query at {config.memories:,}: {out['query_100k']}")
        out["stages_100k"] = await _stages(core, asked[5:])
        progress(f"stages: {out['stages_100k']}")
        store_seconds = []
        stored = []
        for text in fresh:
            started = time.perf_counter()
            result = await core.store(TENANT, _draft(text))
            store_seconds.append(time.perf_counter() - started)
            stored.append(result.memory.id)
        out["store"] = ms_figures(store_seconds)
        progress(f"store: {out['store']}")
        delete_seconds = []
        for memory_id in stored:  # leave the reusable corpus as it was; exercises tombstones at scale
            started = time.perf_counter()
            await core.delete(TENANT, memory_id, actor=ADMIN)
            delete_seconds.append(time.perf_counter() - started)
        out["delete"] = ms_figures(delete_seconds)
        progress(f"delete: {out['delete']}")
        hits = await core.query(TENANT, fresh[0], limit=10, record=False)
        out["deleted_never_returned"] = not ({h.memory.id for h in hits} & set(stored))
        out["hnsw"] = _hnsw_recall(core, cached.embed(list(questions)[:500]))
        progress(f"hnsw: {out['hnsw']}")
        ids, vectors = core._index.indexes.tenants[TENANT].vectors_for_rebuild()  # internal, as above
        out["index_choice"] = index_choice(ids, vectors, cached.embed(list(questions)[:200]))
        out["approximate_above"] = core.settings.search.approximate_above
        progress(f"exact or HNSW by size: {out['index_choice']}")
    if config.serve:
        out["serve"] = _serve_start(data_dir, progress)

    if config.million:
        started = time.perf_counter()
        async with await _open_ready(big_dir, model) as core:
            await core.query(TENANT, asked[0], limit=5, record=False)
            out["million_open_to_first_query_s"] = round(time.perf_counter() - started, 2)
            out["query_1m"] = await _latency(core, asked)
            out["stages_1m"] = await _stages(core, asked[5:105])
            out["million_rss_mb"] = _rss_mb(os.getpid())[0]
        progress(f"query at {config.million:,}: {out['query_1m']}; stages {out['stages_1m']}")
    return out
