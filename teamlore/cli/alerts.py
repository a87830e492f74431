"""`teamlore alerts`: send a test alert to every notifier, run a scheduler job now, show the schedule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from . import runner
from .runner import DEFAULT_TENANT, JsonOption, TenantOption, err, out, print_json

if TYPE_CHECKING:
    from rich.table import Table

    from memory_core import MemoryCore
    from scheduler import AlertsSettings, Delivery, JobRuntime

__all__ = ["Job", "build_alerts_app"]

OpenCore = Callable[[], AbstractAsyncContextManager["MemoryCore"]]
LoadSettings = Callable[[], "AlertsSettings"]

_T = TypeVar("_T")


class Job(StrEnum):
    quality = "quality"
    digest = "digest"
    expiry = "expiry"
    snapshot = "snapshot"


def _deliveries_json(deliveries: list[Delivery]) -> list[dict[str, Any]]:
    return [
        {"notifier": d.notifier, "ok": d.ok, "attempts": d.attempts, "status": d.status, "error": d.error}
        for d in deliveries
    ]


def _deliveries_table(deliveries: list[Delivery]) -> Table:
    from rich.table import Table

    table = Table("notifier", "result", "attempts", "detail")
    for d in deliveries:
        result = "[green]ok[/green]" if d.ok else "[red]failed[/red]"
        detail = d.error or (f"HTTP {d.status}" if d.status else "")
        table.add_row(d.notifier, result, str(d.attempts), detail)
    return table


def _alerts_settings() -> AlertsSettings:
    return runner.load().alerts


def _public_url() -> str | None:
    from ..settings import load_settings

    return load_settings().http.public_url


def build_alerts_app(
    open_core: OpenCore = runner.open_core,
    load_settings: LoadSettings = _alerts_settings,
    web_url: Callable[[], str | None] = _public_url,
) -> typer.Typer:
    """The `alerts` sub-app. `load_settings` returns the TEAMLORE_ALERTS__ section; `open_core` opens
    the core (only `run` and `status` need it: `test` talks to the notifiers alone); `web_url` is
    TEAMLORE_HTTP__PUBLIC_URL, so what `run` posts links to the web app as the scheduler's posts do."""
    app = typer.Typer(
        name="alerts",
        help="Quality alerts and digests: test the notifiers, run a job now, show the schedule.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )

    def run(work: Callable[[AlertsSettings], Awaitable[_T]]) -> _T:
        async def main() -> _T:
            return await work(load_settings())

        return runner.run(main)

    @app.command("test")
    def test_alert(as_json: JsonOption = False) -> None:
        """Send a test alert to every configured notifier and report each result (exit 1 if one failed)."""

        async def work(settings: AlertsSettings) -> list[Delivery]:
            import httpx

            from scheduler import build_notifiers
            from scheduler.alerts import check_notification
            from scheduler.notifiers import notify_all

            async with httpx.AsyncClient(timeout=settings.http_timeout_seconds) as client:
                notifiers = build_notifiers(settings, client)
                if not notifiers:
                    return []
                return await notify_all(notifiers, check_notification(datetime.now(UTC)))

        deliveries = run(work)
        if not deliveries:
            err.print(
                "[red]error:[/red] no notifier is configured: set TEAMLORE_ALERTS__SLACK_WEBHOOK_URL, "
                "__SLACK_BOT_TOKEN and __SLACK_CHANNEL, __DISCORD_WEBHOOK_URL or __WEBHOOK_URL "
                "(or leave __LOG_ALERTS on)",
                highlight=False,
            )
            raise typer.Exit(2)
        if as_json:
            print_json(_deliveries_json(deliveries))
        else:
            out.print(_deliveries_table(deliveries))
            if [d.notifier for d in deliveries] == ["log"]:
                err.print("only the log is configured: no chat or webhook notifier is set", highlight=False)
        if not all(d.ok for d in deliveries):
            raise typer.Exit(1)

    @app.command("run")
    def run_job(
        job: Annotated[Job, typer.Argument(help="Which job to run now.")],
        tenant: TenantOption = DEFAULT_TENANT,
        as_json: JsonOption = False,
    ) -> None:
        """Run one scheduler job now, in this process (the alert state is shared: nothing repeats)."""

        async def work(settings: AlertsSettings) -> dict[str, Any]:
            import httpx

            from scheduler import JobRuntime, SchedulerStore, build_notifiers

            async with (
                open_core() as core,
                httpx.AsyncClient(timeout=settings.http_timeout_seconds) as client,
            ):
                store = SchedulerStore.for_async_url(core.settings.resolved_database_url)
                try:
                    await store.create()
                    notifiers = build_notifiers(settings, client)
                    runtime = JobRuntime(core, settings, notifiers, store, web_url=web_url())
                    return await _run_job(runtime, job, tenant)
                finally:
                    await store.dispose()

        result = run(work)
        if as_json:
            print_json(result)
            return
        out.print(result["summary"], highlight=False)
        if result["deliveries"]:
            from scheduler import Delivery

            out.print(
                _deliveries_table(
                    [Delivery(event=job.value, tenant=tenant, **d) for d in result["deliveries"]]
                )
            )

    @app.command("status")
    def status(as_json: JsonOption = False) -> None:
        """Show the persisted schedule (next runs), which process leads, and the latest deliveries."""

        async def work(settings: AlertsSettings) -> dict[str, Any]:
            import anyio

            from scheduler import SchedulerStore
            from scheduler.lease import LEASE_NAME
            from scheduler.runner import build_scheduler

            async with open_core() as core:
                store = SchedulerStore.for_async_url(core.settings.resolved_database_url)
                try:
                    await store.create()
                    scheduler = build_scheduler(store, settings)
                    scheduler.start(paused=True)
                    try:
                        jobs = [
                            {"id": j.id, "trigger": str(j.trigger), "next_run_time": j.next_run_time}
                            for j in scheduler.get_jobs()
                        ]
                    finally:
                        scheduler.shutdown(wait=False)
                        await anyio.sleep(0.01)
                    leader = await store.lease_holder(LEASE_NAME, datetime.now(UTC))
                    deliveries = await store.deliveries(limit=10)
                finally:
                    await store.dispose()
            return {"leader": leader, "jobs": jobs, "deliveries": deliveries}

        result = run(work)
        if as_json:
            print_json(result)
            return
        from rich.table import Table

        out.print(f"leader: {result['leader'] or 'none (no scheduler is running)'}", highlight=False)
        jobs = Table("job", "schedule", "next run")
        for j in result["jobs"]:
            jobs.add_row(j["id"], j["trigger"], str(j["next_run_time"] or "paused"))
        out.print(jobs)
        log = Table("at", "event", "tenant", "notifier", "result", "detail")
        for d in result["deliveries"]:
            log.add_row(
                f"{d['at']:%Y-%m-%d %H:%M}",
                d["event"],
                d["tenant"] or "-",
                d["notifier"],
                "ok" if d["ok"] else "failed",
                d["error"] or "",
            )
        out.print(log)

    return app


async def _run_job(runtime: JobRuntime, job: Job, tenant: str) -> dict[str, Any]:
    from scheduler.jobs import run_digest, run_expiry_sweep, run_quality_check, run_snapshot

    now = datetime.now(UTC)
    deliveries: list[Delivery] = []
    if job is Job.quality:
        quality = await run_quality_check(runtime, tenant, now=now)
        deliveries = list(quality.deliveries)
        said = quality.notification.event if quality.notification is not None else "nothing new to report"
        summary = f"quality of {tenant}: {quality.report.score}/100; {said}"
    elif job is Job.digest:
        digest = await run_digest(runtime, tenant, now=now)
        deliveries = list(digest.deliveries)
        summary = f"digest of {tenant}: {digest.digest.new_count} new memories" + (
            "" if digest.notification is not None else " (nothing to post)"
        )
    elif job is Job.expiry:
        sweep = await run_expiry_sweep(runtime, tenant, now=now)
        deliveries = list(sweep.deliveries)
        summary = f"expiry sweep of {tenant}: {sweep.expired} expired, {len(sweep.deleted)} deleted"
    else:
        path = await run_snapshot(runtime, now=now)
        summary = f"index snapshot: {path}" if path is not None else "index snapshot skipped"
    return {
        "job": job.value,
        "tenant": tenant,
        "summary": summary,
        "deliveries": _deliveries_json(deliveries),
    }
