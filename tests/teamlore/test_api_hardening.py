"""Issue #14 on REST: every field × the five secret shapes, error codes and shapes, the red-team 500s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from memory_core import ApiKeys, ConfigurationError, MemoryCore, ModelMismatch
from teamlore.api import ApiSettings
from teamlore.web import create_app
from tests.secret_shapes import CASE_IDS, CASES, SECRETS, carrying, leaked

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(core: MemoryCore) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(core, api=ApiSettings(rate_limit_per_minute=6000, burst=2000))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://teamlore") as http:
        yield http


@pytest.fixture
async def auth(core: MemoryCore) -> dict[str, str]:
    secret, _info = await ApiKeys(core).create("default", "admin", name="ci-bot")
    return {"Authorization": f"Bearer {secret}"}


def _body(field: str, secret: str) -> dict[str, Any]:
    body: dict[str, Any] = {"text": "the staging deploy moved to Tuesdays"}
    if field == "tags":
        body["tags"] = ["ops", secret]
    else:
        body[field] = carrying(secret)
    return body


async def _everything_stored(client: httpx.AsyncClient, auth: dict[str, str]) -> str:
    memories = (await client.get("/api/v1/memories", headers=auth, params={"limit": 200})).json()
    tags = (await client.get("/api/v1/tags", headers=auth)).json()
    return str(memories) + str(tags)


@pytest.mark.parametrize(("field", "name"), CASES, ids=CASE_IDS)
async def test_rest_refuses_or_redacts_a_secret_in_every_field(
    client: httpx.AsyncClient, auth: dict[str, str], field: str, name: str
) -> None:
    secret = SECRETS[name]
    refused = await client.post("/api/v1/memories", headers=auth, json=_body(field, secret))
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "credential_detected" and not leaked(secret, refused.text)

    redacted = await client.post(
        "/api/v1/memories", headers=auth, json={**_body(field, secret), "redact": True}
    )
    assert redacted.status_code == 201 and redacted.json()["redacted"], redacted.text
    assert not leaked(secret, redacted.text)

    if field in ("text", "title", "tags"):  # what PATCH can change
        patch = {k: v for k, v in _body(field, secret).items() if k == field}
        memory_id = redacted.json()["id"]
        patched = await client.patch(f"/api/v1/memories/{memory_id}", headers=auth, json=patch)
        assert patched.status_code == 422 and patched.json()["error"] == "credential_detected"
    assert not leaked(secret, await _everything_stored(client, auth))


async def test_a_secret_in_a_query_is_not_quoted_by_the_quality_report(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await client.post("/api/v1/memories", headers=auth, json={"text": "the VPN moved to vpn2.corp"})
    for _ in range(2):
        asked = await client.post(
            "/api/v1/query", headers=auth, json={"question": f"token {SECRETS['slack']} rejected?"}
        )
        assert asked.status_code == 200
    report = await client.get("/api/v1/quality", headers=auth)
    assert report.status_code == 200 and "knowledge_gap" in report.text
    assert not leaked(SECRETS["slack"], report.text)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/memories", '{"text": "p", "ttl_days": NaN}'),
        ("/api/v1/memories", '{"text": "p", "ttl_days": Infinity}'),
        ("/api/v1/memories", '{"text": "p", "ttl_days": -Infinity}'),
        ("/api/v1/query", '{"question": "p", "limit": NaN}'),
        ("/api/v1/memories", '{"text": "\\ud800"}'),
        ("/api/v1/memories", '{"text": "ok", "title": "\\udfff"}'),
        ("/api/v1/query", '{"question": "where \\ud800 is"}'),
        ("/api/v1/memories", '{"text": "\\u0000"}'),
        ("/api/v1/memories", '{"text": "\\u200b\\u200f"}'),
        ("/api/v1/memories", '{"text": "ok", "tags": ["\\u0000"]}'),
    ],
)
async def test_red_team_inputs_are_a_clear_422_not_a_500(
    client: httpx.AsyncClient, auth: dict[str, str], path: str, body: str
) -> None:
    headers = {**auth, "Content-Type": "application/json"}
    answer = await client.post(path, headers=headers, content=body.encode())
    assert answer.status_code == 422, answer.text
    assert set(answer.json()) == {"error", "detail"} and answer.json()["error"] == "invalid_input"
    assert (await client.get("/api/v1/memories", headers=auth)).json() == []


async def test_a_validation_error_has_the_documented_shape_and_a_bounded_size(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    huge = "x" * 2_000_000
    answer = await client.post("/api/v1/query", headers=auth, json={"question": huge, "tags": [1] * 100})
    assert answer.status_code == 422
    body = answer.json()
    assert set(body) == {"error", "detail"} and body["error"] == "invalid_input"
    assert len(answer.content) < 1_000 and "question" in body["detail"]
    missing = await client.post("/api/v1/memories", headers=auth, json={})
    assert missing.json() == {"error": "invalid_input", "detail": "body.text: Field required"}


async def test_too_large_is_413_and_configuration_error_is_503(
    core: MemoryCore, client: httpx.AsyncClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    big = await client.post(
        "/api/v1/memories", headers=auth, json={"text": "x" * (core.settings.max_text_chars + 1)}
    )
    assert big.status_code == 413 and big.json()["error"] == "too_large"

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise ConfigurationError("TEAMLORE_CORE__DATABASE_URL points nowhere")

    monkeypatch.setattr(core, "stats", broken)
    answer = await client.get("/api/v1/stats", headers=auth)
    assert answer.status_code == 503 and answer.json()["error"] == "configuration_error"

    async def mismatch(*_args: object, **_kwargs: object) -> None:
        raise ModelMismatch("a", 1, "b", 2)

    monkeypatch.setattr(core, "stats", mismatch)
    answer = await client.get("/api/v1/stats", headers=auth)
    assert answer.status_code == 503 and answer.json()["error"] == "model_mismatch"


async def test_error_codes_are_the_core_classes_codes(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    assert (await client.get("/api/v1/stats")).json()["error"] == "unauthorized"
    assert (await client.get("/api/v1/memories/999", headers=auth)).json()["error"] == "not_found"
    await client.post("/api/v1/memories", headers=auth, json={"text": "one"})
    empty = await client.post("/api/v1/memories", headers=auth, json={"text": "   "})
    assert empty.status_code == 422 and empty.json()["error"] == "invalid_input"


async def test_a_tag_with_a_space_reads_back_the_same_on_the_memory_and_in_tags(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    stored = await client.post("/api/v1/memories", headers=auth, json={"text": "rota", "tags": ["a b"]})
    assert stored.json()["memory"]["tags"] == ["a-b"]
    assert [t["tag"] for t in (await client.get("/api/v1/tags", headers=auth)).json()] == ["a-b"]
