"""The jobs on a real core under a controlled clock: alert on a drop, no repeat, digest, sweep, snapshot."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from memory_core import MemoryCore, QualityReport, QueryFilters, Severity, Source, Unavailable
from memory_core.testing import draft
from scheduler import AlertsSettings, JobRuntime, SchedulerStore
from scheduler import jobs as jobs_module
from scheduler.alerts import sparkline
from scheduler.jobs import SWEEP_ACTOR, run_digest, run_expiry_sweep, run_quality_check, run_snapshot
from scheduler.lease import Lease
from scheduler.notifiers import build_notifiers

from .conftest import WEBHOOK, Sleeps, finding, report

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Reports:
    """Stands in for core.quality_report (issue #4): returns the report the test scripts next."""

    def __init__(self) -> None:
        self.next: QualityReport | None = None
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, tenant: str, *, save: bool = True) -> QualityReport:
        self.calls.append({"tenant": tenant, "save": save})
        assert self.next is not None, "the test did not script a report"
        return self.next


@pytest.fixture
async def store(core: MemoryCore) -> AsyncIterator[SchedulerStore]:
    opened = SchedulerStore.for_async_url(core.settings.resolved_database_url)
    await opened.create()
    yield opened
    await opened.dispose()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as c:
        yield c


@pytest.fixture
def make_runtime(
    core: MemoryCore, store: SchedulerStore, client: httpx.AsyncClient, sleeps: Sleeps
) -> Callable[..., JobRuntime]:
    def make(**settings: Any) -> JobRuntime:
        values: dict[str, Any] = {"webhook_url": WEBHOOK, "webhook_secret": "k", "log_alerts": False}
        values.update(settings)
        alerts = AlertsSettings(**values)
        return JobRuntime(
            core=core, settings=alerts, notifiers=build_notifiers(alerts, client, sleep=sleeps), store=store
        )

    return make


@pytest.fixture
def reports(core: MemoryCore, monkeypatch: pytest.MonkeyPatch) -> Reports:
    scripted = Reports()
    monkeypatch.setattr(core, "quality_report", scripted)
    return scripted


def sent(route: respx.Route) -> list[dict[str, Any]]:
    return [json.loads(call.request.content) for call in route.calls]


# --- quality check --------------------------------------------------------------------------------------


async def test_alert_on_a_drop_and_never_twice_for_the_same_thing(
    make_runtime: Callable[..., JobRuntime], reports: Reports, respx_mock: respx.MockRouter
) -> None:
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    runtime = make_runtime()
    hour = timedelta(hours=1)

    reports.next = report(88, at=NOW)
    result = await run_quality_check(runtime, "default", now=NOW)
    assert result.notification is None and hook.call_count == 0
    assert reports.calls == [{"tenant": "default", "save": True}]  # saved, so the trend builds up

    reports.next = report(61, [finding()], at=NOW + hour, trend=[88])
    result = await run_quality_check(runtime, "default", now=NOW + hour)
    assert result.notification is not None and hook.call_count == 1
    (alert,) = sent(hook)
    assert alert["event"] == "quality_alert"
    assert alert["data"]["score"] == 61 and alert["data"]["previous_score"] == 88
    assert "-27 since the previous report" in alert["text"]
    assert "NEW [warning] duplicate: exact duplicates (#1 #2). Fix: forget one of them" in alert["text"]

    # Same score, same findings, for hours: silence.
    for n in (2, 3, 4):
        reports.next = report(61, [finding()], at=NOW + n * hour, trend=[88, 61])
        result = await run_quality_check(runtime, "default", now=NOW + n * hour)
        assert result.notification is None
    assert hook.call_count == 1

    # A new critical finding is news.
    crit = finding(kind="drift", severity=Severity.CRITICAL, ids=(), message="index lags the database")
    reports.next = report(60, [finding(), crit], at=NOW + 5 * hour)
    await run_quality_check(runtime, "default", now=NOW + 5 * hour)
    assert hook.call_count == 2
    second = sent(hook)[1]
    assert second["level"] == "critical"
    assert [f["new"] for f in second["data"]["findings"]] == [True, False]


