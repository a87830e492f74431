"""Ingest failures are kept `ingest_failure_days`; rows written before the guard are redacted once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from memory_core import MemoryCore
from memory_core._db import to_db_time, utcnow
from memory_core._retention import REDACTION_VERSION, redact_old_rows
from memory_core._schema import ingest_failure_table, meta_table, quality_report_table, query_log_table
from memory_core.testing import HashingEmbedder
from memory_core.types import Source
from tests.conftest import SettingsFactory
from tests.secret_shapes import SECRETS, carrying

pytestmark = pytest.mark.anyio

AWS, GITHUB = SECRETS["aws"], SECRETS["github"]


async def _failure_reasons(core: MemoryCore) -> list[str]:
    async with core.database.read() as conn:
        rows = await conn.execute(
            sa.select(ingest_failure_table.c.reason).order_by(ingest_failure_table.c.id)
        )
        return [r for (r,) in rows]


async def _insert_failure(core: MemoryCore, reason: str, days_ago: float) -> None:
    async with core.database.write() as conn:
        await conn.execute(
            sa.insert(ingest_failure_table).values(
                tenant="default",
                source="email",
                reason=reason,
                at=to_db_time(utcnow() - timedelta(days=days_ago)),
            )
        )


async def test_old_ingest_failures_go_when_a_new_one_is_recorded_and_when_the_core_opens(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings(ingest_failure_days=30)
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        await _insert_failure(core, "from last quarter", days_ago=45)
        await _insert_failure(core, "from last week", days_ago=7)
        await core.record_ingest_failure("default", source=Source.EMAIL, reason="today")
        assert await _failure_reasons(core) == ["from last week", "today"]
        since = utcnow() - timedelta(days=365)
        assert await core.count_ingest_failures("default", since=since) == 2
        await _insert_failure(core, "written while another process was down", days_ago=31)

    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        assert await _failure_reasons(core) == ["from last week", "today"]


async def test_ingest_failure_days_zero_keeps_every_failure(make_settings: SettingsFactory) -> None:
    settings = make_settings(ingest_failure_days=0)
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        await _insert_failure(core, "from 2020", days_ago=2000)
        await core.record_ingest_failure("default", source=Source.EMAIL, reason="today")
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        assert await _failure_reasons(core) == ["from 2020", "today"]


async def test_a_recorded_failure_is_redacted(core: MemoryCore) -> None:
    await core.record_ingest_failure(
        "default", source=Source.WEBHOOK, reason=carrying(GITHUB), ref=f"<{AWS}@mail>"
    )
    async with core.database.read() as conn:
        ((reason, ref),) = (
            await conn.execute(sa.select(ingest_failure_table.c.reason, ingest_failure_table.c.ref))
        ).all()
    assert GITHUB not in reason and "deploy note" in reason and "[REDACTED:" in reason
    assert AWS not in ref


async def test_rows_written_before_the_guard_are_redacted_once_on_open(
    make_settings: SettingsFactory,
) -> None:
    """A database from before the guard: secrets in the query log (past one read batch), failures and
    report findings are redacted by the next open; everything else in those rows stays as it was."""
    settings = make_settings()
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        now = to_db_time(utcnow())
        findings = [{"kind": "knowledge_gap", "message": f"asked: {carrying(AWS)}", "memory_ids": [1, 2]}]
        async with core.database.write() as conn:
            await conn.execute(
                sa.insert(query_log_table),
                [
                    {
                        "tenant": "default",
                        "text": carrying(GITHUB) if i in (3, 1500, 2499) else f"question {i}",
                        "hits": 1,
                        "at": now,
                    }
                    for i in range(2500)
                ],
            )
            await conn.execute(
                sa.insert(ingest_failure_table).values(
                    tenant=None, source="email", reason=carrying(AWS), ref=f"<{GITHUB}@x>", at=now
                )
            )
            for body in (json.dumps(findings), "not json " + AWS, "[]"):
                await conn.execute(
                    sa.insert(quality_report_table).values(
                        tenant="default", score=90, findings=body, created_at=now
                    )
                )
            # As a database from before the guard: no record of a redaction.
            await conn.execute(sa.delete(meta_table).where(meta_table.c.key == "log_redaction"))

    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        async with core.database.read() as conn:
            texts = [t for (t,) in await conn.execute(sa.select(query_log_table.c.text))]
            failure = (
                await conn.execute(sa.select(ingest_failure_table.c.reason, ingest_failure_table.c.ref))
            ).one()
            bodies = [
                b
                for (b,) in await conn.execute(
                    sa.select(quality_report_table.c.findings).order_by(quality_report_table.c.id)
                )
            ]
            marker = (
                await conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "log_redaction"))
            ).scalar()
        async with core.database.write() as conn:
            again = await redact_old_rows(conn)

    assert len(texts) == 2500 and not any(GITHUB in t for t in texts)
    assert sum("[REDACTED:" in t for t in texts) == 3
    assert texts.count("question 2498") == 1
    assert AWS not in failure[0] and GITHUB not in failure[1]
    report = json.loads(bodies[0])
    assert AWS not in bodies[0] and report[0]["memory_ids"] == [1, 2]
    assert report[0]["message"].startswith("asked: deploy note [REDACTED:")
    assert bodies[1] == "not json [REDACTED:AWS access key]"  # not JSON: redacted as plain text
    assert bodies[2] == "[]"
    assert marker == REDACTION_VERSION
    assert again == 0  # done once per database
