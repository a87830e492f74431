"""teamlore.client against a real `teamlore serve` on 127.0.0.1: every method, every error, retries."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from teamlore.client import (
    APIError,
    AsyncClient,
    AuthenticationError,
    Client,
    Finding,
    Hit,
    InvalidInputError,
    Memory,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    QualityReport,
    RateLimitedError,
    Reflection,
    RequestTimeout,
    ServerError,
    Stats,
    StoreResult,
    TagCount,
    TeamloreClientError,
    TooLargeError,
    UnavailableError,
)

from ._served import Served, free_port, make_keys, serve

WRONG_KEY = "tlk_00000000_" + "x" * 43


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, dict[str, str]]]:
    data_dir = tmp_path_factory.mktemp("client") / "data"
    keys = make_keys(
        data_dir,
        {
            "writer": ("default", "write"),
            "reader": ("default", "read"),
            "admin": ("default", "admin"),
            "other": ("other", "write"),
        },
    )
    env = {"TEAMLORE_API__RATE_LIMIT_PER_MINUTE": "100000", "TEAMLORE_API__BURST": "100000"}
    with serve(data_dir, env) as served:
        yield served, keys


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, dict[str, str]]]:
    """A server that lets each key make one request at once and one a second: 429s on demand."""
    data_dir = tmp_path_factory.mktemp("limited") / "data"
    keys = make_keys(data_dir, dict.fromkeys(("ok", "raise", "aok", "araise"), ("default", "read")))
    env = {"TEAMLORE_API__RATE_LIMIT_PER_MINUTE": "60", "TEAMLORE_API__BURST": "1"}
    with serve(data_dir, env) as served:
        yield served, keys


# --- every method ---


def test_every_method(server: tuple[Served, dict[str, str]]) -> None:
    served, keys = server
    with Client(served.url, keys["writer"]) as lore:
        stored = lore.store(
            "Deploys to production happen only on Tuesdays and Thursdays",
            tags=["release", "#Deploy"],
            importance="high",
            kind="decision",
            title="Deploy days",
            source_ref="https://wiki.example.com/deploys",
            ttl_days=365,
        )
        assert isinstance(stored, StoreResult) and stored.created and stored.duplicate_of is None
        memory = stored.memory
        assert isinstance(memory, Memory) and memory.id == stored.id
        assert memory.tags == ("release", "deploy") and memory.kind == "decision"
        assert memory.importance == "high" and memory.source == "api" and memory.author == "writer"
        assert memory.title == "Deploy days" and memory.source_ref == "https://wiki.example.com/deploys"
        assert isinstance(memory.created_at, datetime) and memory.created_at.tzinfo is not None
        assert memory.expires_at is not None and memory.expires_at > datetime.now(UTC) + timedelta(days=300)

        again = lore.store("deploys to production happen only on tuesdays and thursdays")
        assert again.created is False and again.duplicate_of == stored.id

        other = lore.store("The VPN moved to vpn2.corp.example.com", tags=["infra"], author="alice")

        since = datetime.now(UTC) - timedelta(hours=1)
        hits = lore.query(
            "when do we deploy to production?",
            limit=3,
            tags=["release"],
            kind="decision",
            source="api",
            author="writer",
            since=since,
            until=datetime.now(UTC) + timedelta(hours=1),
            mode="hybrid",
            include_expired=True,
        )
        assert [h.memory.id for h in hits] == [stored.id]
        assert isinstance(hits[0], Hit) and hits[0].score > 0 and hits[0].breakdown.final == hits[0].score
        assert lore.query("vpn", mode="keyword", author="alice")[0].memory.id == other.id
        assert lore.query("vpn", tags=["release"]) == []

        fetched = lore.get(stored.id)
        assert fetched == dataclasses.replace(
            memory, access_count=fetched.access_count, last_accessed_at=fetched.last_accessed_at
        )

        changed = lore.update(stored.id, tags=["release", "policy"], importance="critical", title="Days")
        assert changed.tags == ("release", "policy") and changed.importance == "critical"
        assert lore.update(stored.id, clear_expiry=True).expires_at is None

        recent = lore.recent(limit=10)
        assert [m.id for m in recent] == [other.id, stored.id]
        assert [m.id for m in lore.recent(tags=["infra"])] == [other.id]
        assert [m.id for m in lore.recent(kind="decision", since=since)] == [stored.id]

        draft = lore.reflect("deploys", dry_run=True)
        assert isinstance(draft, Reflection) and draft.id is None and stored.id in draft.sources
        saved = lore.reflect("deploys", tags=["release"], since=since)
        assert saved.id is not None and lore.get(saved.id).kind == "reflection"

        report = lore.quality(save=True)
        assert isinstance(report, QualityReport) and 0 <= report.score <= 100 and report.id is not None
        assert all(isinstance(f, Finding) for f in report.findings)
        later = lore.quality()
        assert later.id is None and later.trend[-1].score == report.score  # the saved one is in the trend

        stats = lore.stats()
        assert isinstance(stats, Stats) and stats.tenant == "default" and stats.memories == 3
        assert stats.by_kind["decision"] == 1 and stats.embedding_model.startswith("test-hashing")

        tags = lore.tags()
        assert all(isinstance(t, TagCount) for t in tags)
        assert {t.tag: t.count for t in tags}["release"] == 2  # the decision and the reflection

        lore.forget(other.id)
        with pytest.raises(NotFoundError):
            lore.get(other.id)


def test_tenants_are_kept_apart(server: tuple[Served, dict[str, str]]) -> None:
    served, keys = server
    with Client(served.url, keys["writer"]) as mine, Client(served.url, keys["other"]) as theirs:
        memory_id = mine.store("only the default tenant knows about the blue door").id
        with pytest.raises(NotFoundError):
            theirs.get(memory_id)
        assert theirs.query("blue door") == []


def test_settings_from_the_environment(
    server: tuple[Served, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    served, keys = server
    monkeypatch.setenv("TEAMLORE_URL", served.url + "/")
    monkeypatch.setenv("TEAMLORE_API_KEY", keys["reader"])
    with Client() as lore:
        assert lore.base_url == served.url and lore.stats().tenant == "default"
        assert keys["reader"] not in repr(lore)
    monkeypatch.delenv("TEAMLORE_API_KEY")
    with pytest.raises(TeamloreClientError, match="TEAMLORE_API_KEY"):
        Client()


# --- every error class ---


def test_each_error_class(server: tuple[Served, dict[str, str]]) -> None:
    served, keys = server
    with Client(served.url, WRONG_KEY) as stranger, pytest.raises(AuthenticationError) as auth:
        stranger.stats()
    assert auth.value.status == 401 and auth.value.detail

    with Client(served.url, keys["reader"]) as reader, pytest.raises(PermissionDeniedError) as denied:
        reader.store("readers cannot store")
    assert denied.value.status == 403 and "write" in str(denied.value)

    with Client(served.url, keys["writer"]) as writer:
        memory_id = writer.store("a memory the admin will forget").id
        with pytest.raises(NotFoundError) as missing:
            writer.get(987654)
        assert missing.value.status == 404

        with pytest.raises(InvalidInputError) as invalid:
            writer.store("staging password=hunter2hunter2")
        assert invalid.value.status == 422 and "secret" in str(invalid.value)
        with pytest.raises(InvalidInputError):
            writer.store("a kind the core refuses", kind="Not A Kind")

        with pytest.raises(InvalidInputError) as large:
            writer.store("x" * 20_001)
        # Today the core's TooLarge is a 422 "invalidinput"; with a 413 or a too_large code it is TooLarge.
        if large.value.status == 413 or (large.value.code or "").replace("_", "") == "toolarge":
            assert isinstance(large.value, TooLargeError)

    with Client(served.url, keys["other"]) as other, pytest.raises(NotFoundError):
        other.forget(memory_id)
    with Client(served.url, keys["admin"]) as admin:
        admin.forget(memory_id)


def test_network_error_and_timeout() -> None:
    with Client(f"http://127.0.0.1:{free_port()}", WRONG_KEY) as nobody, pytest.raises(NetworkError) as down:
        nobody.stats()
    assert not isinstance(down.value, RequestTimeout)

    with socket.socket() as silent:  # accepts connections (the backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with Client(url, WRONG_KEY, timeout=0.3) as slow, pytest.raises(RequestTimeout):
            slow.stats()


# --- 429: retried, honouring Retry-After, then raised ---


def test_429_is_retried_after_the_wait_the_server_asks(limited: tuple[Served, dict[str, str]]) -> None:
    served, keys = limited
    attempts: list[int] = []

    def count(response: httpx.Response) -> None:
        attempts.append(response.status_code)

    with (
        httpx.Client(event_hooks={"response": [count]}) as http,
        Client(served.url, keys["ok"], http_client=http) as lore,
    ):
        lore.stats()  # takes the one token
        start = time.monotonic()
        assert lore.stats().tenant == "default"
        waited = time.monotonic() - start
    assert attempts == [200, 429, 200]
    assert waited >= 0.9  # Retry-After: 1


def test_429_retried_until_the_limit_then_raised(limited: tuple[Served, dict[str, str]]) -> None:
    served, keys = limited
    attempts: list[int] = []

    def count(response: httpx.Response) -> None:
        attempts.append(response.status_code)

    with (
        httpx.Client(event_hooks={"response": [count]}) as http,
        Client(served.url, keys["raise"], http_client=http, max_retries=2, max_retry_wait=0.05) as lore,
    ):
        lore.stats()
        with pytest.raises(RateLimitedError) as limited_error:
            lore.stats()
    assert attempts == [200, 429, 429, 429]
    assert limited_error.value.status == 429 and limited_error.value.retry_after == 1.0


# --- the mapping table, old and new error bodies, and 503 (which a healthy server never answers) ---


def _scripted(*answers: tuple[int, dict[str, str], object]) -> httpx.Client:
    queue = list(answers)

    def handler(_request: httpx.Request) -> httpx.Response:
        status, headers, body = queue.pop(0)
        return httpx.Response(status, headers=headers, content=json.dumps(body).encode())

    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"error": "unknownidentity", "detail": "unknown API key"}, AuthenticationError),
        (401, {"error": "unknown_identity", "code": "unknown_identity", "detail": "x"}, AuthenticationError),
        (403, {"error": "permissiondenied", "detail": "x"}, PermissionDeniedError),
        (404, {"error": "notfound", "detail": "no memory #4"}, NotFoundError),
        (404, {"code": "not_found", "detail": "no memory #4"}, NotFoundError),
        (422, {"error": "invalidinput", "detail": "x"}, InvalidInputError),
        (422, {"error": "invalid_input", "detail": "x"}, InvalidInputError),
        (422, {"code": "too_large", "detail": "x"}, TooLargeError),
        (413, {"error": "too_large", "detail": "x"}, TooLargeError),
        (413, {}, TooLargeError),
        (400, {"code": "not_found"}, InvalidInputError),  # the status decides the family
        (418, {"code": "not_found"}, NotFoundError),  # an unknown status: the code decides
        (500, {"error": "internal", "detail": "internal error (ref ab12cd)", "ref": "ab12cd"}, ServerError),
        (502, {}, ServerError),
    ],
)
def test_error_mapping_by_status_then_code(status: int, body: dict[str, str], expected: type) -> None:
    with (
        _scripted((status, {}, body)) as http,
        Client("http://teamlore", WRONG_KEY, http_client=http) as lore,
        pytest.raises(APIError) as raised,
    ):
        lore.stats()
    assert type(raised.value) is expected and raised.value.status == status
    if status == 500:
        assert raised.value.reference == "ab12cd"


def test_503_is_retried_then_raised_with_retry_after() -> None:
    stats = {"tenant": "default", "memories": 2}
    busy = (503, {"Retry-After": "0"}, {"error": "unavailable", "detail": "busy"})
    with (
        _scripted(busy, (200, {}, stats)) as http,
        Client("http://teamlore", WRONG_KEY, http_client=http) as lore,
    ):
        assert lore.stats().memories == 2
    with (
        _scripted(busy, busy, busy) as http,
        Client("http://teamlore", WRONG_KEY, http_client=http, max_retries=2) as lore,
        pytest.raises(UnavailableError) as raised,
    ):
        lore.stats()
    assert isinstance(raised.value, ServerError) and raised.value.retry_after == 0.0


# --- the async client, against the same server ---


@pytest.mark.anyio
async def test_async_every_method(server: tuple[Served, dict[str, str]]) -> None:
    served, keys = server
    async with AsyncClient(served.url, keys["writer"]) as lore:
        stored = await lore.store("The async client stores the lunch order", tags=["async"], kind="note")
        assert stored.created and stored.memory.tags == ("async",)
        assert (await lore.store("the async client stores the lunch order")).duplicate_of == stored.id
        hits = await lore.query(
            "lunch order",
            limit=2,
            tags=["async"],
            kind="note",
            source="api",
            author="writer",
            since=datetime.now(UTC) - timedelta(hours=1),
            until=datetime.now(UTC) + timedelta(hours=1),
            mode="vector",
        )
        assert [h.memory.id for h in hits] == [stored.id]
        assert (await lore.get(stored.id)).text == stored.memory.text
        assert (await lore.update(stored.id, text="The async client stores the lunch orders")).text.endswith(
            "orders"
        )
        assert (await lore.recent(tags=["async"]))[0].id == stored.id
        assert stored.id in (await lore.reflect("lunch", tags=["async"], dry_run=True)).sources
        assert 0 <= (await lore.quality()).score <= 100
        assert (await lore.stats()).memories >= 1
        assert "async" in {t.tag for t in await lore.tags()}
        await lore.forget(stored.id)
        with pytest.raises(NotFoundError):
            await lore.get(stored.id)


@pytest.mark.anyio
async def test_async_errors(server: tuple[Served, dict[str, str]]) -> None:
    served, keys = server
    async with AsyncClient(served.url, WRONG_KEY) as stranger:
        with pytest.raises(AuthenticationError):
            await stranger.tags()
    async with AsyncClient(served.url, keys["reader"]) as reader:
        with pytest.raises(PermissionDeniedError):
            await reader.store("readers cannot store")
        with pytest.raises(NotFoundError):
            await reader.get(987654)
    async with AsyncClient(served.url, keys["writer"]) as writer:
        with pytest.raises(InvalidInputError):
            await writer.store("token: ghp_" + "a" * 36)
    async with AsyncClient(f"http://127.0.0.1:{free_port()}", WRONG_KEY) as nobody:
        with pytest.raises(NetworkError):
            await nobody.stats()


@pytest.mark.anyio
async def test_async_429_retried_then_raised(limited: tuple[Served, dict[str, str]]) -> None:
    served, keys = limited
    attempts: list[int] = []

    async def count(response: httpx.Response) -> None:
        attempts.append(response.status_code)

    async with (
        httpx.AsyncClient(event_hooks={"response": [count]}) as http,
        AsyncClient(served.url, keys["aok"], http_client=http) as lore,
    ):
        await lore.stats()
        assert (await lore.stats()).tenant == "default"
    assert attempts == [200, 429, 200]

    attempts.clear()
    async with (
        httpx.AsyncClient(event_hooks={"response": [count]}) as http,
        AsyncClient(served.url, keys["araise"], http_client=http, max_retries=1, max_retry_wait=0.05) as lore,
    ):
        await lore.stats()
        with pytest.raises(RateLimitedError) as raised:
            await lore.stats()
    assert attempts == [200, 429, 429] and raised.value.retry_after == 1.0


def test_readme_example_script_runs(server: tuple[Served, dict[str, str]], tmp_path: Path) -> None:
    """The README's store script, run as a program with the documented environment variables."""
    import subprocess
    import sys

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    script = readme.split("<!-- client-script:start -->", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "remember.py").write_text(script, "utf-8")
    served, keys = server
    env = {**os.environ, "TEAMLORE_URL": served.url, "TEAMLORE_API_KEY": keys["writer"]}
    result = subprocess.run(
        [sys.executable, str(tmp_path / "remember.py"), "The release train leaves every second Wednesday"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Remembered as #")


def test_the_client_imports_only_httpx_and_the_standard_library() -> None:
    """Programs (and vendored copies) need nothing of the server: checked on the source and at import."""
    import ast
    import subprocess
    import sys

    source = Path(__file__).resolve().parents[2] / "teamlore" / "client.py"
    imported = set()
    for node in ast.walk(ast.parse(source.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: the module stands alone"
            imported.add((node.module or "").split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"httpx"}

    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, teamlore.client; print(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(source.parents[1])},
    ).stdout.split()
    assert not [m for m in loaded if m.split(".")[0] in ("memory_core", "fastapi", "pydantic", "sqlalchemy")]


def test_readme_notebook_snippet_builds_its_frame(server: tuple[Served, dict[str, str]]) -> None:
    """The README's pandas snippet against the real server; pandas is not a dependency, so a recorder
    stands in for it and shows the rows the snippet hands to DataFrame."""
    import sys
    import types

    served, keys = server
    with Client(served.url, keys["writer"]) as lore:
        lore.store("We decided that deploys need two approvals", kind="decision", tags=["deploys"])
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    snippet = (
        readme.split("<!-- client-notebook:start -->", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    )
    snippet = snippet.replace('"http://127.0.0.1:8080"', repr(served.url)).replace(
        '"tlk_…"', repr(keys["writer"])
    )
    frames: list[Any] = []

    class DataFrame:
        def __init__(self, rows: list[dict[str, Any]]) -> None:
            self.rows, self.index = rows, None
            frames.append(self)

        def set_index(self, column: str) -> DataFrame:
            assert all(column in row for row in self.rows)
            self.index = column
            return self

        def __getitem__(self, columns: list[str]) -> list[list[Any]]:
            return [[row[c] for c in columns] for row in self.rows]

    fake = types.ModuleType("pandas")
    fake.DataFrame = DataFrame  # type: ignore[attr-defined]
    saved = sys.modules.get("pandas")
    sys.modules["pandas"] = fake
    namespace: dict[str, Any] = {}
    try:
        exec(compile(snippet, "README.md", "exec"), namespace)
    finally:
        if "lore" in namespace:
            namespace["lore"].close()
        if saved is None:
            del sys.modules["pandas"]
        else:
            sys.modules["pandas"] = saved
    (frame,) = frames
    assert frame.index == "id" and frame.rows
    assert all(row["kind"] == "decision" and isinstance(row["score"], float) for row in frame.rows)
    assert any("two approvals" in row["text"] for row in frame.rows)
