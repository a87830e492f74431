"""Settings the memory core needs, as a plain model; the composition root fills it from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CoreOptions", "CoreSettings", "SearchSettings"]


class SearchSettings(BaseModel):
    """Knobs of hybrid search. The defaults are the measured best (see docs/benchmarks.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant: higher flattens the ranks.")
    vector_weight: float = Field(1.0, ge=0, description="Weight of the vector ranking in the fusion.")
    keyword_weight: float = Field(1.0, ge=0, description="Weight of the keyword ranking in the fusion.")
    candidates: int = Field(100, ge=10, le=2000, description="How many hits each retriever proposes.")
    min_similarity: float = Field(
        0.1, ge=-1, le=1, description="Vector hits below this cosine similarity are not proposed at all."
    )
    importance_boost: float = Field(
        0.10, ge=0, le=0.5, description="Largest relative boost, given to critical memories."
    )
    recency_boost: float = Field(
        0.05, ge=0, le=0.5, description="Largest relative boost, given to the newest memories."
    )
    recency_half_life_days: float = Field(90.0, gt=0, description="Age at which the recency boost halves.")
    approximate_above: int = Field(
        50_000, ge=1000, description="A tenant with more vectors than this gets an HNSW index."
    )


class CoreOptions(BaseModel):
    """How the memory is embedded, checked and searched (the `TEAMLORE_CORE__*` settings)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="Model name, or a path to a sentence-transformers model directory.",
    )
    embedding_batch_size: int = Field(32, ge=1, le=512, description="Texts per forward pass of the model.")
    max_text_chars: int = Field(20_000, ge=100, description="Longer text is refused as too large.")
    near_duplicate_threshold: float = Field(
        0.92, gt=0, le=1, description="Cosine similarity from which a new memory is reported as near-duplicate."
    )
    snapshot_every_changes: int = Field(
        5000, ge=0, description="Write an index snapshot after this many changes (0: only at close)."
    )
    query_log_days: int = Field(90, ge=0, description="How long queries and their best score are kept.")
    search: SearchSettings = SearchSettings()


class CoreSettings(CoreOptions):
    """Everything the core needs: where the memory lives, plus the options."""

    data_dir: Path = Field(description="Holds the SQLite database and the index snapshots.")
    database_url: str | None = Field(
        None, description="SQLAlchemy async URL; default: SQLite file teamlore.db in the data directory."
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'teamlore.db'}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"
