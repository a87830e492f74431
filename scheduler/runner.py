"""run_scheduler: an AsyncIOScheduler on teamlore's event loop, its jobs in the database, one leader.

Every process that runs the scheduler opens the same job store, but only the holder of the lease
(scheduler/lease.py) starts the AsyncIOScheduler; the others wait as standbys and try to take the lease
every `lease_seconds / 3`. So when several processes share a database each job runs once, and when
the leader stops (cleanly: it releases the lease; or dies: the lease expires) a standby takes over the
persisted schedules, running a run it missed once (coalesced) if within `misfire_grace_seconds`.

On becoming leader the scheduler reconciles the persisted jobs with the settings: a job whose schedule
is unchanged keeps its next run time (a restart does not skip or repeat a run); a changed one is
replaced; jobs for tenants or jobs no longer configured are removed.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio
import httpx
from anyio.abc import TaskStatus
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from memory_core import DEFAULT_TENANT, MemoryCore

from .config import OFF, AlertsSettings
from .jobs import JobRuntime, runtime_var, utcnow
from .lease import Lease
from .message import Delivery
from .notifiers import build_notifiers
from .store import JOBS_TABLE, SchedulerStore

__all__ = ["JobSpec", "SchedulerHandle", "build_scheduler", "desired_jobs", "reconcile", "run_scheduler"]

logger = logging.getLogger(__name__)

_JOB_MODULE = "scheduler.jobs"
_STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class JobSpec:
    """One job as the settings want it: id, import path of the coroutine, crontab, arguments."""

    id: str
    func: str
    cron: str
    args: tuple[str, ...]
    name: str


def desired_jobs(settings: AlertsSettings, tenants: Sequence[str]) -> list[JobSpec]:
    """Quality check, digest and expiry sweep per tenant, one index snapshot; jobs set to `off` left out."""
    specs = []
    for tenant in tenants:
        for kind, func, cron in (
            ("quality-check", "quality_check", settings.quality_schedule),
            ("digest", "digest", settings.digest_schedule),
            ("expiry-sweep", "expiry_sweep", settings.expiry_schedule),
        ):
            if cron != OFF:
                specs.append(
                    JobSpec(f"{kind}:{tenant}", f"{_JOB_MODULE}:{func}", cron, (tenant,), f"{kind} {tenant}")
                )
    if settings.snapshot_schedule != OFF:
        specs.append(
            JobSpec(
                "index-snapshot",
                f"{_JOB_MODULE}:index_snapshot",
                settings.snapshot_schedule,
                (),
                "index snapshot",
            )
        )
    return specs


class _RuntimeExecutor(AsyncIOExecutor):  # type: ignore[misc]
    """AsyncIOExecutor whose job tasks see this scheduler's JobRuntime (jobs.current_runtime())."""

    def __init__(self, runtime: JobRuntime) -> None:
        super().__init__()
        self._context = contextvars.copy_context()
        self._context.run(runtime_var.set, runtime)

    def _do_submit_job(self, job: Any, run_times: Any) -> None:
        # create_task copies the current context: make it ours for the length of the call.
        self._context.run(super()._do_submit_job, job, run_times)

    def running(self) -> set[asyncio.Future[Any]]:
        return {f for f in self._pending_futures if not f.done()}


def build_scheduler(
    store: SchedulerStore, settings: AlertsSettings, *, executor: AsyncIOExecutor | None = None
) -> AsyncIOScheduler:
    """An AsyncIOScheduler over the database's job store (coalescing, misfire grace, one instance per job).

    Without a runtime executor it can list and edit the persisted jobs, not run them.
    """
    executors = {"default": executor} if executor is not None else {}
    return AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=store.engine, tablename=JOBS_TABLE)},
        executors=executors,
        job_defaults={
            "coalesce": True,
            "misfire_grace_time": settings.misfire_grace_seconds,
            "max_instances": 1,
        },
        timezone=settings.zone,
    )


def _trigger(spec: JobSpec, settings: AlertsSettings) -> CronTrigger:
    return CronTrigger.from_crontab(spec.cron, timezone=settings.zone)


def reconcile(
    scheduler: AsyncIOScheduler, specs: Sequence[JobSpec], settings: AlertsSettings
) -> dict[str, str]:
    """Make the persisted jobs match `specs`; returns {job id: "kept" | "added" | "replaced" | "removed"}."""
    existing = {job.id: job for job in scheduler.get_jobs()}
    outcome: dict[str, str] = {}
    for spec in specs:
        trigger = _trigger(spec, settings)
        job = existing.pop(spec.id, None)
        same = (
            job is not None
            and job.func_ref == spec.func
            and repr(job.trigger) == repr(trigger)
            and tuple(job.args) == spec.args
            and job.misfire_grace_time == settings.misfire_grace_seconds
            and job.coalesce
        )
        if same:
            outcome[spec.id] = "kept"
            continue
        scheduler.add_job(
            spec.func, trigger, args=spec.args, id=spec.id, name=spec.name, replace_existing=True
        )
        outcome[spec.id] = "added" if job is None else "replaced"
    for job_id in existing:
        scheduler.remove_job(job_id)
        outcome[job_id] = "removed"
    return outcome


