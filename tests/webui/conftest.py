"""Fixtures of the web app's view tests: the full ASGI app over a real core, and signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from memory_core import ApiKeys, MemoryCore, Scope
from teamlore.web import create_app
from webui import WebSettings, WebUI

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


@dataclass
class Web:
    core: MemoryCore
    keys: ApiKeys
    ui: WebUI
    transport: httpx.ASGITransport

    base_url: str = "http://testserver"

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, base_url=self.base_url)

    async def key(self, scope: Scope | str = Scope.WRITE, tenant: str = "default", name: str = "") -> str:
        secret, _info = await self.keys.create(tenant, scope, name or f"{scope}-key")
        return secret

    async def signed_in(self, scope: Scope | str = Scope.WRITE, tenant: str = "default") -> httpx.AsyncClient:
        """A client signed in with a new key (its actor is the key's: apikey:<id>)."""
        async with self.client() as first:
            assert (await signin(first, await self.key(scope, tenant))).status_code == 303
        client = self.client()  # unopened, so tests can `async with` it
        client.cookies = first.cookies
        return client


async def signin(client: httpx.AsyncClient, key: str, next_: str = "/") -> httpx.Response:
    page = await client.get("/signin")
    return await client.post("/signin", data={"key": key, "csrf": csrf_of(page.text), "next": next_})


async def post(client: httpx.AsyncClient, page: str, url: str, data: dict[str, str]) -> httpx.Response:
    """Submit a form the way a browser does: with the CSRF token of the page it is on."""
    html = (await client.get(page)).text
    return await client.post(url, data={"csrf": csrf_of(html), **data})


def make_web(core: MemoryCore, **settings: object) -> Web:
    public_url = settings.pop("public_url", None)
    keys = ApiKeys(core)
    ui = WebUI(core, keys, WebSettings(**settings), public_url=public_url)  # type: ignore[arg-type]
    app = create_app(core, mounts=[("/", ui.app)])
    base = "https://testserver" if public_url else "http://testserver"
    return Web(core, keys, ui, httpx.ASGITransport(app=app), base)


@pytest.fixture
async def web(core: MemoryCore) -> Web:
    return make_web(core)


WebFactory = Callable[..., Web]
Signer = Callable[..., Awaitable[httpx.AsyncClient]]
