"""Which front-ends run (the plan) and how each is built from its settings section: wiring, nothing more."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from starlette.routing import BaseRoute

from bots.discord.bot import run_discord
from bots.slack import SlackBot
from mailer.server import run_smtp
from mcp_server.http_app import build_mcp_http_app
from memory_core import ApiKeys, MemoryCore
from scheduler.runner import run_scheduler
from webhooks import WebhookReceiver
from webui import WebUI

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


def build_plan(core: MemoryCore, settings: Settings, parts: set[str]) -> Plan:
    """Decide what runs. Each front-end is enabled by its credentials (and by --only)."""
    return Plan(build_all(core, settings, parts))


def build_all(core: MemoryCore, settings: Settings, parts: set[str]) -> list[Frontend]:
    """One Frontend per front-end, enabled when its credentials are set and --only allows it."""
    tenants = settings.tenant_map()
    web = "web" in parts
    out: list[Frontend] = []

    address = f"http://{settings.http.host}:{settings.http.port}"
    out.append(Frontend("web", web, f"{address} (health, metrics, REST API)" if web else "not in --only"))

    mcp = build_mcp_http_app(core, ApiKeys(core), settings.mcp)
    out.append(
        Frontend(
            "mcp-http",
            web,
            f"{address}/mcp (API keys)" if web else "needs the web part",
            routes=mcp.routes("/mcp"),
            lifespans=[mcp.lifespan],
        )
    )

    hooks = WebhookReceiver(core, settings.webhooks, tenants, settings.webhook_key)
    github = " and /hooks/github" if settings.webhooks.github_secret else ""
    out.append(
        Frontend(
            "webhooks",
            web,
            f"{address}/hooks/{{name}}{github}" if web else "needs the web part",
            routes=hooks.routes(),
        )
    )

    ui = settings.web.enabled and web
    out.append(
        Frontend(
            "webui",
            ui,
            f"{settings.http.public_url or address}/ (sign in with an API key)"
            if ui
            else ("TEAMLORE_WEB__ENABLED is false" if web else "needs the web part"),
            mounts=[("/", WebUI(core, ApiKeys(core), settings.web, public_url=settings.http.public_url).app)],
        )
    )

    slack = settings.slack
    if not slack.enabled:
        out.append(
            Frontend("slack", False, "set TEAMLORE_SLACK__BOT_TOKEN and a signing secret or app token")
        )
    elif "slack" not in parts:
        out.append(Frontend("slack", False, "not in --only"))
    else:
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
        out.append(
            Frontend(
                "discord",
                "discord" in parts,
                "gateway" if "discord" in parts else "not in --only",
                service=functools.partial(run_discord, core, discord, tenants),
            )
        )

    mail = settings.mail
    if not mail.recipients:
        out.append(Frontend("mail", False, "set TEAMLORE_MAIL__RECIPIENTS"))
    else:
        out.append(
            Frontend(
                "mail",
                "mail" in parts,
                f"SMTP on {mail.host}:{mail.port}" if "mail" in parts else "not in --only",
                service=functools.partial(run_smtp, core, mail, tenants),
            )
        )

    alerts = settings.alerts
    notifiers = ", ".join(alerts.notifier_names) or "none"
    out.append(
        Frontend(
            "scheduler",
            "scheduler" in parts,
            f"jobs with notifiers: {notifiers}" if "scheduler" in parts else "not in --only",
            service=functools.partial(
                run_scheduler,
                core,
                alerts,
                tenants=tenants.tenants if not tenants.is_open else [],
                web_url=settings.http.public_url,
            ),
        )
    )
    return out
