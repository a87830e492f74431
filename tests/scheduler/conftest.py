"""Scheduler test helpers: settings with every notifier on, a recording sleep, scripted quality reports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from memory_core import Finding, QualityReport, Severity, TrendPoint
from scheduler import AlertsSettings

SLACK_API = "https://slack.com/api/chat.postMessage"
SLACK_HOOK = "https://hooks.slack.com/services/T000/B000/XXXX"
DISCORD_HOOK = "https://discord.com/api/webhooks/123/abc"
WEBHOOK = "https://hooks.example.com/teamlore"
SECRET = "s3cret-for-tests"

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def all_notifiers(**overrides: Any) -> AlertsSettings:
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test",
        "slack_channel": "C0123",
        "slack_webhook_url": SLACK_HOOK,
        "discord_webhook_url": DISCORD_HOOK,
        "webhook_url": WEBHOOK,
        "webhook_secret": SECRET,
    }
    values.update(overrides)
    return AlertsSettings(**values)


class Sleeps:
    """A stand-in for anyio.sleep that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def finding(
    kind: str = "duplicate",
    severity: Severity = Severity.WARNING,
    ids: Iterable[int] = (1, 2),
    message: str = "exact duplicates",
    hint: str = "forget one of them",
) -> Finding:
    return Finding(kind=kind, severity=severity, memory_ids=tuple(ids), message=message, hint=hint)


def report(
    score: int,
    findings: Iterable[Finding] = (),
    *,
    at: datetime = T0,
    trend: Iterable[int] = (),
    tenant: str = "default",
) -> QualityReport:
    """A report at `at` whose trend holds `trend` as hourly earlier scores (oldest first)."""
    earlier = list(trend)
    points = tuple(
        TrendPoint(at=at - timedelta(hours=len(earlier) - i), score=s) for i, s in enumerate(earlier)
    )
    return QualityReport(
        id=None, tenant=tenant, score=score, created_at=at, findings=tuple(findings), trend=points
    )
