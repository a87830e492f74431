"""The quality report: a 0-100 score with findings (what is wrong, which ids, how to fix it), kept for trends.

Score = max(0, round(100 - sum of penalties)), one penalty per kind of finding, each capped. N is the
number of memories of the tenant (at least 1); "copies" counts every memory of a group but the oldest.

    kind              penalty                                      cap   severity
    duplicate         100 x copies / N                              15   warning
    near_duplicate     50 x copies / N                              10   info
    stale              25 x stale memories / N                      10   info
    expired            25 x expired memories / N                     5   info
    low_information    50 x low-information memories / N            10   info
    conflict            3 per possible contradiction                15   warning
    knowledge_gap       2 per distinct unanswered question          10   info (warning if asked 3+ times)
    ingest_failure      1 per failure in the period                 10   warning
    index_drift        15 when the index and the database disagree  15   critical
    model_mismatch     15 when memories carry another model's vector 15  critical

So a tenant with nothing to fix scores 100; hygiene problems cost in proportion to how much of the memory
they affect, and the operational ones (drift, mismatch) cost a fixed amount because every answer suffers.

What each kind means (thresholds in `QualitySettings`):
- duplicate / near_duplicate / conflict: the pair rules of `_analysis` over the newest `scan_limit`
  current memories (not expired, not superseded, not reflections).
- stale: neither changed nor returned by a query nor read for `stale_days` (superseded memories are
  history and expired ones have their own finding, so neither is stale).
- expired: past `expires_at`; hidden from answers but still stored.
- low_information: fewer than `low_information_words` content words ("ok", "+1", "see thread above").
- knowledge_gap: a question asked in the last `window_days` whose best answer had a cosine below
  `knowledge_gap_similarity` — unless the memory can answer it now.
- ingest_failure: what a front-end refused or failed to store in the last `window_days` (e.g. a mail).
- index_drift: the vector index lacks memories of the database or holds deleted ones.
- model_mismatch: memories whose vector was made by another embedding model than the configured one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
import numpy as np
import sqlalchemy as sa

from ._analysis import PairReport, analyse_pairs, is_low_information, word_key
from ._db import Database, from_db_time, to_db_time, utcnow
from ._querylog import QueryLog
from ._rows import MEMORY_COLUMNS, row_to_memory, usable_vector
from ._schema import ingest_failure_table, memory_table, quality_report_table, query_log_table
from .config import CoreSettings
from .embedding import MicroBatcher
from .tenancy import check_tenant
from .types import Finding, FindingFix, Memory, QualityReport, Severity, TrendPoint

__all__ = ["PENALTIES", "QualityContext", "build_report", "score"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QualityContext:
    """What a quality report needs, handed in by the core."""

    settings: CoreSettings
    db: Database
    batcher: MicroBatcher
    query_log: QueryLog
    index_status: Callable[[str], Awaitable[dict[str, Any]]]
    model_id: str
    dim: int


@dataclass(frozen=True)
class Penalty:
    per_item: float
    cap: float
    proportional: bool  # per_item x count / N (hygiene) instead of per_item x count


PENALTIES: dict[str, Penalty] = {
    "duplicate": Penalty(100, 15, True),
    "near_duplicate": Penalty(50, 10, True),
    "stale": Penalty(25, 10, True),
    "expired": Penalty(25, 5, True),
    "low_information": Penalty(50, 10, True),
    "conflict": Penalty(3, 15, False),
    "knowledge_gap": Penalty(2, 10, False),
    "ingest_failure": Penalty(1, 10, False),
    "index_drift": Penalty(15, 15, False),
    "model_mismatch": Penalty(15, 15, False),
}
_ORDER = list(PENALTIES)
_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
_MAX_IDS = 500
_MAX_GAP_QUESTIONS = 50


def score(counts: dict[str, int], memories: int) -> int:
    """The documented formula: 100 minus the capped penalty of each kind (counts as in the table)."""
    total = 0.0
    for kind, count in counts.items():
        p = PENALTIES[kind]
        raw = p.per_item * count / max(1, memories) if p.proportional else p.per_item * count
        total += min(p.cap, raw)
    return max(0, round(100 - total))


def _ids(ids: Sequence[int]) -> tuple[int, ...]:
    return tuple(ids[:_MAX_IDS])


def _refs(ids: Sequence[int], shown: int = 4) -> str:
    """`#3, #5, #8, #9 and 2 more`: ids for a hint (the finding's memory_ids carry them all)."""
    text = ", ".join(f"#{i}" for i in ids[:shown])
    return text + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


@dataclass
class _Scan:
    total: int
    memories: list[Memory]  # newest `scan_limit` memories (all kinds), oldest first
    vectors: dict[int, np.ndarray]  # only those made with the configured model


async def _scan(ctx: QualityContext, tenant: str, limit: int) -> _Scan:
    m = memory_table.c
    async with ctx.db.read() as conn:
        total = (await conn.execute(sa.select(sa.func.count()).where(m.tenant == tenant))).scalar_one()
        rows = (
            (
                await conn.execute(
                    sa.select(*MEMORY_COLUMNS, m.embedding)
                    .where(m.tenant == tenant)
                    .order_by(m.created_at.desc(), m.id.desc())
                    .limit(limit)
                )
            )
            .mappings()
            .all()
        )
    memories: list[Memory] = []
    vectors: dict[int, np.ndarray] = {}
    for row in reversed(rows):
        memory = row_to_memory(row)
        memories.append(memory)
        vector = usable_vector(row["embedding"], memory.embedding_model, ctx.model_id, ctx.dim)
        if vector is not None:
            vectors[memory.id] = vector
    return _Scan(total=int(total), memories=memories, vectors=vectors)


async def _whole_tenant_ids(
    ctx: QualityContext, tenant: str, now: datetime, stale_days: int
) -> dict[str, list[int]]:
    """Ids over the whole tenant (not only the scanned part): stale, expired, other embedding model."""
    m = memory_table.c
    db_now = to_db_time(now)
    cutoff = to_db_time(now - timedelta(days=stale_days))
    not_expired = sa.or_(m.expires_at.is_(None), m.expires_at > db_now)
    queries = {
        "stale": sa.select(m.id).where(
            m.tenant == tenant,
            not_expired,
            m.superseded_by.is_(None),
            m.created_at < cutoff,
            m.updated_at < cutoff,
            sa.or_(m.last_accessed_at.is_(None), m.last_accessed_at < cutoff),
        ),
        "expired": sa.select(m.id).where(
            m.tenant == tenant, m.expires_at.is_not(None), m.expires_at <= db_now
        ),
        "model_mismatch": sa.select(m.id).where(m.tenant == tenant, m.embedding_model != ctx.model_id),
    }
    found: dict[str, list[int]] = {}
    async with ctx.db.read() as conn:
        for kind, stmt in queries.items():
            found[kind] = list((await conn.execute(stmt.order_by(m.created_at, m.id))).scalars())
    return found


def _pair_findings(pairs: PairReport) -> list[Finding]:
    findings = [
        Finding(
            kind="duplicate",
            severity=Severity.WARNING,
            memory_ids=group,
            message=f"the same text is stored {len(group)} times",
            hint=f"keep #{group[0]} and /forget {_refs(group[1:])}",
        )
        for group in pairs.duplicates
    ]
    findings += [
        Finding(
            kind="near_duplicate",
            severity=Severity.INFO,
            memory_ids=group,
            message=f"{len(group)} memories say nearly the same thing (similarity {sim:.2f})",
            hint="merge them: keep the clearest one and /forget the others",
        )
        for group, sim in pairs.near_duplicates
    ]
    findings += [
        Finding(
            kind="conflict",
            severity=Severity.WARNING,
            memory_ids=c.ids,
            message=f"these memories may contradict each other: {c.reason}",
            hint=f"if #{c.newer} is the current position, mark #{c.older} as superseded by #{c.newer} "
            f"(store #{c.newer}'s text again with supersedes:#{c.older}); if not, /forget the wrong one",
            fix=FindingFix(memory_id=c.older, superseded_by=c.newer),
        )
        for c in pairs.conflicts
    ]
    return findings


async def _knowledge_gaps(
    ctx: QualityContext, tenant: str, now: datetime, vectors: np.ndarray
) -> list[Finding]:
    settings = ctx.settings.quality
    since = to_db_time(now - timedelta(days=settings.window_days))
    q = query_log_table.c
    async with ctx.db.read() as conn:
        rows = (
            await conn.execute(
                sa.select(q.text, q.best_similarity, q.at)
                .where(q.tenant == tenant, q.at >= since)
                .where(
                    sa.or_(q.best_similarity.is_(None), q.best_similarity < settings.knowledge_gap_similarity)
                )
                .order_by(q.at)
            )
        ).all()
    asked: dict[str, tuple[str, int, datetime, float | None]] = {}
    for text, best, at in rows:
        key = word_key(text)
        if not key:
            continue
        _first, count, _last, top = asked.get(key, (text, 0, at, None))
        best_so_far = best if top is None else (top if best is None else max(top, best))
        asked[key] = (text, count + 1, from_db_time(at) or now, best_so_far)
    if not asked:
        return []
    # Most asked first; the memory may have learned the answer since: ask it again (vectors only, no log).
    ranked = sorted(asked.values(), key=lambda a: (-a[1], a[2]))[:_MAX_GAP_QUESTIONS]
    still: list[tuple[str, int, datetime, float | None]] = []
    if len(vectors):
        question_vectors = await ctx.batcher.embed_many([a[0] for a in ranked])
        now_best = (question_vectors @ vectors.T).max(axis=1)
        still = [
            a for a, b in zip(ranked, now_best.tolist(), strict=True) if b < settings.knowledge_gap_similarity
        ]
    else:
        still = ranked
    findings = []
    for text, count, last, best in still:
        quoted = text if len(text) <= 120 else text[:119] + "…"
        score_note = "nothing found" if not best else f"best match {best:.2f}"
        findings.append(
            Finding(
                kind="knowledge_gap",
                severity=Severity.WARNING if count >= 3 else Severity.INFO,
                memory_ids=(),
                message=f"no good answer to “{quoted}” (asked {count}×, last {last:%Y-%m-%d}; {score_note})",
                hint="when someone knows the answer, store it: /store <the answer> #tag",
            )
        )
    return findings


async def _ingest_failures(ctx: QualityContext, tenant: str, now: datetime) -> tuple[list[Finding], int]:
    since = to_db_time(now - timedelta(days=ctx.settings.quality.window_days))
    f = ingest_failure_table.c
    async with ctx.db.read() as conn:
        rows = (
            await conn.execute(
                sa.select(f.source, f.reason, f.ref, f.at)
                .where(f.tenant == tenant, f.at >= since)
                .order_by(f.at)
            )
        ).all()
    by_source: dict[str, list[tuple[str, str | None]]] = {}
    for source, reason, ref, _at in rows:
        by_source.setdefault(source, []).append((reason, ref))
    findings = []
    for source, failures in sorted(by_source.items()):
        reason, ref = failures[-1]
        latest = reason if len(reason) <= 160 else reason[:159] + "…"
        findings.append(
            Finding(
                kind="ingest_failure",
                severity=Severity.WARNING,
                memory_ids=(),
                message=f"{len(failures)} {source} item{'s' if len(failures) > 1 else ''} could not be "
                f"stored in the last {ctx.settings.quality.window_days} days; latest: {latest}"
                + (f" ({ref})" if ref else ""),
                hint="fix the cause named in the reason, then ask the sender to send it again",
            )
        )
    return findings, len(rows)


async def build_report(ctx: QualityContext, tenant: str, *, save: bool) -> QualityReport:
    """See `MemoryCore.quality_report`."""
    check_tenant(tenant)
    settings = ctx.settings.quality
    # Queries are logged in batches; the report must see the ones asked a moment ago.
    await ctx.query_log.flush(force=True)
    now = utcnow()
    scan = await _scan(ctx, tenant, settings.scan_limit)
    whole = await _whole_tenant_ids(ctx, tenant, now, settings.stale_days)
    findings: list[Finding] = []
    counts: dict[str, int] = {}

    current = [
        m
        for m in scan.memories
        if m.kind != "reflection"
        and not m.is_expired(now)
        and m.superseded_by is None
        and m.id in scan.vectors
    ]
    matrix = (
        np.stack([scan.vectors[m.id] for m in current]) if current else np.zeros((0, ctx.dim), np.float32)
    )
    pairs = await anyio.to_thread.run_sync(
        lambda: analyse_pairs(
            current,
            matrix,
            near_duplicate=ctx.settings.near_duplicate_threshold,
            settings=settings,
            report_replacements=False,
        )
    )
    findings += _pair_findings(pairs)
    counts["duplicate"] = sum(len(g) - 1 for g in pairs.duplicates)
    counts["near_duplicate"] = sum(len(g) - 1 for g, _s in pairs.near_duplicates)
    counts["conflict"] = len(pairs.conflicts)

    if whole["stale"]:
        ids = whole["stale"]
        findings.append(
            Finding(
                kind="stale",
                severity=Severity.INFO,
                memory_ids=_ids(ids),
                message=f"{len(ids)} memor{'y' if len(ids) == 1 else 'ies'} unchanged and unread for over "
                f"{settings.stale_days} days",
                hint="check they are still true: update them, or /forget what no longer holds",
            )
        )
    if whole["expired"]:
        ids = whole["expired"]
        findings.append(
            Finding(
                kind="expired",
                severity=Severity.INFO,
                memory_ids=_ids(ids),
                message=f"{len(ids)} expired memor{'y is' if len(ids) == 1 else 'ies are'} still stored "
                f"(hidden from answers)",
                hint="/forget them, or give them a new expiry if they still matter",
            )
        )
    low = [
        m.id
        for m in scan.memories
        if m.kind != "reflection"
        and not m.is_expired(now)
        and is_low_information(m.text, settings.low_information_words)
    ]
    if low:
        findings.append(
            Finding(
                kind="low_information",
                severity=Severity.INFO,
                memory_ids=_ids(low),
                message=f"{len(low)} memor{'y says' if len(low) == 1 else 'ies say'} almost nothing on "
                f"{'its' if len(low) == 1 else 'their'} own",
                hint="rewrite them as a full sentence with the facts, or /forget them",
            )
        )
    counts["stale"], counts["expired"], counts["low_information"] = (
        len(whole["stale"]),
        len(whole["expired"]),
        len(low),
    )

    live = [m for m in scan.memories if not m.is_expired(now) and m.id in scan.vectors]
    live_matrix = np.stack([scan.vectors[m.id] for m in live]) if live else np.zeros((0, ctx.dim))
    gaps = await _knowledge_gaps(ctx, tenant, now, live_matrix)
    findings += gaps
    counts["knowledge_gap"] = len(gaps)
    failures, failure_count = await _ingest_failures(ctx, tenant, now)
    findings += failures
    counts["ingest_failure"] = failure_count

    status = await ctx.index_status(tenant)
    drifted = [*status["missing"], *status["orphaned"]]
    if drifted:
        findings.append(
            Finding(
                kind="index_drift",
                severity=Severity.CRITICAL,
                memory_ids=_ids(drifted),
                message=f"the search index lacks {len(status['missing'])} memories of the database and holds "
                f"{len(status['orphaned'])} that are gone",
                hint="run `teamlore reindex` (rebuilds the index from the database)",
            )
        )
    counts["index_drift"] = 1 if drifted else 0
    if whole["model_mismatch"]:
        ids = whole["model_mismatch"]
        findings.append(
            Finding(
                kind="model_mismatch",
                severity=Severity.CRITICAL,
                memory_ids=_ids(ids),
                message=f"{len(ids)} memor{'y was' if len(ids) == 1 else 'ies were'} embedded with another "
                f"model than {ctx.model_id}, so search cannot compare them",
                hint=f"run `teamlore reindex` to re-embed them with {ctx.model_id}",
            )
        )
    counts["model_mismatch"] = 1 if whole["model_mismatch"] else 0

    findings.sort(key=lambda f: (_RANK[f.severity], _ORDER.index(f.kind), f.memory_ids))
    value = score(counts, scan.total)
    report_id = await _save(ctx, tenant, value, findings, now) if save else None
    trend = await _trend(ctx, tenant, report_id)
    logger.info("quality report for %s: score %d, %d findings", tenant, value, len(findings))
    return QualityReport(
        id=report_id, tenant=tenant, score=value, created_at=now, findings=tuple(findings), trend=trend
    )


async def _save(ctx: QualityContext, tenant: str, value: int, findings: list[Finding], now: datetime) -> int:
    r = quality_report_table.c
    body = json.dumps([f.model_dump(mode="json") for f in findings], ensure_ascii=False)
    async with ctx.db.write() as conn:
        report_id = (
            await conn.execute(
                sa.insert(quality_report_table)
                .values(tenant=tenant, score=value, findings=body, created_at=to_db_time(now))
                .returning(r.id)
            )
        ).scalar_one()
        cutoff = to_db_time(now - timedelta(days=ctx.settings.quality.keep_reports_days))
        await conn.execute(sa.delete(quality_report_table).where(r.tenant == tenant, r.created_at < cutoff))
    return int(report_id)


async def _trend(ctx: QualityContext, tenant: str, current: int | None) -> tuple[TrendPoint, ...]:
    """Scores of the earlier reports, oldest first (the report just saved is not part of its own trend)."""
    r = quality_report_table.c
    stmt = sa.select(r.created_at, r.score, r.findings).where(r.tenant == tenant)
    if current is not None:
        stmt = stmt.where(r.id != current)
    async with ctx.db.read() as conn:
        rows = (
            await conn.execute(
                stmt.order_by(r.created_at.desc(), r.id.desc()).limit(ctx.settings.quality.trend_points)
            )
        ).all()
    return tuple(
        TrendPoint(at=from_db_time(at) or utcnow(), score=s, counts=_kind_counts(body))
        for at, s, body in reversed(rows)
    )


def _kind_counts(findings_json: str) -> dict[str, int]:
    """Findings per kind of a saved report (its findings are kept as JSON)."""
    counts: dict[str, int] = {}
    try:
        saved = json.loads(findings_json)
    except ValueError:
        return counts
    for finding in saved if isinstance(saved, list) else ():
        kind = finding.get("kind") if isinstance(finding, dict) else None
        if isinstance(kind, str):
            counts[kind] = counts.get(kind, 0) + 1
    return counts
