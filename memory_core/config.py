"""Settings the memory core needs, as a plain model; the composition root fills it from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "CoreOptions",
    "CoreSettings",
    "LLMSettings",
    "QualitySettings",
    "ReflectionSettings",
    "SearchSettings",
]


class SearchSettings(BaseModel):
    """Knobs of hybrid search. The defaults are the measured best (see docs/benchmarks.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fusion: Literal["score", "rrf"] = Field(
        "score",
        description="How the two rankings combine: weighted normalised scores, or reciprocal-rank fusion.",
    )
    vector_weight: float = Field(
        0.4, ge=0, description="Weight of the vector (meaning) ranking in the fusion."
    )
    keyword_weight: float = Field(
        0.6, ge=0, description="Weight of the keyword (BM25) ranking in the fusion."
    )
    keyword_coverage: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of the question's keyword weight the best keyword hit must cover to count in "
        "full; one that covers less counts in proportion (0: the best keyword hit always counts in full).",
    )
    vector_exponent: float = Field(
        3.0,
        gt=0,
        le=10,
        description="Power on a vector hit's normalised score: above 1, hits well below the best meaning "
        "match count for less, so a clear best match stands out (1: linear).",
    )
    rrf_k: int = Field(
        60, ge=1, description="Reciprocal-rank-fusion constant (fusion=rrf): higher flattens ranks."
    )
    candidates: int = Field(100, ge=10, le=2000, description="How many hits each retriever proposes.")
    min_similarity: float = Field(
        0.1, ge=-1, le=1, description="Vector hits below this cosine similarity are not proposed at all."
    )
    date_boost: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Relative boost for memories written in a time the question names ('on 5 May 2024').",
    )
    context_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of a well-ranked message's score lent to neighbouring turns of its conversation.",
    )
    context_window_minutes: float = Field(
        60.0,
        ge=0,
        description="Neighbouring memories by different people this close in time are one conversation.",
    )
    context_lenders: int = Field(
        30, ge=1, le=200, description="How many of the best candidates lend context to their neighbours."
    )
    importance_boost: float = Field(
        0.10, ge=0, le=0.5, description="Largest relative boost, given to critical memories."
    )
    recency_boost: float = Field(
        0.05, ge=0, le=0.5, description="Largest relative boost, given to the newest memories."
    )
    recency_half_life_days: float = Field(90.0, gt=0, description="Age at which the recency boost halves.")
    # 5,000, not 50,000: an exact search reads every vector, so past a few thousand HNSW answers a
    # question several times faster for recall@10 above 0.99 (bench/index_choice.py, docs/benchmarks.md).
    approximate_above: int = Field(
        5_000,
        ge=1000,
        description="A tenant with more vectors than this gets an HNSW index (exact search below).",
    )


class LLMSettings(BaseModel):
    """An OpenAI-compatible chat-completions endpoint (Ollama, vLLM, a hosted API) that writes reflections.

    Unset (no base_url or no model): reflections are extractive, offline. On any error, timeout or
    malformed answer the reflection falls back to the extractive synthesis and says so.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str | None = Field(
        None,
        description="API base URL up to /v1, e.g. http://localhost:11434/v1 (Ollama). Empty: extractive.",
    )
    model: str = Field("", description="Model name sent with each request, e.g. llama3.1:8b or gpt-4o-mini.")
    api_key: SecretStr | None = Field(None, description="Bearer token for the endpoint, if it needs one.")
    timeout: float = Field(
        30.0, gt=0, le=600, description="Seconds to wait for an answer before falling back."
    )
    max_tokens: int = Field(800, ge=64, le=8192, description="Longest answer the model may write.")
    temperature: float = Field(0.2, ge=0, le=2, description="Sampling temperature; low keeps it factual.")
    max_input_chars: int = Field(
        24_000, ge=1000, description="Most characters of memory text sent per request (oldest dropped first)."
    )

    @property
    def enabled(self) -> bool:
        return bool(self.base_url and self.model)


class ReflectionSettings(BaseModel):
    """How `/reflect` gathers memories and how many key points it writes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seeds: int = Field(
        5, ge=1, le=50, description="Most search hits that anchor a topic (the best passing the seed rules)."
    )
    seed_similarity: float = Field(
        0.5, ge=0, le=1, description="A hit found by meaning alone anchors the topic from this cosine."
    )
    seed_similarity_with_words: float = Field(
        0.3,
        ge=0,
        le=1,
        description="A hit that also shares words with the topic anchors it from this cosine.",
    )
    affinity: float = Field(
        0.7,
        ge=0,
        le=2,
        description="A hit joins the reflection when its affinity (cosine, plus shared tags and closeness "
        "in time) to a gathered memory reaches this.",
    )
    window_limit: int = Field(
        200, ge=1, le=5000, description="Most memories a reflection over a time window (no topic) reads."
    )
    max_points: int = Field(6, ge=1, le=30, description="Most key points in a reflection.")
    diversity: float = Field(
        0.3, ge=0, le=1, description="Weight of novelty against relevance when choosing key points (MMR)."
    )


