"""Delete latency at scale: FTS5 secure-delete (pysqlite3) against the 'optimize' fallback, in one run.

One corpus of synthetic chat text (bench/synth.py; random unit vectors, since a delete embeds nothing)
goes in through the public bulk path `MemoryCore.import_` while the stdlib sqlite3 runs the engine, so
the FTS5 index is in the format both libraries read. It is copied twice; one copy is opened as the
fallback (the stdlib sqlite3, 'optimize' on every delete), the other with pysqlite3 (secure-delete).
The same memory ids are then deleted through `MemoryCore.delete` (public API), alternating between the
two cores, so both paths meet the same load on a shared machine. Forcing the fallback replaces
`memory_core._sqlite_driver.load_pysqlite3` (internal), exactly as the tests do.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import memory_core._sqlite_driver as sqlite_driver
from memory_core import Actor, CoreSettings, MemoryCore

from .cache import DEFAULT_CACHE_DIR
from .machine import machine_facts
from .scale import TENANT, NoEmbedder, Progress, build_from_vectors, ms_figures, random_vectors
from .synth import synth_texts

ADMIN = Actor(id="bench:admin", name="bench", is_admin=True)
MODEL_ID, DIM = "bench-random-384", 384


@contextlib.contextmanager
def _stdlib_sqlite() -> Iterator[None]:
    real = sqlite_driver.load_pysqlite3
    sqlite_driver.load_pysqlite3 = lambda: None
    try:
        yield
    finally:
        sqlite_driver.load_pysqlite3 = real


async def run_deletes(
    memories: int,
    deletes: int,
    sentences: Sequence[tuple[str, str]],
    *,
    progress: Progress,
    work_dir: Path = DEFAULT_CACHE_DIR / "deletes",
) -> dict[str, Any]:
    base = work_dir / f"corpus-{memories}"
    with _stdlib_sqlite():
        built = await build_from_vectors(
            base, MODEL_ID, DIM, synth_texts(memories, sentences, seed=3), random_vectors(DIM, 7), progress
        )
    copies = {name: work_dir / f"run-{name}" for name in ("optimize", "secure-delete")}
    for path in copies.values():
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(base, path)
    doomed = random.Random(5).sample(range(1, memories + 1), deletes)
    seconds: dict[str, list[float]] = {name: [] for name in copies}
    out: dict[str, Any] = {"machine": machine_facts(), "memories": memories, "deletes": deletes}
    out["build_seconds"] = round(built, 1)
    embedder = NoEmbedder(MODEL_ID, DIM)
    with _stdlib_sqlite():
        old = await MemoryCore.open(CoreSettings(data_dir=copies["optimize"]), embedder=embedder)
    new = await MemoryCore.open(CoreSettings(data_dir=copies["secure-delete"]), embedder=embedder)
    async with old, new:
        cores = {"optimize": old, "secure-delete": new}
        for name, core in cores.items():
            driver = core.database.sqlite_driver
            assert driver is not None
            out[f"{name}_driver"] = driver.describe()
        assert not old.database.fts_secure_delete and new.database.fts_secure_delete
        for i, memory_id in enumerate(doomed):
            order = list(cores.items()) if i % 2 == 0 else list(cores.items())[::-1]
            for name, core in order:
                started = time.perf_counter()
                await core.delete(TENANT, memory_id, actor=ADMIN)
                seconds[name].append(time.perf_counter() - started)
        for name, core in cores.items():
            out[name] = ms_figures(seconds[name])
            out[f"{name}_left"] = (await core.stats(TENANT)).memories
            progress(f"{name}: {out[name]}")
    for path in copies.values():
        shutil.rmtree(path, ignore_errors=True)
    return out
