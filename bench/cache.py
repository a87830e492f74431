"""An Embedder that keeps vectors on disk keyed by model and text, so repeated benchmark runs skip the model.

Only for iterating on ranking: the vectors are the model's own (it embeds whatever is not cached), so
quality figures are the same with or without the cache. Timing benchmarks never use it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from pathlib import Path

import numpy as np

from memory_core import Embedder

from ._types import Vectors

__all__ = ["DEFAULT_CACHE_DIR", "CachedEmbedder", "model_cache_dir"]

DEFAULT_CACHE_DIR = Path(__file__).resolve().parent / ".cache"


def model_cache_dir(chosen: Path | None = None) -> Path:
    """A bench run's ONNX export: in `chosen`, else TEAMLORE_CORE__MODEL_CACHE_DIR, else the cache."""
    return chosen or Path(os.environ.get("TEAMLORE_CORE__MODEL_CACHE_DIR") or DEFAULT_CACHE_DIR / "models")


class CachedEmbedder:
    """Wraps an Embedder; same model id and dimension, vectors read from / written to SQLite."""

    def __init__(self, inner: Embedder, cache_dir: Path = DEFAULT_CACHE_DIR) -> None:
        self._inner = inner
        cache_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(cache_dir / "embeddings.sqlite", check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB NOT NULL)")
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def dim(self) -> int:
        return self._inner.dim

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model_id}\0{self.dim}\0{text}".encode()).hexdigest()

    def embed(self, texts: list[str]) -> Vectors:
        keys = [self._key(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._lock:
            found: dict[str, bytes] = {}
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(
                    self._db.execute(f"SELECT key, v FROM vec WHERE key IN ({marks})", chunk).fetchall()
                )
        missing = [i for i, k in enumerate(keys) if k not in found]
        for i, k in enumerate(keys):
            if k in found:
                out[i] = np.frombuffer(found[k], dtype=np.float32)
        if missing:
            fresh = self._inner.embed([texts[i] for i in missing])
            for i, vector in zip(missing, fresh, strict=True):
                out[i] = vector
            with self._lock:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vec(key, v) VALUES (?, ?)",
                    [(keys[i], np.ascontiguousarray(out[i]).tobytes()) for i in missing],
                )
                self._db.commit()
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        return out

    def close(self) -> None:
        with self._lock:
            self._db.close()