@dataclass
class SchedulerHandle:
    """What `task_status.started()` hands back: who this scheduler is and whether it leads."""

    holder: str
    scheduler: AsyncIOScheduler | None = None
    jobs: dict[str, str] = field(default_factory=dict)

    @property
    def is_leader(self) -> bool:
        return self.scheduler is not None


async def _stop(scheduler: AsyncIOScheduler, executor: _RuntimeExecutor) -> None:
    """Let running jobs finish (up to a grace time), then shut the scheduler down."""
    with anyio.CancelScope(shield=True):
        if scheduler.running:
            scheduler.pause()
        running = executor.running()
        if running:
            # Job tasks live on the asyncio loop, outside our task groups: wait for them directly.
            await asyncio.wait(running, timeout=_STOP_GRACE_SECONDS)
        if executor.running():
            logger.warning(
                "stopping the scheduler with %d job(s) still running: they are cancelled",
                len(executor.running()),
            )
        if scheduler.running:
            scheduler.shutdown(wait=False)
            # AsyncIOScheduler shuts down in a loop callback: let it run before the store goes away.
            for _ in range(100):
                if not scheduler.running:
                    break
                await anyio.sleep(0.01)


async def _lead(
    lease: Lease,
    store: SchedulerStore,
    settings: AlertsSettings,
    runtime: JobRuntime,
    tenants: Sequence[str],
    handle: SchedulerHandle,
    on_started: Callable[[], None],
) -> None:
    """Run the jobs while we hold the lease; return when it is lost."""
    executor = _RuntimeExecutor(runtime)
    scheduler = build_scheduler(store, settings, executor=executor)
    scheduler.start(paused=True)
    try:
        handle.jobs = reconcile(scheduler, desired_jobs(settings, tenants), settings)
        scheduler.resume()
        handle.scheduler = scheduler
        logger.info(
            "scheduler leading as %s: %s",
            lease.holder,
            ", ".join(f"{job_id} {how}" for job_id, how in handle.jobs.items()) or "no jobs",
        )
        on_started()
        while True:
            await anyio.sleep(lease.renew_every)
            try:
                renewed = await lease.acquire(runtime.clock())
            except Exception as exc:
                logger.warning("could not renew the scheduler lease: %s", exc)
                renewed = False
            if not renewed:
                logger.warning("scheduler lease lost: stepping down to standby")
                return
    finally:
        handle.scheduler = None
        await _stop(scheduler, executor)


async def run_scheduler(
    core: MemoryCore,
    settings: AlertsSettings,
    *,
    tenants: Sequence[str],
    task_status: TaskStatus[SchedulerHandle] = anyio.TASK_STATUS_IGNORED,
    on_delivery: Callable[[Delivery], None] | None = None,
    clock: Callable[[], datetime] = utcnow,
    web_url: str | None = None,
) -> None:
    """Run the scheduler until cancelled, as leader or standby (module docstring); shut down cleanly.

    Args:
        tenants: whose memory to watch; empty: the tenants holding memories (or "default").
        task_status: started with a SchedulerHandle once this process leads or waits as standby.
        on_delivery: called with each notifier outcome (e.g. to count them in a metric).
        clock: the time jobs see (tests).
        web_url: where people reach the web app; alerts and digests then link to its pages.
    """
    store = SchedulerStore.for_async_url(core.settings.resolved_database_url)
    try:
        jobstore_table = SQLAlchemyJobStore(engine=store.engine, tablename=JOBS_TABLE).jobs_t
        await store.create(jobstore_table)
        watched = list(tenants) or (await core.tenants()) or [DEFAULT_TENANT]
        timeout = httpx.Timeout(settings.http_timeout_seconds)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            lease = Lease(store, timedelta(seconds=settings.lease_seconds))
            runtime = JobRuntime(
                core=core,
                settings=settings,
                notifiers=build_notifiers(settings, client),
                store=store,
                lease=lease,
                clock=clock,
                on_delivery=on_delivery,
                web_url=web_url,
            )
            await _run(lease, store, settings, runtime, watched, task_status)
    finally:
        with anyio.CancelScope(shield=True):
            await store.dispose()


async def _run(
    lease: Lease,
    store: SchedulerStore,
    settings: AlertsSettings,
    runtime: JobRuntime,
    tenants: Sequence[str],
    task_status: TaskStatus[SchedulerHandle],
) -> None:
    handle = SchedulerHandle(holder=lease.holder)
    started = False

    def mark_started() -> None:
        nonlocal started
        if not started:
            started = True
            task_status.started(handle)

    logger.info(
        "scheduler %s for %s; notifiers: %s",
        lease.holder,
        ", ".join(tenants),
        ", ".join(settings.notifier_names) or "none",
    )
    try:
        standby_logged = False
        while True:
            try:
                leading = await lease.acquire(runtime.clock())
            except Exception as exc:
                logger.warning("could not reach the scheduler lease: %s", exc)
                leading = False
            if leading:
                standby_logged = False
                await _lead(lease, store, settings, runtime, tenants, handle, mark_started)
                continue
            if not standby_logged:
                logger.info("scheduler standing by: another process holds the lease")
                standby_logged = True
            mark_started()
            await anyio.sleep(lease.renew_every)
    finally:
        with anyio.CancelScope(shield=True):
            try:
                await lease.release()
            except Exception as exc:
                logger.warning("could not release the scheduler lease (it expires by itself): %s", exc)
            logger.info("scheduler %s stopped", lease.holder)
