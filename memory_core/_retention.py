"""What the core keeps beside memories (ingest failures, the query log, reports): retention and redaction.

Ingest failures are what a front-end refused (a mail to an unknown team, a webhook with a secret in
it); the quality report and `/metrics` count them. They are kept `ingest_failure_days`: older ones are
deleted when a new one is recorded and when the core opens (reports are pruned the same way).

Rows written before the credential guard covered them (query texts, failure reasons and references,
report findings quoting either) may still hold a secret. `redact_old_rows` passes every such row through
the guard once per database, recorded in the meta table, so an upgraded database holds no credential in
them either.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from . import hygiene
from ._db import Database, to_db_time, utcnow
from ._schema import ingest_failure_table, meta_table, quality_report_table, query_log_table
from .config import CoreSettings
from .types import Source, scrub_text

__all__ = ["REDACTION_VERSION", "IngestFailures", "prune_failures", "redact_old_rows"]

logger = logging.getLogger(__name__)

REDACTION_VERSION = "1"
"""Stored under the meta key `log_redaction` once old rows went through the guard; a later guard that
finds more kinds of credentials bumps it, and every database redacts its rows again on its next open."""

_META_KEY = "log_redaction"
_BATCH = 1000
_MAX_REASON = 2000
_MAX_REF = 1000


def _redact(value: str) -> str:
    return hygiene.redact_secrets(scrub_text(value))


class IngestFailures:
    """What front-ends refused or failed to store, kept for `ingest_failure_days`."""

    def __init__(self, db: Database, settings: CoreSettings) -> None:
        self._db = db
        self._days = settings.ingest_failure_days

    async def record(self, tenant: str | None, *, source: Source, reason: str, ref: str | None) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                sa.insert(ingest_failure_table).values(
                    tenant=tenant,
                    source=source.value,
                    # Failures are read back by the quality report: through the same redaction as queries.
                    reason=_redact(reason)[:_MAX_REASON],
                    ref=(ref or None) and _redact(ref)[:_MAX_REF],
                    at=to_db_time(utcnow()),
                )
            )
            await prune_failures(conn, self._days)

    async def count(self, tenant: str | None, *, since: datetime) -> int:
        f = ingest_failure_table.c
        condition = f.tenant.is_(None) if tenant is None else f.tenant == tenant
        async with self._db.read() as conn:
            query = sa.select(sa.func.count()).where(condition, f.at >= to_db_time(since))
            return int((await conn.execute(query)).scalar_one())


async def prune_failures(conn: AsyncConnection, days: int) -> int:
    """Delete ingest failures older than `days` (0 keeps them all); return how many went."""
    if not days:
        return 0
    cutoff = to_db_time(utcnow() - timedelta(days=days))
    result = await conn.execute(sa.delete(ingest_failure_table).where(ingest_failure_table.c.at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


async def redact_old_rows(conn: AsyncConnection) -> int:
    """Pass the query log, ingest failures and reports through the credential guard, once per database.

    Returns how many rows changed (0 when this database was already redacted at `REDACTION_VERSION`).
    Runs inside the caller's write transaction (`MemoryCore.open`), so a crash leaves it to be done again.
    """
    done = (await conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == _META_KEY))).scalar()
    if done == REDACTION_VERSION:
        return 0
    changed = await _redact_column(conn, query_log_table, "text", 1000)
    changed += await _redact_column(conn, ingest_failure_table, "reason", _MAX_REASON)
    changed += await _redact_column(conn, ingest_failure_table, "ref", _MAX_REF)
    changed += await _redact_findings(conn)
    await conn.execute(sa.delete(meta_table).where(meta_table.c.key == _META_KEY))
    await conn.execute(sa.insert(meta_table).values(key=_META_KEY, value=REDACTION_VERSION))
    if changed:
        logger.warning("redacted credentials in %d stored log, failure or report rows", changed)
    return changed


async def _redact_column(conn: AsyncConnection, table: sa.Table, column: str, limit: int) -> int:
    """Redact one text column in batches of ids (a long query log is not read into memory at once)."""
    id_col, text_col = table.c.id, table.c[column]
    changed, after = 0, 0
    while True:
        rows = (
            await conn.execute(
                sa.select(id_col, text_col)
                .where(id_col > after, text_col.is_not(None))
                .order_by(id_col)
                .limit(_BATCH)
            )
        ).all()
        if not rows:
            return changed
        after = rows[-1][0]
        updates = [
            {"row_id": row_id, "value": redacted[:limit]}
            for row_id, value in rows
            if (redacted := _redact(value)) != value
        ]
        if updates:
            statement = sa.update(table).where(id_col == sa.bindparam("row_id"))
            await conn.execute(statement.values({column: sa.bindparam("value")}), updates)
            changed += len(updates)


def _redact_json(value: Any) -> Any:
    # Each string on its own: redacting the serialised JSON could cut across a quote.
    if isinstance(value, str):
        return _redact(value)
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _redact_json(v) for k, v in value.items()}
    return value


async def _redact_findings(conn: AsyncConnection) -> int:
    r = quality_report_table.c
    changed, after = 0, 0
    while True:
        rows = (
            await conn.execute(sa.select(r.id, r.findings).where(r.id > after).order_by(r.id).limit(_BATCH))
        ).all()
        if not rows:
            return changed
        after = rows[-1][0]
        for row_id, findings in rows:
            if not hygiene.find_credentials(findings):
                continue
            try:
                body = json.dumps(_redact_json(json.loads(findings)), ensure_ascii=False)
            except ValueError:  # not JSON (never written so): plain text, with no quote to cut across
                body = _redact(findings)
            await conn.execute(sa.update(quality_report_table).where(r.id == row_id).values(findings=body))
            changed += 1