async def test_with_the_real_quality_report(
    core: MemoryCore, make_runtime: Callable[..., JobRuntime], respx_mock: respx.MockRouter
) -> None:
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    runtime = make_runtime()
    await core.store(
        "default", draft("Deploys to production happen on Tuesdays and Thursdays after standup.")
    )
    first = await run_quality_check(runtime, "default", now=NOW)
    assert first.report.id is not None and first.report.score >= 70
    assert first.notification is None and hook.call_count == 0

    # A mail that could not be stored is a warning finding: news, once.
    await core.record_ingest_failure(
        "default", source=Source.EMAIL, reason="no text in the message", ref="<a@x>"
    )
    second = await run_quality_check(runtime, "default", now=NOW + timedelta(hours=1))
    assert second.notification is not None
    assert [t.score for t in second.report.trend] == [first.report.score]
    (alert,) = sent(hook)
    assert [f["kind"] for f in alert["data"]["findings"]] == ["ingest_failure"]
    assert alert["data"]["previous_score"] == first.report.score

    # The same failure again only changes the count: no new alert.
    await core.record_ingest_failure(
        "default", source=Source.EMAIL, reason="no text in the message", ref="<b@x>"
    )
    third = await run_quality_check(runtime, "default", now=NOW + timedelta(hours=2))
    assert third.notification is None and hook.call_count == 1


async def test_the_last_alert_is_kept_in_the_database_across_restarts(
    core: MemoryCore, make_runtime: Callable[..., JobRuntime], reports: Reports, respx_mock: respx.MockRouter
) -> None:
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    reports.next = report(50, [finding()])
    await run_quality_check(make_runtime(), "default", now=NOW)
    assert hook.call_count == 1
    # Another process (its own store and engine) over the same database knows it was said already.
    other = SchedulerStore.for_async_url(core.settings.resolved_database_url)
    try:
        fresh = make_runtime()
        fresh.store = other
        result = await run_quality_check(fresh, "default", now=NOW + timedelta(hours=1))
    finally:
        await other.dispose()
    assert result.notification is None and hook.call_count == 1


async def test_tenants_have_their_own_alert_state(
    make_runtime: Callable[..., JobRuntime], reports: Reports, respx_mock: respx.MockRouter
) -> None:
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    runtime = make_runtime()
    reports.next = report(50, tenant="acme")
    await run_quality_check(runtime, "acme", now=NOW)
    reports.next = report(50, tenant="globex")
    await run_quality_check(runtime, "globex", now=NOW)
    assert [a["tenant"] for a in sent(hook)] == ["acme", "globex"]


