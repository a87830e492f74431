"""Test helpers shipped with the core: memory factories, a test core, the hashing embedder (re-exported)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._hashing import HashingEmbedder
from .config import CoreSettings
from .embedding import Embedder
from .types import Hit, Importance, Memory, MemoryDraft, ScoreBreakdown, Source

__all__ = ["HashingEmbedder", "draft", "make_hit", "make_memory", "open_test_core", "team_facts"]


def draft(text: str, **fields: Any) -> MemoryDraft:
    """A MemoryDraft with test defaults (source=cli, author alice)."""
    fields.setdefault("source", Source.CLI)
    fields.setdefault("author", "alice")
    fields.setdefault("author_id", "cli:alice")
    return MemoryDraft(text=text, **fields)


_WHEN = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def make_memory(memory_id: int = 42, text: str = "the VPN moved to vpn2.corp", **fields: Any) -> Memory:
    """A stored Memory value, for renderer and front-end tests that need no core; fields override."""
    created = fields.pop("created_at", _WHEN)
    values: dict[str, Any] = {
        "id": memory_id,
        "tenant": "default",
        "text": text,
        "kind": "note",
        "tags": ("infra",),
        "importance": Importance.NORMAL,
        "source": Source.CLI,
        "source_ref": None,
        "title": None,
        "author": "alice",
        "author_id": "cli:alice",
        "created_at": created,
        "updated_at": fields.pop("updated_at", created),
        "expires_at": None,
        "supersedes": None,
        "superseded_by": None,
        "content_hash": "0" * 64,
        "embedding_model": "test-hashing-384",
        "access_count": 0,
        "last_accessed_at": None,
    }
    values.update(fields)
    return Memory.model_validate(values)


def make_hit(memory: Memory, score: float = 0.03) -> Hit:
    """A query hit for `memory`, found first by both retrievers."""
    breakdown = ScoreBreakdown(
        vector_rank=1,
        vector_similarity=0.9,
        keyword_rank=1,
        keyword_score=1.0,
        fused=score,
        importance_boost=0.0,
        recency_boost=0.0,
        final=score,
    )
    return Hit(memory=memory, score=score, breakdown=breakdown)


@asynccontextmanager
async def open_test_core(
    data_dir: Path, embedder: Embedder | None = None, **settings: Any
) -> AsyncIterator[Any]:
    """A real MemoryCore over SQLite in `data_dir`, with the hashing embedder unless one is given."""
    from .core import MemoryCore

    core = await MemoryCore.open(
        CoreSettings(data_dir=data_dir, **settings), embedder=embedder or HashingEmbedder()
    )
    try:
        yield core
    finally:
        await core.aclose()


def team_facts() -> Iterator[tuple[str, str]]:
    """Twenty varied team facts, each with a paraphrased question that should find it."""
    yield from _TEAM_FACTS


_TEAM_FACTS: list[tuple[str, str]] = [
    (
        "The VPN moved to vpn2.corp.example.com on March 3rd; the old host is gone.",
        "what is the address of the new VPN server?",
    ),
    (
        "Deploys to production happen only on Tuesdays and Thursdays after the 10:00 standup.",
        "which days are we allowed to ship releases to prod?",
    ),
    (
        "We chose PostgreSQL over MongoDB for the billing service because we need transactions.",
        "why did billing pick Postgres instead of Mongo?",
    ),
    (
        "The on-call rotation is managed in PagerDuty; swaps must be agreed in #oncall a week ahead.",
        "how do I trade my on-call shift with someone?",
    ),
    (
        "Staging database credentials live in the team vault under infra/staging-db.",
        "where can I find the login for the staging DB?",
    ),
    (
        "Customer refunds above 500 euros need approval from the finance lead, Maria.",
        "who has to sign off on a large refund to a client?",
    ),
    (
        "The mobile app release train is every second Wednesday; the code freeze is the Monday before.",
        "when do we stop merging code before an app store release?",
    ),
    (
        "Incident 2291: the payment API returned 502s for 40 minutes because a TLS certificate expired.",
        "what caused the payments outage with bad gateway errors?",
    ),
    (
        "Our office Wi-Fi password rotates monthly and is posted on the kitchen noticeboard.",
        "how do I get onto the wireless network in the office?",
    ),
    (
        "The design system lives in Figma; components are published to npm as @acme/ui.",
        "which package contains our shared frontend components?",
    ),
    (
        "Kafka retention for the events topic is seven days; older events are archived to S3.",
        "how long do we keep messages in the event stream?",
    ),
    (
        "New hires get a laptop from IT on day one; order it two weeks before the start date.",
        "how early should I request a computer for a new employee?",
    ),
    (
        "The quarterly planning offsite is in Lisbon from 12 to 14 June.",
        "where is the team meeting for quarter planning held?",
    ),
    (
        "Feature flags are managed with LaunchDarkly; stale flags are removed every sprint.",
        "what tool do we use to toggle features on and off?",
    ),
    (
        "Grafana dashboards for the search cluster are in the 'Search / Overview' folder.",
        "where are the monitoring graphs for the search cluster?",
    ),
    (
        "Support tickets tagged P1 must get a first human response within 30 minutes.",
        "how fast do we need to reply to the most urgent tickets?",
    ),
    (
        "We deprecated the v1 REST API; it will be switched off on 31 January 2027.",
        "when will the old version of the API stop working?",
    ),
    (
        "Code reviews need two approvals, one of them from a code owner of the touched area.",
        "how many reviewers must approve a pull request before merging?",
    ),
    (
        "The coffee machine on floor 3 is descaled every Friday by facilities.",
        "who maintains the espresso maker and when?",
    ),
    (
        "Backups of the main database run nightly at 02:00 UTC and are kept for 35 days.",
        "at what time are the database snapshots taken and how long are they retained?",
    ),
]
