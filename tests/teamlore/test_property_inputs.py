"""Arbitrary strings and JSON numbers through REST, MCP tools and the CLI (issue #14), as a property.

Against one real `teamlore serve` on 127.0.0.1 (REST and MCP over one keep-alive connection), and the
CLI in process: never a 500, never a dropped connection, and nothing stored that the guard or the
character rule should have stopped. Example counts are modest (the machine is shared; CI has a time
budget); the strategies lean on the shapes that broke things before: lone surrogates, NUL and other
controls, direction marks, emoji, 10k-character words, NaN, ±Infinity, huge integers, secrets.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from memory_core import InvalidInput, check_text
from memory_core.hygiene import find_credentials
from teamlore.cli import app
from tests.secret_shapes import SECRETS

from ._served import make_keys, serve

pytestmark = pytest.mark.slow

_ANY_CHARACTER = st.characters(exclude_categories=())  # surrogates (Cs) and controls (Cc) included
_SHAPES = st.sampled_from(
    [
        "\ud800",
        "\udfff",
        "\x00",
        "\x1b[31m",
        "\u200f",
        "\u202e",
        "\u200b",
        "🚀",
        "👩‍💻",
        "x" * 10_000,
        "\r\n",
        " ",
    ]
)
TEXTS = st.one_of(
    st.text(_ANY_CHARACTER, max_size=40),
    st.lists(
        st.one_of(_SHAPES, st.text(max_size=8), st.sampled_from(list(SECRETS.values()))), max_size=5
    ).map("".join),
)
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([math.nan, math.inf, -math.inf, 0, -1, 1e400]),
)
# In CI the examples are drawn the same way every run (a red main must be reproducible); on a developer's
# machine they vary from run to run and keep finding new cases.
PROPERTY = settings(
    derandomize=bool(os.environ.get("CI")),
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _clean(value: Any) -> bool:
    """A stored string passes the character rule and holds no credential."""
    if value is None:
        return True
    if isinstance(value, list):
        return all(_clean(v) for v in value)
    try:
        check_text(str(value), required=False)
    except InvalidInput:
        return False
    return not find_credentials(str(value))


def _assert_stored_clean(memory: dict[str, Any]) -> None:
    for field in ("text", "title", "author", "source_ref", "tags"):
        assert _clean(memory.get(field)), (field, memory.get(field))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    data_dir = tmp_path_factory.mktemp("property") / "data"
    key = make_keys(data_dir, {"fuzzer": ("default", "admin")})["fuzzer"]
    env = {
        "TEAMLORE_API__RATE_LIMIT_PER_MINUTE": "100000",
        "TEAMLORE_API__BURST": "100000",
        "TEAMLORE_MCP__RATE_LIMIT_PER_MINUTE": "100000",
        "TEAMLORE_MCP__BURST": "100000",
        "TEAMLORE_MCP__STATELESS": "true",
        "TEAMLORE_MCP__JSON_RESPONSE": "true",
    }
    with serve(data_dir, env) as server:
        yield server.url, key
    logged = server.output()
    assert "unexpected error" not in logged and "Traceback" not in logged, logged[-3000:]


@pytest.fixture(scope="module")
def http(served: tuple[str, str]) -> Iterator[httpx.Client]:
    base, key = served
    # One connection for the whole property: a server that drops it fails the next request.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=30
    ) as client:
        yield client


def _post(http: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    response = http.post(
        path, content=json.dumps(body, allow_nan=True), headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500, response.text[:500]
    assert response.headers.get("connection", "").lower() != "close", "the server closed the connection"
    return response


@PROPERTY
@given(text=TEXTS, title=st.none() | TEXTS, author=st.none() | TEXTS, source_ref=st.none() | TEXTS,
       tags=st.lists(TEXTS, max_size=3), ttl=st.none() | NUMBERS, redact=st.booleans())  # fmt: skip
def test_rest_store_never_fails_and_stores_only_clean_fields(
    http: httpx.Client,
    text: str,
    title: str | None,
    author: str | None,
    source_ref: str | None,
    tags: list[str],
    ttl: float | None,
    redact: bool,
) -> None:
    body = {"text": text, "title": title, "author": author, "source_ref": source_ref, "tags": tags}
    body.update(ttl_days=ttl, redact=redact)
    stored = _post(http, "/api/v1/memories", {k: v for k, v in body.items() if v is not None})
    if stored.status_code in (200, 201):
        _assert_stored_clean(stored.json()["memory"])
        memory_id = stored.json()["id"]
        patched = http.patch(
            f"/api/v1/memories/{memory_id}", json={"title": title} if title else {"tags": tags}
        )
        assert patched.status_code < 500
        if patched.status_code == 200:
            _assert_stored_clean(patched.json())
    else:
        assert set(stored.json()) == {"error", "detail"} and len(stored.content) < 1_000


@PROPERTY
@given(question=TEXTS, limit=NUMBERS, tag=TEXTS)
def test_rest_query_never_fails(http: httpx.Client, question: str, limit: float, tag: str) -> None:
    _post(http, "/api/v1/query", {"question": question, "limit": limit, "tags": [tag]})
    _post(http, "/api/v1/query", {"question": question})
    assert http.get("/api/v1/tags").status_code == 200


@PROPERTY
@given(text=TEXTS, title=st.none() | TEXTS, tags=st.lists(TEXTS, max_size=3), ttl=st.none() | NUMBERS,
       question=TEXTS, limit=NUMBERS, memory_id=NUMBERS)  # fmt: skip
def test_mcp_tools_never_fail(
    http: httpx.Client,
    text: str,
    title: str | None,
    tags: list[str],
    ttl: float | None,
    question: str,
    limit: float,
    memory_id: float,
) -> None:
    calls = [
        (
            "store_memory",
            {"text": text, "title": title, "tags": tags, "ttl_days": ttl, "redact_secrets": True},
        ),
        ("query_memories", {"question": question, "limit": limit}),
        ("get_memory", {"memory_id": memory_id}),
    ]
    for number, (tool, arguments) in enumerate(calls):
        request = {"jsonrpc": "2.0", "id": number, "method": "tools/call"}
        request["params"] = {"name": tool, "arguments": {k: v for k, v in arguments.items() if v is not None}}
        response = http.post(
            "/mcp",
            content=json.dumps(request, allow_nan=True),
            headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
        )
        assert response.status_code < 500, response.text[:500]
        reply = response.json()
        assert "internal error" not in response.text, reply
        if tool == "store_memory" and "result" in reply and not reply["result"].get("isError"):
            got = _post(http, "/api/v1/query", {"question": "x"})  # the connection still serves
            assert got.status_code == 200
            stored = http.get(f"/api/v1/memories/{reply['result']['structuredContent']['id']}")
            _assert_stored_clean(stored.json())


@settings(
    derandomize=bool(os.environ.get("CI")),
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=TEXTS, title=st.none() | TEXTS, tag=TEXTS)
def test_cli_store_never_crashes_and_stores_only_clean_fields(
    tmp_path_factory: pytest.TempPathFactory, text: str, title: str | None, tag: str
) -> None:
    data = tmp_path_factory.mktemp("cli")
    env = {"TEAMLORE_DATA_DIR": str(data), "TEAMLORE_CORE__EMBEDDING_MODEL": "test-hashing"}
    # "--" ends the options: a text starting with "-" is still the text.
    args = [
        "store",
        f"--tag={tag}",
        "--redact",
        "--json",
        *([f"--title={title}"] if title else []),
        "--",
        text,
    ]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output and "internal" not in result.output
    if result.exit_code == 0:
        exported = CliRunner().invoke(app, ["export"], env=env)
        for line in exported.stdout.splitlines():
            _assert_stored_clean(json.loads(line))
