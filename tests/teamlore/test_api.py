"""The REST API and the web app, in process over ASGI: keys, scopes, tenants, errors, rate limit, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from memory_core import ApiKeys, MemoryCore
from teamlore.api import ApiSettings, RateLimiter
from teamlore.web import create_app

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(core: MemoryCore) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(core, api=ApiSettings(rate_limit_per_minute=600, burst=200))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://teamlore") as http:
        yield http


async def key(
    core: MemoryCore, tenant: str = "default", scope: str = "write", name: str = ""
) -> dict[str, str]:
    secret, _info = await ApiKeys(core).create(tenant, scope, name=name)
    return {"Authorization": f"Bearer {secret}"}


async def test_missing_wrong_and_revoked_keys_get_401(core: MemoryCore, client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/stats")).status_code == 401
    wrong = await client.get("/api/v1/stats", headers={"Authorization": "Bearer tlk_00000000_" + "x" * 43})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    secret, info = await ApiKeys(core).create("default", "read")
    ok = await client.get("/api/v1/stats", headers={"Authorization": f"Bearer {secret}"})
    assert ok.status_code == 200
    await ApiKeys(core).revoke(info.id)
    assert (
        await client.get("/api/v1/stats", headers={"Authorization": f"Bearer {secret}"})
    ).status_code == 401


async def test_store_get_patch_query_delete(core: MemoryCore, client: httpx.AsyncClient) -> None:
    auth = await key(core, name="ci-bot")
    created = await client.post(
        "/api/v1/memories",
        headers=auth,
        json={"text": "The VPN moved to vpn2.corp", "tags": ["infra"], "importance": "high"},
    )
    assert created.status_code == 201
    body = created.json()
    memory_id = body["id"]
    assert (
        body["created"] is True and body["memory"]["author"] == "ci-bot" and body["memory"]["source"] == "api"
    )
    again = await client.post("/api/v1/memories", headers=auth, json={"text": "the vpn moved to VPN2.corp"})
    assert again.status_code == 200 and again.json()["duplicate_of"] == memory_id

    got = await client.get(f"/api/v1/memories/{memory_id}", headers=auth)
    assert got.json()["tags"] == ["infra"]
    patched = await client.patch(
        f"/api/v1/memories/{memory_id}", headers=auth, json={"tags": ["infra", "network"]}
    )
    assert patched.json()["tags"] == ["infra", "network"]
    hits = (await client.post("/api/v1/query", headers=auth, json={"question": "where is the vpn"})).json()
    assert hits[0]["memory"]["id"] == memory_id and "breakdown" in hits[0]
    assert (await client.get("/api/v1/tags", headers=auth)).json()[0]["tag"] == "infra"
    recent = (await client.get("/api/v1/memories", headers=auth, params={"tag": "network"})).json()
    assert [m["id"] for m in recent] == [memory_id]

    assert (await client.delete(f"/api/v1/memories/{memory_id}", headers=auth)).status_code == 204
    missing = await client.get(f"/api/v1/memories/{memory_id}", headers=auth)
    assert missing.status_code == 404 and f"#{memory_id}" in missing.json()["detail"]


async def test_store_names_a_probable_contradiction_and_supersedes_replaces_it(
    core: MemoryCore, client: httpx.AsyncClient
) -> None:
    auth = await key(core, name="ci-bot")
    old = await client.post("/api/v1/memories", headers=auth, json={"text": "Backups are kept for 35 days."})
    new = await client.post(
        "/api/v1/memories", headers=auth, json={"text": "Backups are kept for 14 days now."}
    )
    old_id, body = old.json()["id"], new.json()
    (maybe,) = body["contradicts"]
    assert maybe["id"] == old_id and maybe["author"] == "ci-bot" and "14 days" in maybe["reason"]
    again = await client.post(
        "/api/v1/memories",
        headers=auth,
        json={"text": "Backups are kept for 14 days now.", "supersedes": old_id},
    )
    assert again.status_code == 200 and again.json()["memory"]["supersedes"] == old_id
    question = {"question": "how long are backups kept"}
    hits = (await client.post("/api/v1/query", headers=auth, json=question)).json()
    assert [h["memory"]["id"] for h in hits] == [body["id"]]
    history = (
        await client.post("/api/v1/query", headers=auth, json={**question, "include_superseded": True})
    ).json()
    assert {h["memory"]["id"]: h["memory"]["superseded_by"] for h in history}[old_id] == body["id"]


async def test_read_key_cannot_write_and_keys_only_delete_their_own(
    core: MemoryCore, client: httpx.AsyncClient
) -> None:
    reader = await key(core, scope="read")
    refused = await client.post("/api/v1/memories", headers=reader, json={"text": "nope"})
    assert refused.status_code == 403 and "read scope" in refused.json()["detail"]
    writer, other_writer = await key(core), await key(core)
    memory_id = (await client.post("/api/v1/memories", headers=writer, json={"text": "mine"})).json()["id"]
    denied = await client.delete(f"/api/v1/memories/{memory_id}", headers=other_writer)
    assert denied.status_code == 403
    admin = await key(core, scope="admin")
    assert (await client.delete(f"/api/v1/memories/{memory_id}", headers=admin)).status_code == 204


async def test_two_tenants_never_see_each_other(core: MemoryCore, client: httpx.AsyncClient) -> None:
    acme, globex = await key(core, "acme"), await key(core, "globex")
    secret_id = (
        await client.post("/api/v1/memories", headers=acme, json={"text": "acme launch codename is falcon"})
    ).json()["id"]
    assert (await client.get(f"/api/v1/memories/{secret_id}", headers=globex)).status_code == 404
    hits = (
        await client.post("/api/v1/query", headers=globex, json={"question": "launch codename falcon"})
    ).json()
    assert hits == []
    assert (await client.get("/api/v1/stats", headers=globex)).json()["memories"] == 0


async def test_bad_input_is_422_with_a_reason(core: MemoryCore, client: httpx.AsyncClient) -> None:
    auth = await key(core)
    secret = await client.post("/api/v1/memories", headers=auth, json={"text": "password=hunter2hunter2"})
    assert secret.status_code == 422 and "secret" in secret.json()["detail"]
    huge = await client.post("/api/v1/memories", headers=auth, json={"text": "x" * 30_000})
    assert huge.status_code == 413 and huge.json()["error"] == "too_large"
    assert (await client.post("/api/v1/memories", headers=auth, json={"txt": "typo"})).status_code == 422
    assert (
        await client.post("/api/v1/query", headers=auth, json={"question": "x", "limit": 0})
    ).status_code == 422
    assert (await client.get("/api/v1/memories/not-a-number", headers=auth)).status_code == 422


async def test_rate_limit_answers_429_with_retry_after(core: MemoryCore) -> None:
    app = create_app(core, api=ApiSettings(rate_limit_per_minute=60, burst=3))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        auth = await key(core, scope="read")
        codes = [(await http.get("/api/v1/stats", headers=auth)).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
        limited = await http.get("/api/v1/stats", headers=auth)
        assert int(limited.headers["retry-after"]) >= 1


def test_token_bucket_refills_with_time() -> None:
    now = [0.0]
    bucket = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert bucket.take(1) == 0 and bucket.take(1) == 0
    assert bucket.take(1) == pytest.approx(1.0)
    now[0] += 1.0
    assert bucket.take(1) == 0
    assert bucket.take(2) == 0  # keys are limited separately


async def test_health_metrics_and_request_ids(core: MemoryCore, client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    auth = await key(core)
    await client.post("/api/v1/memories", headers=auth, json={"text": "metrics make ops happy"})
    traced = await client.get("/api/v1/stats", headers={**auth, "X-Request-ID": "trace-123"})
    assert traced.headers["x-request-id"] == "trace-123"
    assert len((await client.get("/healthz")).headers["x-request-id"]) == 8
    text = (await client.get("/metrics")).text
    assert 'teamlore_memories{tenant="default"} 1.0' in text
    assert 'teamlore_index_vectors{tenant="default"} 1.0' in text
    assert 'teamlore_requests_total{command="POST /api/v1/memories",frontend="api",outcome="ok"}' in text
    assert "teamlore_request_seconds_bucket" in text


async def test_readiness_fails_when_the_index_drifts(core: MemoryCore, client: httpx.AsyncClient) -> None:
    auth = await key(core)
    memory_id = (await client.post("/api/v1/memories", headers=auth, json={"text": "drift me"})).json()["id"]
    core._index.indexes.tenants["default"].remove([memory_id])  # behind the core's back
    ready = await client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["index_in_step"] is False
    await core.rebuild_index("default")
    assert (await client.get("/readyz")).status_code == 200


async def test_openapi_document_lists_the_api(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert {
        "/api/v1/memories",
        "/api/v1/memories/{memory_id}",
        "/api/v1/query",
        "/api/v1/reflect",
        "/api/v1/quality",
        "/api/v1/stats",
        "/api/v1/tags",
    } <= set(spec["paths"])
