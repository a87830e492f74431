"""A real `teamlore serve` on 127.0.0.1 and one headless Chromium (Debian's), shared by the browser tests.

Playwright for Python drives /usr/bin/chromium (browser downloads are impossible: `.ci/run` installs the
Debian package). Each test gets a fresh browser context, so cookies never leak between tests. The server
lives for the session, the browser for a module (see `browser`).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import pytest

from memory_core import ApiKeys, CoreSettings, MemoryCore, Scope
from memory_core.testing import HashingEmbedder

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("TEAMLORE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The README's screenshots are rewritten only on request (`make screenshots`): the pages show times and
# ids, so writing them on every run would leave every `make test` with a dirty work tree.
if os.environ.get("TEAMLORE_UPDATE_SCREENSHOTS") == "1":
    SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
else:
    SCREENSHOTS = Path(tempfile.gettempdir()) / "teamlore-screenshots"


@dataclass(frozen=True)
class Server:
    url: str
    keys: dict[str, str]  # scope -> a key of tenant "default"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _make_keys(data_dir: Path) -> dict[str, str]:
    async with await MemoryCore.open(CoreSettings(data_dir=data_dir), embedder=HashingEmbedder()) as core:
        keys = ApiKeys(core)
        return {s.value: (await keys.create("default", s, f"{s.value} tester"))[0] for s in Scope}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API may already run a loop in this thread
        keys = pool.submit(anyio.run, _make_keys, data_dir).result()
    port = _free_port()
    env = {
        **os.environ,
        "TEAMLORE_DATA_DIR": str(data_dir),
        "TEAMLORE_CORE__EMBEDDING_MODEL": "test-hashing",
        "TEAMLORE_HTTP__PORT": str(port),
    }
    log = (data_dir.parent / "serve.log").open("w")
    proc = subprocess.Popen(
        [Path(sys.executable).with_name("teamlore"), "serve", "--only", "web"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (data_dir.parent / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "teamlore serve did not become ready"
            time.sleep(0.2)
        yield Server(url, keys)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


# Module scope, not session: while Playwright's sync API runs it holds an event loop in this thread, and
# the anyio tests collected after the browser tests need the thread to themselves.
@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: sync_api.Browser, server: Server) -> Iterator[sync_api.Page]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1100, "height": 800})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page: sync_api.Page, key: str, start: str = "/search") -> None:
    page.goto(start)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    sync_api.expect(page).to_have_url(re.compile(re.escape(start) + "$"))


def shot(page: sync_api.Page, name: str, *, full_page: bool = True) -> None:
    """Save a screenshot of a main page: into docs/screenshots for the README with `make screenshots`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
