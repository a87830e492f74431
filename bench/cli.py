"""Cold CLI start times against `python -c "import torch"`, and the ONNX and torch runtimes side by side.

Each command runs in a fresh process, as a user meets it; the reference (importing torch) runs in the
same rounds, interleaved, so the ratios hold on a shared, noisy machine. The embedding comparison runs
both runtimes in this process on the same questions and batches, also interleaved.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memory_core import load_embedder

__all__ = ["run_cli"]

REPO = Path(__file__).resolve().parents[1]

QUESTIONS = [
    "where is the new vpn server?",
    "when can we ship to production?",
    "who owns the billing database?",
    "what did we decide about the event bus?",
    "how long are backups kept?",
]


def _teamlore() -> list[str]:
    script = Path(sys.executable).with_name("teamlore")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "teamlore.cli"]


def _timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr[-2000:]}")
    return elapsed


def run_cli(
    *, rounds: int = 7, models: Path | None = None, progress: Callable[[str], None] = print
) -> dict[str, Any]:
    """Median wall time of each command over `rounds` interleaved rounds, and its ratio to torch's import.

    `models` is where the ONNX export is kept (default: a fresh directory, so the one-time export is
    measured too)."""
    with tempfile.TemporaryDirectory(prefix="teamlore-bench-cli-") as tmp:
        models = models or Path(tmp) / "models"
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "HF_HUB_OFFLINE": "1",
            "TEAMLORE_DATA_DIR": str(Path(tmp) / "data"),
            "TEAMLORE_CORE__MODEL_CACHE_DIR": str(models),
        }
        env.pop("TEAMLORE_CORE__EMBEDDING_MODEL", None)
        cli = _teamlore()
        progress("cli: preparing the model and a small memory")
        prepare = _timed([*cli, "model", "prepare"], env)
        for text in (
            "The VPN moved to vpn2.corp.example.com on March 3rd",
            "Deploys to production happen only on Tuesdays and Thursdays",
        ):
            _timed([*cli, "store", text], env)
        torch_env = {**env, "TEAMLORE_CORE__EMBEDDING_RUNTIME": "torch"}
        commands: dict[str, tuple[list[str], dict[str, str]]] = {
            'python -c "import torch"': ([sys.executable, "-c", "import torch"], env),
            "teamlore --help": ([*cli, "--help"], env),
            "teamlore get 1": ([*cli, "get", "1"], env),
            "teamlore stats": ([*cli, "stats"], env),
            "teamlore query (onnx)": ([*cli, "query", QUESTIONS[0]], env),
            "teamlore query (torch runtime)": ([*cli, "query", QUESTIONS[0]], torch_env),
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for number in range(rounds):
            progress(f"cli: round {number + 1}/{rounds}")
            for name, (argv, command_env) in commands.items():
                times[name].append(_timed(argv, command_env))
        embedding = _runtimes(progress, models)
    reference = statistics.median(times['python -c "import torch"'])
    result: dict[str, Any] = {
        "rounds": rounds,
        "model_prepare_s": round(prepare, 2),
        "commands": {
            name: {
                "median_s": round(statistics.median(values), 3),
                "min_s": round(min(values), 3),
                "vs_import_torch": round(statistics.median(values) / reference, 2),
            }
            for name, values in times.items()
        },
        "embedding": embedding,
    }
    return result


def _runtimes(progress: Callable[[str], None], models: Path, *, repeats: int = 40) -> dict[str, Any]:
    """One question and batches of 32 through both runtimes, interleaved, in this process."""
    progress("cli: the two runtimes side by side")
    runtimes = {
        "onnx": load_embedder("all-MiniLM-L6-v2", runtime="onnx", cache_dir=models),
        "torch": load_embedder("all-MiniLM-L6-v2", runtime="torch"),
    }
    batch = [f"{q} (variant {i})" for i in range(7) for q in QUESTIONS][:32]
    for embedder in runtimes.values():
        embedder.embed(["warm up"])
    single: dict[str, list[float]] = {name: [] for name in runtimes}
    batched: dict[str, list[float]] = {name: [] for name in runtimes}
    for number in range(repeats):
        for name, embedder in runtimes.items():
            question = QUESTIONS[number % len(QUESTIONS)]
            started = time.perf_counter()
            embedder.embed([question])
            single[name].append(time.perf_counter() - started)
            if number % 4 == 0:
                started = time.perf_counter()
                embedder.embed(batch)
                batched[name].append(time.perf_counter() - started)
    out: dict[str, Any] = {}
    for name in runtimes:
        ordered = sorted(single[name])
        out[name] = {
            "question_p50_ms": round(statistics.median(ordered) * 1000, 2),
            "question_p90_ms": round(ordered[int(len(ordered) * 0.9) - 1] * 1000, 2),
            "batch32_texts_per_s": round(len(batch) / statistics.median(batched[name]), 1),
        }
    out["onnx_vs_torch_question_p50"] = round(
        out["onnx"]["question_p50_ms"] / out["torch"]["question_p50_ms"], 2
    )
    return out
