"""`python -m bench`: run the benchmarks, keep their results in bench/results and write docs/benchmarks.md.

python -m bench locomo   LoCoMo retrieval: keyword / vector / hybrid, per category, plus ablations
python -m bench sanity   the general sanity set: team facts and the teamkb BEIR-layout fixture
python -m bench beir DIR any data set in BEIR layout (corpus.jsonl, queries.jsonl, qrels/test.tsv)
python -m bench scale    query/store latency per stage at 10k, 100k and 1M, ingest, memory, HNSW recall
python -m bench cli      cold CLI times against `import torch`, ONNX and torch runtimes side by side
python -m bench concurrency  50 concurrent REST clients against a real `teamlore serve`
python -m bench conflicts  the conflict finder on bench/fixtures/conflicts, per category
python -m bench deletes  delete latency at 100k: FTS5 secure-delete against the 'optimize' fallback
python -m bench starts   `teamlore serve` start to ready at 100k; the first open of a 1M database
python -m bench peers    plain ChromaDB beside teamlore: same model, corpus and questions (needs .[bench])
python -m bench threads  the embedder's thread count: quiet and beside a CPU hog, one question and batches
python -m bench report   rewrite docs/benchmarks.md from the saved results
python -m bench all      locomo, sanity, conflicts, scale and starts, then the report
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from memory_core import Embedder, SearchMode, load_embedder

from .beir import run_beir
from .cache import DEFAULT_CACHE_DIR, CachedEmbedder
from .cli import run_cli
from .concurrency import ConcurrencyConfig, run_concurrency
from .conflicts import run_conflicts
from .conflicts import table as conflicts_table
from .deletes import run_deletes
from .locomo import run_locomo
from .machine import machine_facts
from .peers import PeersConfig, chroma_available, run_peers
from .report import DOCS, RESULTS, write_report
from .sanity import run_sanity
from .scale import ScaleConfig, run_scale
from .starts import StartsConfig, run_starts
from .synth import locomo_questions, locomo_sentences
from .threads import ThreadsConfig, run_threads
from .variants import VARIANTS

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)

# The nearest ancestor's shared/data: ../shared/data beside a clone, or beside its git worktrees' folder.
_SHARED = next(
    (a / "shared" / "data" for a in Path(__file__).resolve().parents if (a / "shared" / "data").is_dir()),
    Path(__file__).resolve().parents[2] / "shared" / "data",
)
LOCOMO = _SHARED / "locomo10.json"
MODES: tuple[SearchMode, ...] = ("keyword", "vector", "hybrid")

CacheOption = Annotated[
    bool, typer.Option("--cache/--no-cache", help="Reuse vectors cached in bench/.cache.")
]


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _embedder(cache: bool) -> Embedder:
    model = load_embedder("all-MiniLM-L6-v2")
    return CachedEmbedder(model) if cache else model


def _save(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine_facts(), **result}, indent=2) + "\n")
    _say(f"wrote {path}")
    return path


def _table(modes: dict[str, dict[str, dict[str, float]]], group: str = "all") -> str:
    lines = []
    for mode, groups in modes.items():
        metrics = groups[group]
        lines.append(f"{mode:>8}  " + "  ".join(f"{k}={v:.3f}" for k, v in metrics.items() if k != "n"))
    return "\n".join(lines)


@app.command()
def locomo(
    data: Annotated[Path, typer.Option(help="locomo10.json, read in place.")] = LOCOMO,
    conversations: Annotated[int | None, typer.Option(help="Only the first N conversations.")] = None,
    questions: Annotated[int | None, typer.Option(help="Only the first N questions of each.")] = None,
    ablations: Annotated[bool, typer.Option(help="Also run each search stage switched off.")] = True,
    cache: CacheOption = True,
) -> None:
    """LoCoMo turn-level retrieval via the public API: R@5, R@10, nDCG@10, MRR@10 per mode and category."""
    embedder = _embedder(cache)

    async def main() -> dict[str, Any]:
        result = await run_locomo(
            data,
            embedder,
            modes=MODES,
            conversations=conversations,
            questions_per_conversation=questions,
            progress=_say,
        )
        typer.echo(_table(result["modes"]))
        result["ablations"] = {}
        if ablations:
            for name, settings in VARIANTS.items():
                if name == "default":
                    result["ablations"][name] = result["modes"]["hybrid"]
                    continue
                run = await run_locomo(
                    data,
                    embedder,
                    modes=("hybrid",),
                    search=settings,
                    conversations=conversations,
                    questions_per_conversation=questions,
                )
                result["ablations"][name] = run["modes"]["hybrid"]
                typer.echo(f"{name}: " + _table({"hybrid": run["modes"]["hybrid"]}))
        return result

    _save("locomo", anyio.run(main))
    write_report()


@app.command()
def sanity(
    ablations: Annotated[bool, typer.Option(help="Also run each search stage switched off.")] = True,
    cache: CacheOption = True,
) -> None:
    """The general sanity set: the twenty team facts and the teamkb BEIR-layout fixture."""
    embedder = _embedder(cache)

    async def main() -> dict[str, Any]:
        result: dict[str, Any] = {"default": await run_sanity(embedder, modes=MODES), "ablations": {}}
        if ablations:
            for name, settings in VARIANTS.items():
                run = await run_sanity(embedder, modes=("hybrid",), search=settings)
                result["ablations"][name] = {k: v["modes"]["hybrid"] for k, v in run.items()}
        for name, run in result["default"].items():
            typer.echo(f"{name}:\n{_table(run['modes'])}")
        return result

    _save("sanity", anyio.run(main))
    write_report()


@app.command()
def beir(
    directory: Annotated[Path, typer.Argument(help="A BEIR-layout directory.", exists=True, file_okay=False)],
    split: Annotated[str, typer.Option(help="qrels/<split>.tsv")] = "test",
    max_queries: Annotated[int | None, typer.Option(help="Only the first N judged queries.")] = None,
    save: Annotated[
        bool, typer.Option(help="Keep the result in bench/results (shown in the report).")
    ] = False,
    cache: CacheOption = True,
) -> None:
    """Score any data set in BEIR layout: nDCG@10 and Recall@10 for keyword, vector and hybrid."""
    embedder = _embedder(cache)
    result = anyio.run(
        lambda: run_beir(directory, embedder, modes=MODES, split=split, max_queries=max_queries)
    )
    typer.echo(f"{result['name']}: {result['documents']} documents, {result['queries']} queries")
    typer.echo(_table(result["modes"]))
    if save:
        _save(f"beir-{result['name']}", result)
        write_report()


@app.command()
def scale(
    small: Annotated[int, typer.Option(help="Size of the small corpus (0: skip).")] = 10_000,
    memories: Annotated[int, typer.Option(help="Size of the latency corpus.")] = 100_000,
    million: Annotated[int, typer.Option(help="Size of the largest corpus (0: skip).")] = 1_000_000,
    queries: Annotated[int, typer.Option(help="Questions timed at each size.")] = 300,
    stores: Annotated[int, typer.Option(help="Single stores timed.")] = 100,
    ingest: Annotated[int, typer.Option(help="Texts for the ingest / raw model ratio.")] = 4_000,
    serve: Annotated[bool, typer.Option(help="Time `teamlore serve` start to ready.")] = True,
    embed_corpus: Annotated[bool, typer.Option(help="Embed the corpus instead of deriving vectors.")] = False,
    torch: Annotated[bool, typer.Option(help="Time the bare encode on PyTorch too (reference).")] = True,
    prepare: Annotated[bool, typer.Option(help="Only build the cached corpora and indexes.")] = False,
    data: Annotated[Path, typer.Option(help="locomo10.json: words and questions.")] = LOCOMO,
) -> None:
    """Speed, cost and scale on this machine (see the issue's table)."""
    model = load_embedder("all-MiniLM-L6-v2")
    torch_model = load_embedder("all-MiniLM-L6-v2", runtime="torch") if torch and not prepare else None
    config = ScaleConfig(
        small=small,
        memories=memories,
        million=million,
        queries=queries,
        stores=stores,
        ingest_texts=ingest,
        serve=serve,
        embed_corpus=embed_corpus,
        million_dir=DEFAULT_CACHE_DIR / "starts" / f"derived-{million}",  # shared with `bench starts`
        prepare=prepare,
    )
    result = anyio.run(
        lambda: run_scale(
            config,
            model,
            locomo_sentences(data),
            locomo_questions(data),
            progress=_say,
            torch_model=torch_model,
        )
    )
    typer.echo(json.dumps(result, indent=2))
    if not prepare:
        _save("scale", result)
        write_report()


@app.command()
def cli(rounds: Annotated[int, typer.Option(help="Interleaved rounds of every command.")] = 7) -> None:
    """Cold CLI start times against `python -c "import torch"`; the two embedding runtimes side by side."""
    result = run_cli(rounds=rounds, progress=_say)
    typer.echo(json.dumps(result, indent=2))
    _save("cli", result)
    write_report()


@app.command()
def concurrency(
    clients: Annotated[int, typer.Option(help="Concurrent REST clients, one API key each.")] = 50,
    queries: Annotated[int, typer.Option(help="Queries each client sends, one after another.")] = 20,
    memories: Annotated[int, typer.Option(help="Size of the served corpus.")] = 3_000,
    reference: Annotated[int, typer.Option(help="One client's queries before and after the load.")] = 30,
    data: Annotated[Path, typer.Option(help="locomo10.json: words and questions.")] = LOCOMO,
) -> None:
    """Concurrent clients against a real `teamlore serve`: answers/s, p50/p95/p99, beside references."""
    config = ConcurrencyConfig(
        memories=memories, clients=clients, queries=queries, reference_queries=reference
    )
    sentences, questions = locomo_sentences(data), locomo_questions(data)
    result = anyio.run(lambda: run_concurrency(config, sentences, questions, progress=_say))
    typer.echo(json.dumps(result, indent=2))
    _save("concurrency", result)
    write_report()


@app.command()
def conflicts(cache: CacheOption = True) -> None:
    """The conflict finder on the labelled pairs of bench/fixtures/conflicts: precision and recall."""
    embedder = _embedder(cache)
    result = anyio.run(lambda: run_conflicts(embedder))
    typer.echo(conflicts_table(result))
    _save("conflicts", result)
    write_report()


@app.command()
def deletes(
    memories: Annotated[int, typer.Option(help="Size of the corpus.")] = 100_000,
    count: Annotated[int, typer.Option(help="Deletes timed on each path.")] = 60,
    data: Annotated[Path, typer.Option(help="locomo10.json: words for the synthetic texts.")] = LOCOMO,
) -> None:
    """Delete latency: FTS5 secure-delete (pysqlite3) and the 'optimize' fallback, alternating."""
    result = anyio.run(lambda: run_deletes(memories, count, locomo_sentences(data), progress=_say))
    typer.echo(json.dumps(result, indent=2))
    _save("deletes", result)
    write_report()


@app.command()
def peers(
    memories: Annotated[int, typer.Option(help="Memories stored in both.")] = 10_000,
    questions: Annotated[int, typer.Option(help="LoCoMo questions asked of both.")] = 200,
    data: Annotated[Path, typer.Option(help="locomo10.json: turns and questions.")] = LOCOMO,
) -> None:
    """Plain ChromaDB beside teamlore (same model, corpus, questions): query p50/p99, ingest, the ratio."""
    if not chroma_available():
        _say("peers: skipped, chromadb is not installed (pip install -e '.[bench]' to run this section)")
        return
    config = PeersConfig(memories=memories, questions=questions)
    sentences, asked = locomo_sentences(data), locomo_questions(data)
    result = anyio.run(lambda: run_peers(config, sentences, asked, progress=_say))
    typer.echo(json.dumps(result, indent=2))
    _save("peers", result)
    write_report()


@app.command()
def threads(
    counts: Annotated[str, typer.Option(help="Intra-op thread counts, comma-separated.")] = "1,2,4",
    questions: Annotated[int, typer.Option(help="Single-question encodes per row and condition.")] = 80,
    queries: Annotated[int, typer.Option(help="Whole queries per row and condition.")] = 80,
    memories: Annotated[int, typer.Option(help="Size of the query corpus.")] = 3_000,
    data: Annotated[Path, typer.Option(help="locomo10.json: words and questions.")] = LOCOMO,
) -> None:
    """The embedder's threads: ONNX and torch at several counts, quiet and beside a CPU hog; whole queries."""
    config = ThreadsConfig(
        counts=tuple(int(n) for n in counts.split(",")),
        questions=questions,
        queries=queries,
        memories=memories,
    )
    sentences, asked = locomo_sentences(data), locomo_questions(data)
    result = anyio.run(lambda: run_threads(config, sentences, asked, progress=_say))
    typer.echo(json.dumps(result, indent=2))
    _save("threads", result)
    write_report()


@app.command()
def starts(
    memories: Annotated[int, typer.Option(help="Size of the served corpus.")] = 100_000,
    million: Annotated[int, typer.Option(help="Size of the first-open corpus (0: skip).")] = 1_000_000,
    rounds: Annotated[int, typer.Option(help="Serve starts of each kind, alternating.")] = 3,
    queries: Annotated[int, typer.Option(help="Queries timed during and after the HNSW build.")] = 60,
    build_timeout: Annotated[float, typer.Option(help="Seconds to wait for the 1M HNSW build.")] = 1800.0,
    serve: Annotated[bool, typer.Option(help="Time `teamlore serve` start to ready.")] = True,
    cache_dir: Annotated[Path | None, typer.Option(help="Where the corpora are built once.")] = None,
    data: Annotated[Path, typer.Option(help="locomo10.json: words and questions.")] = LOCOMO,
) -> None:
    """Quick starts: serve start to ready at 100k, the first open of a 1M database (no snapshot)."""
    config = StartsConfig(
        memories=memories,
        million=million,
        rounds=rounds,
        queries=queries,
        build_timeout=build_timeout,
        serve=serve,
    )
    if cache_dir is not None:
        config.cache_dir = cache_dir
    model = load_embedder("all-MiniLM-L6-v2")
    result = anyio.run(
        lambda: run_starts(config, model, locomo_sentences(data), locomo_questions(data), progress=_say)
    )
    typer.echo(json.dumps(result, indent=2))
    _save("starts", result)
    write_report()


@app.command()
def report() -> None:
    """Rewrite docs/benchmarks.md from the results in bench/results."""
    write_report()
    _say(f"wrote {DOCS}")


@app.command(name="all")
def run_all(cache: CacheOption = True) -> None:
    """Everything with the defaults (LoCoMo, the sanity set, conflicts, scale, starts), then the report."""
    locomo(data=LOCOMO, conversations=None, questions=None, ablations=True, cache=cache)
    sanity(ablations=True, cache=cache)
    conflicts(cache=cache)
    scale(
        small=10_000,
        memories=100_000,
        million=1_000_000,
        queries=300,
        stores=100,
        ingest=4_000,
        serve=True,
        embed_corpus=False,
        torch=True,
        prepare=False,
        data=LOCOMO,
    )
    starts(
        memories=100_000,
        million=1_000_000,
        rounds=3,
        queries=60,
        build_timeout=1800.0,
        serve=True,
        cache_dir=None,
        data=LOCOMO,
    )


def main() -> None:
    app(prog_name="python -m bench")


if __name__ == "__main__":
    main()
