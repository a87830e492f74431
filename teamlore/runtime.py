"""The one process: the core, the web app and every enabled front-end on one event loop, one task group."""

from __future__ import annotations

import logging
import signal
from typing import Any

import anyio
import uvicorn

from memory_core import InvalidInput, MemoryCore, TeamloreError, permission_problems

from . import metrics
from .frontends import Plan, Service, build_plan
from .health import FrontendHealth
from .settings import Settings
from .web import create_app

__all__ = ["PARTS", "Plan", "check", "parse_only", "serve"]

logger = logging.getLogger(__name__)

PARTS = ("web", "slack", "discord", "mail", "scheduler")


def parse_only(value: str | None) -> set[str]:
    if not value:
        return set(PARTS)
    parts = {p.strip().lower() for p in value.split(",") if p.strip()}
    unknown = parts - set(PARTS)
    if unknown:
        raise InvalidInput(f"--only takes {', '.join(PARTS)}; not {', '.join(sorted(unknown))}")
    return parts


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the runtime owns SIGTERM for every part."""

    def capture_signals(self) -> Any:
        from contextlib import nullcontext

        return nullcontext()


async def _supervise(name: str, service: Service, health: FrontendHealth | None = None) -> None:
    """Run a front-end; if it fails, log it and restart it with backoff while the others go on."""
    health = health or FrontendHealth(())
    delay = 1.0
    while True:
        try:
            health.mark_up(name)
            await service()
            logger.info("%s stopped", name)
            health.mark_down(name)
            return
        except Exception as exc:
            logger.exception("%s failed; restarting in %.0f s", name, delay)
            health.mark_down(name, exc)
            metrics.FRONTEND_RESTARTS.labels(frontend=name).inc()
            await anyio.sleep(delay)
            delay = min(delay * 2, 60.0)


async def serve(
    settings: Settings, parts: set[str] | None = None, *, ready: anyio.Event | None = None
) -> None:
    """Run until SIGTERM/SIGINT: then stop taking requests, drain, close the core."""
    parts = parts if parts is not None else set(PARTS)
    core = await MemoryCore.open(settings.core_settings())
    async with core:
        plan = build_plan(core, settings, parts)
        for frontend in plan.frontends:
            logger.info("%s: %s (%s)", frontend.name, "enabled" if frontend.enabled else "off", frontend.why)
        health = FrontendHealth([f.name for f in plan.enabled])
        health_log = health.log_handler()
        logging.getLogger().addHandler(health_log)
        server: _Server | None = None
        if "web" in parts:
            enabled = plan.enabled
            app = create_app(
                core,
                health=health,
                api=settings.api,
                routes=[r for f in enabled for r in f.routes],
                mounts=[m for f in enabled for m in f.mounts],
                lifespans=[h for f in enabled for h in f.lifespans],
            )
            config = uvicorn.Config(
                app,
                host=settings.http.host,
                port=settings.http.port,
                log_config=None,
                access_log=False,
                lifespan="on",
                timeout_graceful_shutdown=20,
            )
            server = _Server(config)
        stop = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(_watch_signals, stop)
            tg.start_soon(core.run_background)  # query log, index catch-up, snapshots: off callers' paths
            services = anyio.CancelScope()

            async def run_services() -> None:
                with services:
                    async with anyio.create_task_group() as inner:
                        for frontend in plan.enabled:
                            if frontend.service is not None:
                                inner.start_soon(_supervise, frontend.name, frontend.service, health)

            tg.start_soon(run_services)
            server_done = anyio.Event()

            async def run_server() -> None:
                assert server is not None
                try:
                    await server.serve()
                except SystemExit as exc:  # uvicorn exits when it cannot bind
                    raise TeamloreError(
                        f"the web server could not listen on {settings.http.host}:{settings.http.port}"
                    ) from exc
                finally:
                    server_done.set()

            if server is not None:
                tg.start_soon(run_server)
                while not server.started:  # uvicorn offers no event to wait on  # noqa: ASYNC110
                    await anyio.sleep(0.02)
                for frontend in plan.enabled:
                    if frontend.service is None:  # served by the web server: up while it serves
                        health.mark_up(frontend.name)
                logger.info("teamlore ready on http://%s:%d", settings.http.host, settings.http.port)
            else:
                logger.info("teamlore ready (no web server)")
            if ready is not None:
                ready.set()
            await stop.wait()
            logger.info("shutting down: draining requests")
            if server is not None:
                server.should_exit = True
                await server_done.wait()
            services.cancel()
            tg.cancel_scope.cancel()
        logging.getLogger().removeHandler(health_log)
    logger.info("teamlore stopped")


async def _watch_signals(stop: anyio.Event) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            logger.info("received %s", signal.Signals(signum).name)
            stop.set()
            return


async def check(settings: Settings) -> dict[str, Any]:
    """What `teamlore check` reports: settings, database, model, index, and each front-end's state."""
    checks: list[dict[str, Any]] = [{"name": "settings", "ok": True, "detail": "valid"}]
    frontends: list[dict[str, Any]] = []
    try:
        core = await MemoryCore.open(settings.core_settings(), lazy=True)
    except TeamloreError as exc:
        checks.append({"name": "database", "ok": False, "detail": str(exc)})
        return {"ok": False, "checks": checks, "frontends": frontends}
    async with core:
        health = await core.health()
        checks.append(
            {
                "name": "database",
                "ok": health["database"],
                "detail": settings.core_settings().resolved_database_url.split("@")[-1],
            }
        )
        driver = core.database.sqlite_driver
        if driver is not None:  # a warning: deletes work either way, the fallback is just slow
            slow = not driver.fts_secure_delete
            checks.append({"name": "deletes", "ok": True, "warn": slow, "detail": driver.describe()})
        checks.append({"name": "model", "ok": health["model_loaded"], "detail": health["model"]})
        checks.append(
            {
                "name": "index",
                "ok": health["index_in_step"],
                "detail": "in step"
                if health["index_in_step"]
                else f"drift in {health.get('drifted_tenants')}",
            }
        )
        loose = permission_problems(settings.core_settings())
        checks.append(
            {
                "name": "file permissions",
                "ok": True,  # a warning: an operator may share the directory with a group on purpose
                "warn": bool(loose),
                "detail": "; ".join(loose) if loose else "data directory 0700, files 0600",
            }
        )
        plan = build_plan(core, settings, set(PARTS), describe_only=True)
        frontends = [{"name": f.name, "enabled": f.enabled, "why": f.why} for f in plan.frontends]
    return {"ok": all(c["ok"] for c in checks), "checks": checks, "frontends": frontends}
