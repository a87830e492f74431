"""`teamlore web link` through typer's CliRunner: the link it prints signs one person in, once."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import anyio
from typer.testing import CliRunner

from memory_core import MemoryCore
from memory_core.testing import open_test_core
from teamlore.cli.web import build_web_app
from webui import WebSettings

from .conftest import csrf_of, make_web


def test_link_signs_in_once_with_the_scope_asked_for(tmp_path: Path) -> None:
    data = tmp_path / "data"

    @asynccontextmanager
    async def open_core() -> AsyncIterator[MemoryCore]:
        async with open_test_core(data) as core:
            yield core

    app = build_web_app(open_core, lambda: "https://lore.example.com/", WebSettings)
    made = CliRunner().invoke(
        app, ["link", "--tenant", "acme", "--scope", "write", "--name", "bob", "--json"]
    )
    assert made.exit_code == 0, made.output
    answer = json.loads(made.stdout)
    assert answer["url"].startswith("https://lore.example.com/signin/link?token=")
    assert answer["expires_in_minutes"] == 15
    target = urlsplit(answer["url"])
    plain = CliRunner().invoke(app, ["link"])
    assert plain.exit_code == 0 and re.fullmatch(
        r"https://lore\.example\.com/signin/link\?token=\S+\n", plain.stdout
    )
    bad = CliRunner().invoke(app, ["link", "--tenant", "Not A Tenant"])
    assert bad.exit_code == 1 and "error" in bad.output

    async def use() -> None:
        async with open_core() as core:
            web = make_web(core)
            async with web.client() as client:
                shown = await client.get(f"{target.path}?{target.query}")
                token = re.search(r'name="token" value="([^"]+)"', shown.text)
                assert token
                done = await client.post(
                    target.path, data={"token": token.group(1), "csrf": csrf_of(shown.text)}
                )
                assert done.status_code == 303
                stats = await client.get("/stats")
                assert "Statistics of acme" in stats.text and "bob" in stats.text
                assert (await client.get("/store")).status_code == 200  # write scope

    anyio.run(use)
