"""run_scheduler for real: jobs persisted in the database, restarts, one leader among several schedulers."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest
import respx
from anyio.abc import TaskStatus

from memory_core import MemoryCore, QualityReport
from memory_core.testing import HashingEmbedder, draft
from scheduler import AlertsSettings, SchedulerHandle, SchedulerStore, run_scheduler
from scheduler.runner import build_scheduler

from .conftest import WEBHOOK, report

pytestmark = pytest.mark.anyio

JOB_IDS = {"quality-check:default", "digest:default", "expiry-sweep:default", "index-snapshot"}


def settings(**overrides: Any) -> AlertsSettings:
    values: dict[str, Any] = {
        "webhook_url": WEBHOOK,
        "webhook_secret": "k",
        "log_alerts": False,
        "lease_seconds": 0.6,
    }
    values.update(overrides)
    return AlertsSettings(**values)


class Calls:
    """Counts, per process (core), how often each job touched the core."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def watch(self, core: MemoryCore, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        async def quality_report(tenant: str, *, save: bool = True) -> QualityReport:
            self.counts[f"{name}:quality" if save else f"{name}:digest"] += 1
            return report(40, at=datetime.now(UTC))

        def counting(key: str, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                self.counts[key] += 1
                return await method(*args, **kwargs)

            return wrapper

        monkeypatch.setattr(core, "quality_report", quality_report)
        monkeypatch.setattr(core, "stats", counting(f"{name}:expiry", core.stats))
        monkeypatch.setattr(core, "snapshot", counting(f"{name}:snapshot", core.snapshot))


class Running:
    """A run_scheduler task that the test can stop on its own (one "process")."""

    def __init__(self, handle: SchedulerHandle, scope: anyio.CancelScope, done: anyio.Event) -> None:
        self.handle, self.scope, self.done = handle, scope, done

    async def stop(self) -> None:
        self.scope.cancel()
        with anyio.fail_after(15):
            await self.done.wait()


@asynccontextmanager
async def schedulers() -> AsyncIterator[Callable[..., Awaitable[Running]]]:
    async with anyio.create_task_group() as tg:

        async def start(core: MemoryCore, alerts: AlertsSettings, tenants: list[str]) -> Running:
            scope, done = anyio.CancelScope(), anyio.Event()

            async def run(*, task_status: TaskStatus[SchedulerHandle]) -> None:
                try:
                    with scope:
                        await run_scheduler(core, alerts, tenants=tenants, task_status=task_status)
                finally:
                    done.set()

            handle = await tg.start(run)
            return Running(handle, scope, done)

        yield start
        tg.cancel_scope.cancel()


async def eventually(condition: Callable[[], bool], within: float = 10) -> None:
    with anyio.fail_after(within):
        # Polling on purpose: the state belongs to the scheduler, which has no event to wait on.
        while not condition():  # noqa: ASYNC110
            await anyio.sleep(0.02)


async def persisted_jobs(core: MemoryCore, alerts: AlertsSettings) -> dict[str, datetime]:
    """What a brand-new scheduler object over the same database sees (it runs nothing: paused)."""
    store = SchedulerStore.for_async_url(core.settings.resolved_database_url)
    scheduler = build_scheduler(store, alerts)
    scheduler.start(paused=True)
    try:
        return {job.id: job.next_run_time for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
        await anyio.sleep(0.05)
        await store.dispose()


async def set_next_run(core: MemoryCore, alerts: AlertsSettings, times: dict[str, datetime]) -> None:
    """Edit the persisted next run times, as if the process had been down when they were due."""
    store = SchedulerStore.for_async_url(core.settings.resolved_database_url)
    scheduler = build_scheduler(store, alerts)
    scheduler.start(paused=True)
    try:
        for job_id, when in times.items():
            scheduler.modify_job(job_id, next_run_time=when)
    finally:
        scheduler.shutdown(wait=False)
        await anyio.sleep(0.05)
        await store.dispose()


async def test_jobs_are_persisted_and_survive_a_restart(core: MemoryCore) -> None:
    alerts = settings()
    async with schedulers() as start:
        first = await start(core, alerts, ["default"])
        assert first.handle.is_leader
        assert first.handle.jobs == dict.fromkeys(JOB_IDS, "added")
        assert first.handle.scheduler is not None
        live = {job.id: job.next_run_time for job in first.handle.scheduler.get_jobs()}
        await first.stop()
        assert not first.handle.is_leader

        # A second scheduler object over the same database sees the persisted jobs.
        assert await persisted_jobs(core, alerts) == live
        hourly = live["quality-check:default"]
        assert (hourly.minute, hourly.second) == (0, 0)
        assert live["digest:default"].weekday() == 0 and live["digest:default"].hour == 9

        # Restarted with the same settings: nothing is rescheduled (no run skipped or repeated).
        second = await start(core, alerts, ["default"])
        assert second.handle.jobs == dict.fromkeys(JOB_IDS, "kept")
        assert await persisted_jobs(core, alerts) == live
        await second.stop()


async def test_changed_settings_reschedule_and_drop_jobs(core: MemoryCore) -> None:
    async with schedulers() as start:
        first = await start(core, settings(), ["default", "acme"])
        assert len(first.handle.jobs) == 7
        await first.stop()
        changed = settings(quality_schedule="*/15 * * * *", digest_schedule="off")
        second = await start(core, changed, ["default"])
        assert second.handle.jobs == {
            "quality-check:default": "replaced",
            "expiry-sweep:default": "kept",
            "index-snapshot": "kept",
            "digest:default": "removed",
            "quality-check:acme": "removed",
            "digest:acme": "removed",
            "expiry-sweep:acme": "removed",
        }
        await second.stop()
    assert set(await persisted_jobs(core, changed)) == {
        "quality-check:default",
        "expiry-sweep:default",
        "index-snapshot",
    }


async def test_two_schedulers_over_one_database_run_each_job_once(
    core: MemoryCore, monkeypatch: pytest.MonkeyPatch, respx_mock: respx.MockRouter
) -> None:
    hook = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    await core.store("default", draft("The VPN moved to vpn2.corp.example.com."))
    calls = Calls()
    alerts = settings()
    # A second process's core over the same database (SQLite file or PostgreSQL database).
    other = await MemoryCore.open(core.settings, embedder=HashingEmbedder())
    async with other, schedulers() as start:
        calls.watch(core, monkeypatch, "a")
        calls.watch(other, monkeypatch, "b")
        a = await start(core, alerts, ["default"])
        b = await start(other, alerts, ["default"])
        assert a.handle.is_leader and not b.handle.is_leader
        assert a.handle.scheduler is not None
        # Every job falls due now.
        now = datetime.now(UTC)
        for job_id in JOB_IDS:
            a.handle.scheduler.modify_job(job_id, next_run_time=now)
        await eventually(lambda: len(calls.counts) == 4)
        # The leader stops; the standby takes the lease over and the same persisted schedules.
        await a.stop()
        await eventually(lambda: b.handle.is_leader)
        assert b.handle.jobs == dict.fromkeys(JOB_IDS, "kept")
        await anyio.sleep(1.0)  # several lease periods: nothing may run again
        await b.stop()
        # (Checked before the cores close: closing writes a snapshot of its own.)
        assert calls.counts == {"a:quality": 1, "a:digest": 1, "a:expiry": 1, "a:snapshot": 1}
    assert sorted(_event(call.request.content) for call in hook.calls) == ["digest", "quality_alert"]


def _event(content: bytes) -> str:
    return str(json.loads(content)["event"])


async def test_a_run_missed_while_down_happens_once_after_restart(
    core: MemoryCore, monkeypatch: pytest.MonkeyPatch, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    calls = Calls()
    calls.watch(core, monkeypatch, "a")
    alerts = settings(misfire_grace_seconds=4 * 3600)
    async with schedulers() as start:
        await (await start(core, alerts, ["default"])).stop()
        now = datetime.now(UTC)
        # While "down": the hourly quality check missed three runs (within the grace time: they
        # coalesce into one run); the digest missed its run by more than the grace time (skipped).
        await set_next_run(
            core,
            alerts,
            {
                "quality-check:default": now - timedelta(hours=3),
                "digest:default": now - timedelta(hours=5),
            },
        )
        again = await start(core, alerts, ["default"])
        assert again.handle.jobs["quality-check:default"] == "kept"
        await eventually(lambda: calls.counts["a:quality"] >= 1)
        await anyio.sleep(0.5)
        await again.stop()
    assert calls.counts == {"a:quality": 1}
    after = await persisted_jobs(core, alerts)
    assert all(when > now for when in after.values())
