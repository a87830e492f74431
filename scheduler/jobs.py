"""The jobs: quality check, digest, expiry sweep and index snapshot, each runnable with an injected clock.

`run_quality_check(runtime, tenant, now=...)` and friends do the work and return what they did, so
tests drive them under a controlled clock. The scheduled entry points (`quality_check`, `digest`,
`expiry_sweep`, `index_snapshot`) are module-level coroutines because APScheduler persists jobs by
their import path; they take only picklable arguments (the tenant) and find the core, settings and
notifiers of the running scheduler in a context variable set by the runner's executor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from memory_core import Actor, MemoryCore, NotFound, QualityReport

from .alerts import AlertState, Assessment, alert_notification, assess, next_state, recovered_notification
from .config import AlertsSettings
from .digest import Digest, digest_notification, gather_digest
from .lease import Lease
from .message import Delivery, Link, Notification, Section
from .notifiers import Notifier, delivered, notify_all
from .store import SchedulerStore

__all__ = [
    "SWEEP_ACTOR",
    "DigestResult",
    "JobRuntime",
    "QualityCheckResult",
    "SweepResult",
    "current_runtime",
    "digest",
    "expiry_sweep",
    "index_snapshot",
    "quality_check",
    "run_digest",
    "run_expiry_sweep",
    "run_quality_check",
    "run_snapshot",
    "runtime_var",
]

logger = logging.getLogger(__name__)

SWEEP_ACTOR = Actor(id="system:scheduler", name="teamlore scheduler", is_admin=True)
"""Who the audit log names for memories the expiry sweep deletes."""

QUALITY_STATE = "quality_alert"
DIGEST_STATE = "digest"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class JobRuntime:
    """Everything a job needs; one per running scheduler (or per `teamlore alerts run`)."""

    core: MemoryCore
    settings: AlertsSettings
    notifiers: Sequence[Notifier]
    store: SchedulerStore
    lease: Lease | None = None
    clock: Callable[[], datetime] = utcnow
    on_delivery: Callable[[Delivery], None] | None = None
    web_url: str | None = None  # TEAMLORE_HTTP__PUBLIC_URL: notifications then link to the web app

    def linked(self, note: Notification, *pages: tuple[str, str]) -> Notification:
        """`note` with links to these (label, path) pages of the web app, when its address is known."""
        if not self.web_url:
            return note
        base = self.web_url.rstrip("/")
        return replace(note, links=tuple(Link(label, base + path) for label, path in pages))

    async def deliver(self, note: Notification) -> list[Delivery]:
        """Send to every notifier, then record each outcome (delivery log, `on_delivery`). Never raises."""
        deliveries = await notify_all(self.notifiers, note)
        try:
            await self.store.record_deliveries([d.row() for d in deliveries], self.clock())
        except Exception:
            logger.exception("could not write the delivery log")
        if self.on_delivery is not None:
            for delivery in deliveries:
                try:
                    self.on_delivery(delivery)
                except Exception:
                    logger.exception("on_delivery callback failed")
        return deliveries


runtime_var: ContextVar[JobRuntime] = ContextVar("teamlore_scheduler_runtime")


def current_runtime() -> JobRuntime:
    try:
        return runtime_var.get()
    except LookupError:
        raise RuntimeError(
            "a teamlore scheduler job ran outside run_scheduler (no runtime in context)"
        ) from None


# --- quality check ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityCheckResult:
    report: QualityReport
    assessment: Assessment
    notification: Notification | None
    deliveries: tuple[Delivery, ...]


async def run_quality_check(runtime: JobRuntime, tenant: str, *, now: datetime) -> QualityCheckResult:
    """Make (and save) a quality report; alert if it says something the last alert did not."""
    report = await runtime.core.quality_report(tenant)
    last = AlertState.from_json(await runtime.store.get_state(tenant, QUALITY_STATE))
    assessment = assess(report, last, runtime.settings)
    note: Notification | None = None
    if assessment.should_alert:
        note = alert_notification(assessment, max_findings=runtime.settings.max_findings)
    elif assessment.recovered:
        note = recovered_notification(assessment)
    if note is not None:
        note = runtime.linked(note, ("Open the quality report", "/quality"))
    deliveries = await runtime.deliver(note) if note is not None else []
    state = next_state(assessment, last, now, posted=delivered(deliveries))
    if state is not None and state != last:
        await runtime.store.put_state(tenant, QUALITY_STATE, state.to_json(), now)
    logger.info(
        "quality check of %s: score %d, %d alertable finding(s), %s",
        tenant,
        report.score,
        len(assessment.alertable),
        note.event if note is not None else "nothing new to report",
    )
    return QualityCheckResult(report, assessment, note, tuple(deliveries))


# --- digest -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestResult:
    digest: Digest
    notification: Notification | None
    deliveries: tuple[Delivery, ...]


async def run_digest(runtime: JobRuntime, tenant: str, *, now: datetime) -> DigestResult:
    """Post what happened since the last digest (the first one looks back `digest_first_days`)."""
    settings = runtime.settings
    state = await runtime.store.get_state(tenant, DIGEST_STATE)
    since = now - timedelta(days=settings.digest_first_days)
    if state and state.get("until"):
        last_until = datetime.fromisoformat(str(state["until"]))
        if last_until < now:
            since = last_until + timedelta(microseconds=1)
    found = await gather_digest(
        runtime.core, tenant, since=since, until=now, max_items=settings.digest_max_items
    )
    if found.empty and settings.digest_skip_empty:
        await runtime.store.put_state(tenant, DIGEST_STATE, {"until": now.isoformat()}, now)
        logger.info("digest of %s: nothing new since %s, not posted", tenant, since.isoformat())
        return DigestResult(found, None, ())
    note = digest_notification(found, max_items=settings.digest_max_items, zone=settings.zone)
    note = runtime.linked(note, ("Recent memories", "/recent"), ("Quality report", "/quality"))
    deliveries = await runtime.deliver(note)
    if delivered(deliveries):
        await runtime.store.put_state(tenant, DIGEST_STATE, {"until": now.isoformat()}, now)
    logger.info(
        "digest of %s: %s new memories, %d reflections", tenant, found.new_count, len(found.reflections)
    )
    return DigestResult(found, note, tuple(deliveries))


# --- expiry sweep -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    expired: int
    deleted: tuple[int, ...]
    deliveries: tuple[Delivery, ...]


async def run_expiry_sweep(runtime: JobRuntime, tenant: str, *, now: datetime) -> SweepResult:
    """Count expired memories; delete those expired longer than `expiry_delete_after_days` (if set).

    Expired memories are hidden by the core already; deleting them is opt-in, audited under
    SWEEP_ACTOR, and announced to the notifiers with the ids.
    """
    core, grace = runtime.core, runtime.settings.expiry_grace
    if grace is None:
        expired = (await core.stats(tenant)).expired
        logger.info("expiry sweep of %s: %d expired (hidden, kept: deletion is off)", tenant, expired)
        return SweepResult(expired, (), ())
    cutoff = now - grace
    expired, doomed = 0, []
    async for record in core.export(tenant):
        if record.expires_at is not None and record.expires_at <= now:
            expired += 1
            if record.expires_at <= cutoff:
                doomed.append(record.id)
    deleted = []
    for memory_id in doomed:
        try:
            await core.delete(tenant, memory_id, actor=SWEEP_ACTOR)
        except NotFound:
            continue  # someone deleted it meanwhile
        deleted.append(memory_id)
    deliveries: list[Delivery] = []
    if deleted:
        deliveries = await runtime.deliver(_sweep_notification(tenant, expired, deleted, grace))
    logger.info("expiry sweep of %s: %d expired, %d deleted", tenant, expired, len(deleted))
    return SweepResult(expired, tuple(deleted), tuple(deliveries))


def _sweep_notification(tenant: str, expired: int, deleted: Sequence[int], grace: timedelta) -> Notification:
    refs = " ".join(f"#{i}" for i in deleted[:30]) + (
        f" (+{len(deleted) - 30} more)" if len(deleted) > 30 else ""
    )
    return Notification(
        event="expiry_sweep",
        tenant=tenant,
        title=f"Expiry sweep deleted {len(deleted)} memor{'y' if len(deleted) == 1 else 'ies'} in {tenant}",
        level="info",
        sections=(
            Section(
                "Deleted",
                (
                    f"Expired for more than {grace.days} day(s): {refs}",
                    f"{expired - len(deleted)} other expired memories stay hidden until their grace ends.",
                    "The audit log names system:scheduler for each deletion.",
                ),
            ),
        ),
        data={"expired": expired, "deleted": list(deleted), "grace_days": grace.days},
    )


# --- index snapshot -----------------------------------------------------------------------------------


async def run_snapshot(runtime: JobRuntime, *, now: datetime) -> Path | None:
    path = await runtime.core.snapshot()
    logger.info("index snapshot %s", path if path is not None else "skipped")
    return path


# --- scheduled entry points (persisted by import path: keep names and arguments stable) ----------------


async def _guarded(
    name: str, tenant: str | None, work: Callable[[JobRuntime, datetime], Awaitable[object]]
) -> None:
    runtime = current_runtime()
    now = runtime.clock()
    if runtime.lease is not None and not await runtime.lease.held(now):
        logger.warning("%s skipped: this process no longer holds the scheduler lease", name)
        return
    started = time.monotonic()
    try:
        await work(runtime, now)
    except Exception:
        # The job boundary logs it; the scheduler and the next runs go on.
        logger.exception("%s for %s failed", name, tenant or "all tenants")
        return
    logger.debug("%s for %s took %.2f s", name, tenant or "all tenants", time.monotonic() - started)


async def quality_check(tenant: str) -> None:
    await _guarded("quality check", tenant, lambda rt, now: run_quality_check(rt, tenant, now=now))


async def digest(tenant: str) -> None:
    await _guarded("digest", tenant, lambda rt, now: run_digest(rt, tenant, now=now))


async def expiry_sweep(tenant: str) -> None:
    await _guarded("expiry sweep", tenant, lambda rt, now: run_expiry_sweep(rt, tenant, now=now))


async def index_snapshot() -> None:
    await _guarded("index snapshot", None, lambda rt, now: run_snapshot(rt, now=now))