async def test_an_undelivered_alert_is_sent_again_next_time(
    make_runtime: Callable[..., JobRuntime],
    reports: Reports,
    respx_mock: respx.MockRouter,
    store: SchedulerStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = respx_mock.post(WEBHOOK).mock(side_effect=[httpx.Response(500), httpx.Response(200)])
    runtime = make_runtime(max_attempts=1)
    reports.next = report(40)
    with caplog.at_level(logging.WARNING):
        first = await run_quality_check(runtime, "default", now=NOW)
    assert [d.ok for d in first.deliveries] == [False]
    assert any("quality_alert to webhook failed" in r.getMessage() for r in caplog.records)
    second = await run_quality_check(runtime, "default", now=NOW + timedelta(hours=1))
    assert [d.ok for d in second.deliveries] == [True]
    assert hook.call_count == 2
    third = await run_quality_check(runtime, "default", now=NOW + timedelta(hours=2))
    assert third.notification is None
    log = await store.deliveries()
    assert [(r["notifier"], r["ok"], r["status"]) for r in log] == [
        ("webhook", True, 200),
        ("webhook", False, 500),
    ]
    assert log[1]["error"] == "HTTP 500" and log[1]["event"] == "quality_alert"


async def test_recovery_is_announced_once(
    make_runtime: Callable[..., JobRuntime], reports: Reports, respx_mock: respx.MockRouter
) -> None:
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    runtime = make_runtime()
    for n, score in enumerate([50, 90, 91]):
        reports.next = report(score, at=NOW + timedelta(hours=n))
        await run_quality_check(runtime, "default", now=NOW + timedelta(hours=n))
    assert [a["event"] for a in sent(hook)] == ["quality_alert", "quality_recovered"]


# --- digest ---------------------------------------------------------------------------------------------


async def seed(core: MemoryCore) -> dict[str, int]:
    ids = {}
    for key, text, days, tags, kind in [
        ("old", "The old wiki moved to Confluence.", 10, ("wiki",), "note"),
        ("vpn", "The VPN moved to vpn2.corp.example.com.", 3, ("infra", "vpn"), "decision"),
        ("deploy", "Deploys happen on Tuesdays and Thursdays.", 2, ("infra", "deploy"), "note"),
        ("pg", "Billing uses PostgreSQL for transactions.", 1, ("billing",), "decision"),
        ("refl", "Reflection on infra: the VPN moved and deploys are twice a week.", 1, (), "reflection"),
    ]:
        stored = await core.store(
            "default", draft(text, tags=tags, kind=kind, created_at=NOW - timedelta(days=days, hours=1))
        )
        ids[key] = stored.id
    return ids


async def test_digest_content(
    core: MemoryCore, make_runtime: Callable[..., JobRuntime], respx_mock: respx.MockRouter
) -> None:
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    ids = await seed(core)
    result = await run_digest(make_runtime(), "default", now=NOW)
    digest = result.digest
    # The first digest looks back digest_first_days (7): the 10-day-old memory is not in it.
    assert [m.id for m in digest.new] == [ids["pg"], ids["deploy"], ids["vpn"]]
    assert [m.id for m in digest.reflections] == [ids["refl"]]
    assert [(t.tag, t.count) for t in digest.period_tags][:1] == [("infra", 2)]
    assert {t.tag for t in digest.top_tags} >= {"infra", "wiki"}
    assert digest.score is not None and 0 <= digest.score <= 100  # the real report, not saved
    (body,) = sent(hook)
    assert body["event"] == "digest" and body["title"] == "teamlore digest for default: 23 Feb – 02 Mar 2026"
    sections = {s["heading"]: s["lines"] for s in body["sections"]}
    assert sections["New memories (3)"][0].startswith(
        f"#{ids['pg']} Billing uses PostgreSQL for transactions."
    )
    assert sections["New memories (3)"][2] == (
        f"#{ids['vpn']} The VPN moved to vpn2.corp.example.com. — alice, 27 Feb #infra #vpn"
    )
    assert sections["Top tags"][0] == "This period: #infra ×2, #billing ×1, #deploy ×1, #vpn ×1"
    assert sections["Reflections (1)"] == [
        f"#{ids['refl']} Reflection on infra: the VPN moved and deploys are twice a week."
    ]
    assert sections["Quality"][0].startswith(f"{digest.score}/100")
    assert body["data"]["new_count"] == 3


async def test_digest_goes_out_without_a_quality_report(
    core: MemoryCore,
    make_runtime: Callable[..., JobRuntime],
    monkeypatch: pytest.MonkeyPatch,
    respx_mock: respx.MockRouter,
) -> None:
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    await seed(core)

    async def busy(tenant: str, *, save: bool = True) -> QualityReport:
        raise Unavailable("the memory database is busy")

    monkeypatch.setattr(core, "quality_report", busy)
    result = await run_digest(make_runtime(), "default", now=NOW)
    assert result.digest.score is None and len(result.digest.new) == 3
    assert "Quality" not in {s["heading"] for s in sent(hook)[0]["sections"]}


async def test_digest_shows_the_score_trend_of_the_period(
    core: MemoryCore, make_runtime: Callable[..., JobRuntime], reports: Reports, respx_mock: respx.MockRouter
) -> None:
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    await seed(core)
    reports.next = report(74, at=NOW, trend=[90, 85, 80])
    await run_digest(make_runtime(), "default", now=NOW)
    assert reports.calls == [{"tenant": "default", "save": False}]  # the digest does not add a report
    sections = {s["heading"]: s["lines"] for s in sent(hook)[0]["sections"]}
    assert sections["Quality"] == [f"74/100, {sparkline([90, 85, 80, 74])} 90 → 74 this period"]


async def test_next_digest_covers_only_the_time_since_the_last(
    core: MemoryCore, make_runtime: Callable[..., JobRuntime], respx_mock: respx.MockRouter
) -> None:
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    runtime = make_runtime()
    await seed(core)
    await run_digest(runtime, "default", now=NOW)
    # Nothing new for a week: no digest is posted (digest_skip_empty).
    week = NOW + timedelta(days=7)
    quiet = await run_digest(runtime, "default", now=week)
    assert quiet.notification is None and hook.call_count == 1
    later = await core.store(
        "default", draft("The office moves to floor 4.", created_at=week + timedelta(days=2))
    )
    result = await run_digest(runtime, "default", now=week + timedelta(days=7))
    assert [m.id for m in result.digest.new] == [later.id]
    assert hook.call_count == 2


async def test_undelivered_digest_is_not_lost(
    core: MemoryCore, make_runtime: Callable[..., JobRuntime], respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(WEBHOOK).mock(side_effect=[httpx.Response(500), httpx.Response(200)])
    runtime = make_runtime(max_attempts=1)
    ids = await seed(core)
    await run_digest(runtime, "default", now=NOW)
    retried = await run_digest(runtime, "default", now=NOW + timedelta(days=1))
    assert ids["vpn"] in [m.id for m in retried.digest.new]


# --- expiry sweep ---------------------------------------------------------------------------------------


async def seed_expiring(core: MemoryCore, now: datetime) -> dict[str, int]:
    ids = {}
    for key, text, expires in [
        ("long", "Temporary door code for the March offsite.", now - timedelta(days=40)),
        ("recent", "Parking is free during the conference week.", now - timedelta(days=1)),
        ("live", "The coffee machine is on floor 3.", None),
    ]:
        stored = await core.store(
            "default", draft(text, created_at=now - timedelta(days=60), expires_at=expires)
        )
        ids[key] = stored.id
    return ids


async def test_sweep_counts_but_keeps_expired_memories_by_default(
    core: MemoryCore, make_runtime: Callable[..., JobRuntime], respx_mock: respx.MockRouter
) -> None:
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    now = datetime.now(UTC)
    ids = await seed_expiring(core, now)
    result = await run_expiry_sweep(make_runtime(), "default", now=now)
    assert (result.expired, result.deleted) == (2, ())
    assert hook.call_count == 0
    kept = await core.recent("default", filters=QueryFilters(include_expired=True))
    assert {m.id for m in kept} == set(ids.values())


async def test_sweep_deletes_memories_expired_longer_than_the_grace(
    core: MemoryCore, make_runtime: Callable[..., JobRuntime], respx_mock: respx.MockRouter
) -> None:
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    now = datetime.now(UTC)
    ids = await seed_expiring(core, now)
    runtime = make_runtime(expiry_delete_after_days=30)
    result = await run_expiry_sweep(runtime, "default", now=now)
    assert result.expired == 2 and result.deleted == (ids["long"],)
    left = await core.recent("default", filters=QueryFilters(include_expired=True))
    assert {m.id for m in left} == {ids["recent"], ids["live"]}
    (audit,) = await core.audit_log("default")
    assert (audit["memory_id"], audit["actor_id"]) == (ids["long"], SWEEP_ACTOR.id)
    (body,) = sent(hook)
    assert body["event"] == "expiry_sweep" and body["data"]["deleted"] == [ids["long"]]
    # Running it again finds nothing more to delete and says nothing.
    again = await run_expiry_sweep(runtime, "default", now=now)
    assert again.deleted == () and hook.call_count == 1


# --- snapshot and the scheduled entry points ------------------------------------------------------------


async def test_snapshot_job_writes_the_index(
    core: MemoryCore, make_runtime: Callable[..., JobRuntime]
) -> None:
    await core.store("default", draft("Snapshots keep restarts fast."))
    path = await run_snapshot(make_runtime(), now=NOW)
    assert path is not None and path.is_dir()
    assert (core.settings.index_dir / "CURRENT").read_text().strip() == path.name


async def test_scheduled_entry_point_needs_a_runtime() -> None:
    with pytest.raises(RuntimeError, match="outside run_scheduler"):
        await jobs_module.quality_check("default")


async def test_scheduled_entry_point_skips_without_the_lease(
    make_runtime: Callable[..., JobRuntime], store: SchedulerStore, reports: Reports
) -> None:
    runtime = make_runtime()
    runtime.lease = Lease(store, timedelta(seconds=30))
    runtime.clock = lambda: NOW
    reports.next = report(10)
    token = jobs_module.runtime_var.set(runtime)
    try:
        await jobs_module.quality_check("default")
        assert reports.calls == []  # not the leader: not run
        assert await runtime.lease.acquire(NOW)
        await jobs_module.quality_check("default")
        assert len(reports.calls) == 1
    finally:
        jobs_module.runtime_var.reset(token)


async def test_a_failing_job_is_logged_not_raised(
    make_runtime: Callable[..., JobRuntime], caplog: pytest.LogCaptureFixture
) -> None:
    # The real quality report may still be missing (issue #4): the job logs that and returns.
    runtime = make_runtime()

    async def broken(tenant: str, *, save: bool = True) -> QualityReport:
        raise NotImplementedError("not yet")

    runtime.core.quality_report = broken  # type: ignore[method-assign]
    token = jobs_module.runtime_var.set(runtime)
    try:
        with caplog.at_level(logging.ERROR, logger="scheduler.jobs"):
            await jobs_module.quality_check("default")
    finally:
        jobs_module.runtime_var.reset(token)
    assert any(r.getMessage() == "quality check for default failed" for r in caplog.records)
