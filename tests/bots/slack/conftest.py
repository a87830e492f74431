"""Fixtures for the Slack tests: a recording fake Slack, and teamlore's endpoint served by uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bots.slack import SlackBot
from memory_core import MemoryCore, TenantMap
from tests.bots.slack.fake_slack import RecordingSlack, serve_asgi

from .slack_support import Endpoint, Serve, make_settings


@pytest.fixture
async def slack() -> AsyncIterator[RecordingSlack]:
    async with RecordingSlack() as fake:
        yield fake


@pytest.fixture
def serve(core: MemoryCore, slack: RecordingSlack) -> Serve:
    """Serve a SlackBot built with the given tenant map and setting overrides."""

    @asynccontextmanager
    async def serving(tenants: TenantMap | None = None, **overrides: Any) -> AsyncIterator[Endpoint]:
        settings = make_settings(slack, **overrides)
        bot = SlackBot(core, tenants or TenantMap(), settings)
        async with serve_asgi(Starlette(routes=bot.routes())) as base, httpx.AsyncClient(timeout=10) as http:
            yield Endpoint(base + settings.events_path, bot, slack, http, core)
            await bot.aclose()

    return serving


@pytest.fixture
async def endpoint(serve: Serve) -> AsyncIterator[Endpoint]:
    async with serve() as served:
        yield served
