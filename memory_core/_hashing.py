"""The hashing embedder: deterministic and model-free, for tests and demos (model name "test-hashing")."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["HashingEmbedder"]

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class HashingEmbedder:
    """Bag-of-words feature hashing: same text, same vector; shared words, higher cosine. No model.

    Good for tests of everything that is not retrieval quality: fast, deterministic, dimension 384 by
    default like MiniLM so index code paths are the same. Chosen by name with
    `load_embedder("test-hashing")` (`TEAMLORE_CORE__EMBEDDING_MODEL=test-hashing`); never in a
    deployment, where its vectors would be useless for search.
    """

    dim: int = 384
    model_id: str = "test-hashing-384"

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            for word in words or ["<empty>"]:
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dim
                sign = 1.0 if digest[4] & 1 else -1.0
                out[row, bucket] += sign
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out
