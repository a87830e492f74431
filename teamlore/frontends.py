"""Which front-ends run (the plan) and how each is built from its settings section: wiring, nothing more.

Each front-end's package is imported only when it is enabled (and, for `check`, not at all: it only
says what would run), so a process never pays for an SDK it does not use.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from memory_core import MemoryCore

    from .settings import Settings
    from .web import LifespanHook, Mount

__all__ = ["Frontend", "Plan", "Service", "build_all", "build_plan"]

logger = logging.getLogger(__name__)

Service = Callable[[], Awaitable[None]]


@dataclass
class Frontend:
    """What one front-end adds: routes/mounts on the web app, and/or a long-running service."""

    name: str
    enabled: bool
    why: str
    routes: Sequence[BaseRoute] = ()
    mounts: Sequence[Mount] = ()
    lifespans: Sequence[LifespanHook] = ()
    service: Service | None = None


@dataclass
class Plan:
    """Every front-end, enabled or not (with why), in the order they start."""

    frontends: list[Frontend] = field(default_factory=list)

    @property
    def enabled(self) -> list[Frontend]:
        return [f for f in self.frontends if f.enabled]


def build_plan(core: MemoryCore, settings: Settings, parts: set[str], *, describe_only: bool = False) -> Plan:
    """Decide what runs. Each front-end is enabled by its credentials (and by --only)."""
    return Plan(build_all(core, settings, parts, describe_only=describe_only))


def build_all(
    core: MemoryCore, settings: Settings, parts: set[str], *, describe_only: bool = False
) -> list[Frontend]:
    """One Frontend per front-end, enabled when its credentials are set and --only allows it.

    `describe_only` says what would run and why, building (and importing) nothing.
    """
    tenants = settings.tenant_map()
    web = "web" in parts
    out: list[Frontend] = []
    service: Service | None

    address = f"http://{settings.http.host}:{settings.http.port}"
    out.append(Frontend("web", web, f"{address} (health, metrics, REST API)" if web else "not in --only"))

    mcp_why = f"{address}/mcp (API keys)" if web else "needs the web part"
    github = " and /hooks/github" if settings.webhooks.github_secret else ""
    hooks_why = f"{address}/hooks/{{name}}{github}" if web else "needs the web part"
    if describe_only:
        out.append(Frontend("mcp-http", web, mcp_why))
        out.append(Frontend("webhooks", web, hooks_why))
    else:
        from mcp_server.http_app import build_mcp_http_app
        from memory_core import ApiKeys
        from webhooks import WebhookReceiver

        mcp = build_mcp_http_app(core, ApiKeys(core), settings.mcp)
        out.append(Frontend("mcp-http", web, mcp_why, routes=mcp.routes("/mcp"), lifespans=[mcp.lifespan]))
        hooks = WebhookReceiver(core, settings.webhooks, tenants, settings.webhook_key)
        out.append(Frontend("webhooks", web, hooks_why, routes=hooks.routes()))

    ui = settings.web.enabled and web
    ui_why = (
        f"{settings.http.public_url or address}/ (sign in with an API key)"
        if ui
        else ("TEAMLORE_WEB__ENABLED is false" if web else "needs the web part")
    )
    if describe_only:
        out.append(Frontend("webui", ui, ui_why))
    else:
        from memory_core import ApiKeys
        from webui import WebUI

        webui = WebUI(core, ApiKeys(core), settings.web, public_url=settings.http.public_url)
        out.append(Frontend("webui", ui, ui_why, mounts=[("/", webui.app)]))

    slack = settings.slack
    if not slack.enabled:
        out.append(
            Frontend("slack", False, "set TEAMLORE_SLACK__BOT_TOKEN and a signing secret or app token")
        )
    elif "slack" not in parts:
        out.append(Frontend("slack", False, "not in --only"))
    elif describe_only:
        http_why = f"HTTP events at {address}{slack.events_path}" if web else "HTTP mode needs the web part"
        socket_why = "Socket Mode (TEAMLORE_SLACK__APP_TOKEN)"
        out.append(Frontend("slack", slack.socket_mode or web, socket_why if slack.socket_mode else http_why))
    else:
        from bots.slack import SlackBot

        bot = SlackBot(core, tenants, slack)
        if slack.socket_mode:
            out.append(
                Frontend(
                    "slack",
                    True,
                    "Socket Mode (TEAMLORE_SLACK__APP_TOKEN)",
                    service=bot.run_socket_mode,
                    lifespans=[bot.lifespan],
                )
            )
        else:
            out.append(
                Frontend(
                    "slack",
                    web,
                    f"HTTP events at {address}{slack.events_path}" if web else "HTTP mode needs the web part",
                    routes=bot.routes(),
                    lifespans=[bot.lifespan],
                )
            )

    discord = settings.discord
    if discord.token is None:
        out.append(Frontend("discord", False, "set TEAMLORE_DISCORD__TOKEN"))
    else:
        on, service = "discord" in parts, None
        if on and not describe_only:
            from bots.discord.bot import run_discord

            service = functools.partial(run_discord, core, discord, tenants)
        out.append(Frontend("discord", on, "gateway" if on else "not in --only", service=service))

    mail = settings.mail
    if not mail.recipients:
        out.append(Frontend("mail", False, "set TEAMLORE_MAIL__RECIPIENTS"))
    else:
        on, service = "mail" in parts, None
        if on and not describe_only:
            from mailer.server import run_smtp

            service = functools.partial(run_smtp, core, mail, tenants)
        out.append(
            Frontend(
                "mail", on, f"SMTP on {mail.host}:{mail.port}" if on else "not in --only", service=service
            )
        )

    alerts = settings.alerts
    notifiers = ", ".join(alerts.notifier_names) or "none"
    on, service = "scheduler" in parts, None
    if on and not describe_only:
        from scheduler.runner import run_scheduler

        service = functools.partial(
            run_scheduler,
            core,
            alerts,
            tenants=tenants.tenants if not tenants.is_open else [],
            web_url=settings.http.public_url,
        )
    out.append(
        Frontend(
            "scheduler", on, f"jobs with notifiers: {notifiers}" if on else "not in --only", service=service
        )
    )
    return out