class QualitySettings(BaseModel):
    """Thresholds of the quality report (see docs/reflection.md for the score formula)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_days: int = Field(
        30, ge=1, le=3650, description="Days of queries (knowledge gaps) and ingest failures reported."
    )
    stale_days: int = Field(
        180, ge=1, description="A memory not changed nor read for this many days is reported as stale."
    )
    knowledge_gap_similarity: float = Field(
        0.4, ge=-1, le=1, description="A query whose best answer has a lower cosine than this is a gap."
    )
    conflict_similarity: float = Field(
        0.3,
        ge=-1,
        le=1,
        description="Memories from this cosine are handed to the conflict finder, which then needs a shared "
        "subject and a negation, a replacement or a changed value (the cosine only proposes pairs).",
    )
    conflict_neighbours: int = Field(
        10, ge=1, le=100, description="How many nearest memories of each memory the conflict finder reads."
    )
    low_information_words: int = Field(
        3, ge=1, le=20, description="A memory with fewer content words than this is low-information."
    )
    timeline_kinds: tuple[str, ...] = Field(
        ("incident", "status", "standup", "log", "reflection"),
        description="Kinds that record how things evolved: their differences are history, not conflicts.",
    )
    scan_limit: int = Field(
        20_000, ge=100, description="Pair checks (duplicates, conflicts) cover this many newest memories."
    )
    trend_points: int = Field(30, ge=1, le=1000, description="Earlier scores shown as the trend.")
    keep_reports_days: int = Field(365, ge=1, description="Reports older than this are deleted.")


class CoreOptions(BaseModel):
    """How the memory is embedded, checked and searched (the `TEAMLORE_CORE__*` settings)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="Model name, or a path to a sentence-transformers model directory.",
    )
    embedding_batch_size: int = Field(32, ge=1, le=512, description="Texts per forward pass of the model.")
    embedding_runtime: Literal["onnx", "torch"] = Field(
        "onnx",
        description="How the packaged all-MiniLM-L6-v2 runs: onnx (ONNX Runtime, exported once from the "
        "package's weights into model_cache_dir; the same vectors) or torch (sentence-transformers). "
        "Any other model always runs on torch.",
    )
    embedding_threads: int = Field(
        0,
        ge=0,
        le=64,
        description="ONNX runtime: how many model calls a batch of many texts (import, bulk store, "
        "concurrent queries) runs at once, each call on one thread; one question always takes one "
        "thread, which keeps queries fast beside other busy processes (0: one per core, at most 4; "
        "measured by `python -m bench threads`).",
    )
    switch_interval_ms: float = Field(
        0.5,
        ge=0,
        le=100,
        description="Python's thread switch interval while a core is open, lowered to this (never "
        "raised): a model call ends by taking back the interpreter lock, and beside a busy Python thread "
        "(the event loop under load, a query's keyword search) it waits up to a whole interval for it "
        "(Python's default, 5 ms, measured: 2.9 ms encodes took 9.1 ms; at 0.5 ms 4.0 ms). 0: leave "
        "Python's own.",
    )
    model_cache_dir: Path | None = Field(
        None,
        description="Where the exported ONNX model is kept, under a name derived from the weights' hash "
        "(default: models/ in the data directory).",
    )
    max_text_chars: int = Field(20_000, ge=100, description="Longer text is refused as too large.")
    near_duplicate_threshold: float = Field(
        0.92,
        gt=0,
        le=1,
        description="Cosine similarity from which a new memory is reported as near-duplicate.",
    )
    snapshot_every_changes: int = Field(
        5000, ge=0, description="Write an index snapshot after this many changes (0: only at close)."
    )
    query_log_days: int = Field(
        90, ge=0, description="How long queries and their best score are kept (0: for ever)."
    )
    ingest_failure_days: int = Field(
        90,
        ge=0,
        description="How long what a front-end refused to store (a mail, a webhook call) is remembered "
        "for the quality report and /metrics (0: for ever).",
    )
    key_cache_seconds: float = Field(
        5.0,
        ge=0,
        le=300,
        description="How long a process trusts an API key it checked without reading it again: a key "
        "revoked elsewhere (another process, the CLI) stops working within this time (0: read every time).",
    )
    change_log_days: float = Field(
        7.0,
        gt=0,
        description="How long the change log keeps entries; a process or snapshot further behind "
        "rebuilds its index from SQL.",
    )
    search: SearchSettings = SearchSettings()
    reflection: ReflectionSettings = Field(
        default_factory=ReflectionSettings, description="How /reflect gathers memories and writes key points."
    )
    llm: LLMSettings = Field(
        default_factory=LLMSettings, description="Optional OpenAI-compatible endpoint for reflections."
    )
    quality: QualitySettings = Field(
        default_factory=QualitySettings, description="Quality-report thresholds."
    )


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

    @property
    def model_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"
