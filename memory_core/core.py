"""MemoryCore: the one async, tenant-scoped API every front-end calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Literal

from .config import CoreSettings
from .embedding import Embedder
from .types import (
    Actor,
    ExportRecord,
    Hit,
    Memory,
    MemoryDraft,
    MemoryPatch,
    QualityReport,
    Reflection,
    Source,
    QueryFilters,
    Stats,
    StoreResult,
    TagCount,
)

ProgressCallback = Callable[[int, int], None]
"""Called as `(done, total)` while long work (import, reindex, store_many) advances."""

SearchMode = Literal["hybrid", "vector", "keyword"]


class MemoryCore:
    """The memory of every tenant. Open with `await MemoryCore.open(settings)` or `async with`.

    Every data method takes the tenant first; nothing ever crosses tenants. CPU work (embedding,
    FAISS) runs in worker threads; writes are serialised inside the process and the database's own
    locking serialises them across processes.
    """

    @classmethod
    async def open(
        cls,
        settings: CoreSettings,
        *,
        embedder: Embedder | None = None,
        allow_model_mismatch: bool = False,
    ) -> MemoryCore:
        """Open (and create) the database, load the embedder, and bring the vector index in step.

        Raises:
            ModelMismatch: the database was built with another model (unless allow_model_mismatch).
            ConfigurationError: the database cannot be opened.
        """
        raise NotImplementedError

    async def aclose(self) -> None:
        """Write index snapshots and release the database."""
        raise NotImplementedError

    async def store(self, tenant: str, draft: MemoryDraft, *, redact: bool = False) -> StoreResult:
        """Store one memory.

        Returns the new memory, or (created=False, duplicate_of=id) when the same normalised text is
        already stored in this tenant. Near-duplicates are stored and reported in `near_duplicates`.
        With `redact=True` credentials are replaced by `[REDACTED:<kind>]` instead of refused.

        Raises:
            InvalidInput: empty text, bad tenant name, unknown `supersedes` id.
            TooLarge: text over `max_text_chars`.
            CredentialDetected: the text looks like it holds a secret and redact is False.
        """
        raise NotImplementedError

    async def store_many(
        self,
        tenant: str,
        drafts: Iterable[MemoryDraft],
        *,
        redact: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> list[StoreResult]:
        """Store many memories with batched embedding; one result per draft, in order.

        A draft that fails validation raises before anything of its batch is written.
        """
        raise NotImplementedError

    async def query(
        self,
        tenant: str,
        text: str,
        *,
        filters: QueryFilters | None = None,
        limit: int = 5,
        mode: SearchMode = "hybrid",
        record: bool = True,
    ) -> list[Hit]:
        """Find the memories that best answer `text` (hybrid keyword + vector search, fused).

        Expired memories are hidden unless `filters.include_expired`. `record=False` keeps the query
        out of the query log (which feeds knowledge-gap findings).

        Raises:
            InvalidInput: empty question or limit outside 1..100.
        """
        raise NotImplementedError

    async def get(self, tenant: str, memory_id: int) -> Memory:
        """Return one memory. Raises NotFound (also for another tenant's id)."""
        raise NotImplementedError

    async def get_many(self, tenant: str, memory_ids: Iterable[int]) -> list[Memory]:
        """Return the memories that exist among `memory_ids`, in the given order; missing ids are skipped."""
        raise NotImplementedError

    async def recent(
        self, tenant: str, *, limit: int = 20, filters: QueryFilters | None = None
    ) -> list[Memory]:
        """The newest memories first, filtered like a query (expired hidden by default)."""
        raise NotImplementedError

    async def update(self, tenant: str, memory_id: int, patch: MemoryPatch, *, actor: Actor) -> Memory:
        """Change a memory; a new text is re-checked (size, secrets, duplicates) and re-embedded.

        Raises:
            NotFound, InvalidInput, Duplicate (the new text is another memory's), PermissionDenied.
        """
        raise NotImplementedError

    async def delete(self, tenant: str, memory_id: int, *, actor: Actor) -> None:
        """Delete for real: row, vector and keyword entry; an audit row records who, which id and when.

        Only the memory's author (`author_id == actor.id`) or an admin may delete.

        Raises:
            NotFound, PermissionDenied.
        """
        raise NotImplementedError

    async def list_tags(self, tenant: str) -> list[TagCount]:
        """Every tag in use with its count, most used first."""
        raise NotImplementedError

    async def stats(self, tenant: str) -> Stats:
        """Counts by kind, source and tag, the index size and the model in use."""
        raise NotImplementedError

    def export(self, tenant: str) -> AsyncIterator[ExportRecord]:
        """Every memory of the tenant (expired included), oldest first, with its vector."""
        raise NotImplementedError

    async def import_(
        self,
        tenant: str,
        records: Iterable[ExportRecord],
        *,
        on_progress: ProgressCallback | None = None,
    ) -> list[StoreResult]:
        """Import exported records. Vectors are reused when their model is the configured one and
        re-embedded otherwise; ids are kept when free; duplicates are skipped and reported."""
        raise NotImplementedError

    async def reindex(self, *, on_progress: ProgressCallback | None = None) -> int:
        """Re-embed every memory of every tenant with the configured model and rebuild the indexes.

        Returns the number of memories re-embedded. This is the cure for ModelMismatch.
        """
        raise NotImplementedError

    async def tenants(self) -> list[str]:
        """Tenants that hold at least one memory."""
        raise NotImplementedError

    # --- reflection and quality (issue #4) --------------------------------------------------------

    async def reflect(
        self,
        tenant: str,
        topic: str | None = None,
        *,
        filters: QueryFilters | None = None,
        limit: int = 30,
        dry_run: bool = False,
        actor: Actor | None = None,
    ) -> Reflection:
        """Gather the memories related to `topic` (and/or inside `filters.since..until`), group them and
        write a reflection citing their ids. Saved as a memory of kind `reflection` unless dry_run;
        reflecting again on the same topic supersedes the earlier reflection.

        Raises:
            InvalidInput: neither a topic nor a time window was given.
        """
        raise NotImplementedError

    async def quality_report(self, tenant: str, *, save: bool = True) -> QualityReport:
        """Score the tenant's memory 0-100 with findings; saved (unless save=False) so trends show."""
        raise NotImplementedError

    async def record_ingest_failure(
        self, tenant: str | None, *, source: Source, reason: str, ref: str | None = None
    ) -> None:
        """Remember that a front-end refused or failed to ingest something (e.g. a rejected mail)."""
        raise NotImplementedError
