"""POST /hooks/{name} on a real server: signed JSON, five-minute window, idempotency, and bad bodies."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from webhooks import sign_teamlore

from .conftest import HookServer, cli
from .test_github import ingest_failures


def signed(
    secret: str, payload: Any, *, at: float | None = None, raw: bytes | None = None
) -> tuple[bytes, dict[str, str]]:
    body = raw if raw is not None else json.dumps(payload).encode()
    timestamp = int(at if at is not None else time.time())
    return body, {
        "Content-Type": "application/json",
        "X-Teamlore-Timestamp": str(timestamp),
        "X-Teamlore-Signature": sign_teamlore(secret, timestamp, body),
    }


def post(server: HookServer, name: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{server.url}/hooks/{name}", content=body, headers=headers, timeout=30)


def test_signed_delivery_is_stored_once_per_idempotency_key(hook_server: HookServer) -> None:
    secret = hook_server.secrets["ci"]
    payload = {
        "text": "Nightly build 1482 failed on the arm64 runner: out of disk",
        "title": "Nightly build failed",
        "tags": ["ci", "#Builds"],
        "kind": "incident",
        "importance": "high",
        "source_ref": "https://ci.example.com/builds/1482",
        "ttl": "30d",
    }
    key = str(uuid.uuid4())
    body, headers = signed(secret, payload)
    first = post(hook_server, "ci", body, {**headers, "Idempotency-Key": key})
    assert first.status_code == 201, first.text
    memory_id = first.json()["id"]
    assert first.json() == {"id": memory_id, "created": True, "duplicate_of": None}

    before = hook_server.count("default")
    # The sender retries with the same key (a new timestamp, a new signature): answered, not stored again.
    body, headers = signed(secret, payload)
    again = post(hook_server, "ci", body, {**headers, "Idempotency-Key": key})
    assert again.status_code == 200 and again.json()["id"] == memory_id
    assert hook_server.count("default") == before

    memory = hook_server.readers["default"].get(memory_id)
    assert memory.source == "webhook" and memory.author == "ci" and memory.kind == "incident"
    assert memory.tags == ("ci", "builds") and memory.importance == "high"
    assert (
        memory.title == "Nightly build failed" and memory.source_ref == "https://ci.example.com/builds/1482"
    )
    assert memory.expires_at is not None
    assert timedelta(days=29) < memory.expires_at - datetime.now(UTC) <= timedelta(days=30)
    assert hook_server.readers["acme"].query("nightly build arm64") == []  # the ci hook is default's


def test_the_same_text_without_a_key_is_a_duplicate(hook_server: HookServer) -> None:
    secret = hook_server.secrets["pager"]
    first = post(
        hook_server, "pager", *signed(secret, {"text": "Pager rotation moves to Mondays", "ttl": 90})
    )
    assert first.status_code == 201
    again = post(hook_server, "pager", *signed(secret, {"text": "pager rotation moves to mondays"}))
    assert again.status_code == 200 and again.json()["duplicate_of"] == first.json()["id"]
    assert hook_server.readers["acme"].get(first.json()["id"]).tenant == "acme"


def test_bad_stale_and_missing_signatures_are_401_and_store_nothing(hook_server: HookServer) -> None:
    secret = hook_server.secrets["ci"]
    before = hook_server.count("default")
    payload = {"text": "an attacker would like this remembered"}
    body, headers = signed("tlw_wrong", payload)
    assert post(hook_server, "ci", body, headers).status_code == 401
    body, headers = signed(hook_server.secrets["pager"], payload)  # another hook's secret
    assert post(hook_server, "ci", body, headers).status_code == 401
    stale = post(
        hook_server, "ci", *signed(secret, payload, at=time.time() - 330)
    )  # well past the 300 s window: seconds are floored and the server reads its clock later
    assert stale.status_code == 401 and "clock" in stale.json()["detail"]
    future = post(hook_server, "ci", *signed(secret, payload, at=time.time() + 330))
    assert future.status_code == 401
    body, headers = signed(secret, payload)
    assert post(hook_server, "ci", body + b" ", headers).status_code == 401  # body changed after signing
    headers["X-Teamlore-Timestamp"] = str(int(headers["X-Teamlore-Timestamp"]) - 1)
    assert post(hook_server, "ci", body, headers).status_code == 401  # timestamp changed after signing
    assert post(hook_server, "ci", body, {"Content-Type": "application/json"}).status_code == 401
    # Still inside the window: accepted.
    assert (
        post(
            hook_server, "ci", *signed(secret, {"text": "inside the window"}, at=time.time() - 240)
        ).status_code
        == 201
    )
    assert hook_server.count("default") == before + 1


def test_unknown_hook_is_404(hook_server: HookServer) -> None:
    answer = post(hook_server, "nobody", *signed("tlw_x", {"text": "hello"}))
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("raw", "status", "words"),
    [
        (b"{not json", 422, "not JSON"),
        (b"[1, 2]", 422, "body"),
        (json.dumps({"title": "no text"}).encode(), 422, "text"),
        (json.dumps({"text": "x", "colour": "red"}).encode(), 422, "colour"),
        (json.dumps({"text": "x", "importance": "urgent"}).encode(), 422, "importance"),
        (json.dumps({"text": "x", "tags": "ci"}).encode(), 422, "tags"),
        (json.dumps({"text": "x", "ttl": "soon"}).encode(), 422, "ttl"),
        (json.dumps({"text": "x", "ttl": -1}).encode(), 422, "ttl"),
        (json.dumps({"text": "x", "kind": "Not A Kind"}).encode(), 422, "kind"),
        (json.dumps({"text": "deploy key password=hunter2hunter2"}).encode(), 422, "secret"),
        (json.dumps({"text": "x" * 20_001}).encode(), 413, "20,000"),  # over the core's text limit
        (json.dumps({"text": "y" * 3_000_000}).encode(), 413, "bytes"),
    ],
)
def test_bad_bodies_are_413_or_422_and_store_nothing(
    hook_server: HookServer, raw: bytes, status: int, words: str
) -> None:
    before = hook_server.count("default")
    answer = post(hook_server, "ci", *signed(hook_server.secrets["ci"], None, raw=raw))
    assert answer.status_code == status, answer.text
    assert words in answer.json()["detail"]
    assert hook_server.count("default") == before


def test_a_refused_body_is_counted_as_an_ingest_failure_of_the_hooks_tenant(hook_server: HookServer) -> None:
    secret = hook_server.secrets["pager"]
    # The per-tenant gauges cover the tenants that have memories.
    assert post(hook_server, "pager", *signed(secret, {"text": "acme has a memory now"})).status_code in (
        200,
        201,
    )
    before = ingest_failures(hook_server, "acme")
    answer = post(hook_server, "pager", *signed(hook_server.secrets["pager"], {"text": "x", "ttl": "never"}))
    assert answer.status_code == 422
    assert ingest_failures(hook_server, "acme") == before + 1


def test_cli_lists_and_revokes(hook_server: HookServer) -> None:
    made = cli(hook_server.env, "webhooks", "create", "temporary", "--tenant", "acme", "--json")
    assert made.returncode == 0, made.stderr
    secret = json.loads(made.stdout)["secret"]
    listed = cli(hook_server.env, "webhooks", "list", "--json")
    hooks = {h["name"]: h for h in json.loads(listed.stdout)}
    assert hooks["temporary"]["tenant"] == "acme" and hooks["temporary"]["revoked_at"] is None
    assert secret not in listed.stdout and "secret" not in hooks["temporary"]
    assert cli(hook_server.env, "webhooks", "create", "temporary").returncode == 1  # exists
    assert cli(hook_server.env, "webhooks", "create", "github").returncode == 1  # reserved

    assert (
        post(hook_server, "temporary", *signed(secret, {"text": "temporary hook works"})).status_code == 201
    )
    revoked = cli(hook_server.env, "webhooks", "revoke", "temporary")
    assert revoked.returncode == 0 and "Revoked webhook temporary" in revoked.stderr
    assert post(hook_server, "temporary", *signed(secret, {"text": "after revoking"})).status_code == 404
