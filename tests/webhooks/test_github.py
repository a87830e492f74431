"""POST /hooks/github on a real server: deliveries exactly as GitHub sends them, signed with its scheme."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from . import github_payloads as gh
from .conftest import GITHUB_SECRET, HookServer


def post(server: HookServer, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{server.url}/hooks/github", content=body, headers=headers, timeout=30)


def test_ping_is_answered_with_the_tenant(hook_server: HookServer) -> None:
    answer = post(hook_server, *gh.delivery("ping", gh.ping(), GITHUB_SECRET))
    assert answer.status_code == 200
    assert answer.json() == {"ok": True, "zen": "Keep it logically awesome.", "tenant": "acme"}
    unmapped = post(hook_server, *gh.delivery("ping", gh.ping("stranger/repo"), GITHUB_SECRET))
    assert unmapped.status_code == 403 and "stranger/repo" in unmapped.json()["detail"]


def test_merged_pull_request_is_remembered_once_on_redelivery(hook_server: HookServer) -> None:
    before = hook_server.count("acme")
    guid = str(uuid.uuid1())
    body, headers = gh.delivery("pull_request", gh.pull_request(), GITHUB_SECRET, guid=guid)
    first = post(hook_server, body, headers)
    assert first.status_code == 201, first.text
    memory_id = first.json()["id"]

    # GitHub's "Redeliver" sends the same body with the same X-GitHub-Delivery (and a fresh signature).
    again = post(hook_server, *gh.delivery("pull_request", gh.pull_request(), GITHUB_SECRET, guid=guid))
    assert again.status_code == 200 and again.json()["id"] == memory_id
    assert hook_server.count("acme") == before + 1

    memory = hook_server.readers["acme"].get(memory_id)
    assert memory.kind == "decision"  # the `decision` label
    assert memory.source == "github" and memory.author == "octocat"
    assert memory.title == "Deploy with blue/green on Tuesdays and Thursdays"
    assert memory.source_ref == "https://github.com/acme/api/pull/42"
    assert set(memory.tags) == {"github", "decision", "deploy-pipeline"}
    assert memory.text.startswith("Merged pull request #42 in acme/api: Deploy with blue/green")
    assert "Moves every deploy to the new blue/green pipeline." in memory.text
    assert "only on Tuesdays and Thursdays" in memory.text  # the second paragraph
    assert "Checklist" not in memory.text and "<!--" not in memory.text  # only the first two
    assert memory.text.endswith("https://github.com/acme/api/pull/42")
    assert memory.created_at.isoformat().startswith("2026-11-30T09:15:40")
    hits = hook_server.readers["acme"].query("which days do we deploy?", source="github")
    assert hits and hits[0].memory.id == memory_id


def test_pull_request_without_decision_label_is_a_change(hook_server: HookServer) -> None:
    payload = gh.pull_request(labels=("backend",), number=43, title="Cache the tenant map")
    answer = post(hook_server, *gh.delivery("pull_request", payload, GITHUB_SECRET))
    assert answer.status_code == 201
    memory = hook_server.readers["acme"].get(answer.json()["id"])
    assert memory.kind == "change" and set(memory.tags) == {"github", "backend"}


def test_issue_closed_as_completed_and_release_published(hook_server: HookServer) -> None:
    issue = post(hook_server, *gh.delivery("issues", gh.issue(), GITHUB_SECRET))
    assert issue.status_code == 201
    memory = hook_server.readers["acme"].get(issue.json()["id"])
    assert memory.kind == "issue" and memory.author == "mona"
    assert memory.text.startswith("Completed issue #7 in acme/api: The VPN drops every night at 02:00")
    assert "now runs at 04:00" in memory.text and set(memory.tags) == {"github", "bug", "infra"}

    released = post(hook_server, *gh.delivery("release", gh.release(), GITHUB_SECRET))
    assert released.status_code == 201
    memory = hook_server.readers["acme"].get(released.json()["id"])
    assert memory.kind == "release" and memory.source_ref == "https://github.com/acme/api/releases/tag/v2.4.0"
    assert memory.text.startswith("Released 2.4.0: blue/green deploys of acme/api (tag v2.4.0)")


def test_a_repository_maps_by_full_name_too(hook_server: HookServer) -> None:
    before = hook_server.count("widgets")
    payload = gh.release(repo="other-org/widgets")
    answer = post(hook_server, *gh.delivery("release", payload, GITHUB_SECRET))
    assert answer.status_code == 201
    assert hook_server.count("widgets") == before + 1


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("pull_request", gh.pull_request("closed", merged=False, number=44, title="Abandoned idea")),
        ("pull_request", gh.pull_request("opened", merged=False, number=45, title="Work in progress")),
        ("issues", gh.issue(state_reason="not_planned")),
        ("issues", gh.issue("opened", state_reason=None)),
        ("release", gh.release("created")),
        ("push", gh.push()),
        ("star", {"action": "created", "repository": gh.repository(), "sender": gh.user("fan")}),
    ],
)
def test_other_events_are_ignored_with_204(
    hook_server: HookServer, event: str, payload: dict[str, Any]
) -> None:
    before = hook_server.count("acme")
    answer = post(hook_server, *gh.delivery(event, payload, GITHUB_SECRET))
    assert answer.status_code == 204 and answer.content == b""
    assert hook_server.count("acme") == before


def test_forged_missing_and_tampered_signatures_are_401_and_store_nothing(hook_server: HookServer) -> None:
    before = hook_server.count("acme")
    payload = gh.pull_request(number=46, title="Sneaky change")
    forged_body, forged = gh.delivery("pull_request", payload, "not the secret")
    assert post(hook_server, forged_body, forged).status_code == 401

    body, headers = gh.delivery("pull_request", payload, GITHUB_SECRET)
    missing = {k: v for k, v in headers.items() if not k.startswith("X-Hub-Signature")}
    assert post(hook_server, body, missing).status_code == 401
    sha1_only = {**missing, "X-Hub-Signature": headers["X-Hub-Signature"]}
    assert post(hook_server, body, sha1_only).status_code == 401  # SHA-1 alone is not accepted

    tampered = body.replace(b"Sneaky change", b"Sneakier change")
    answer = post(hook_server, tampered, headers)
    assert answer.status_code == 401 and answer.json()["error"] == "bad_signature"
    assert hook_server.count("acme") == before


def test_unmapped_repository_is_refused_and_nothing_stored(hook_server: HookServer) -> None:
    counts = {t: hook_server.count(t) for t in hook_server.readers}
    payload = gh.pull_request(repo="stranger/repo", number=47, title="From a repository nobody mapped")
    answer = post(hook_server, *gh.delivery("pull_request", payload, GITHUB_SECRET))
    assert answer.status_code == 403
    assert "not connected to any teamlore tenant" in answer.json()["detail"]
    assert {t: hook_server.count(t) for t in hook_server.readers} == counts
    assert ingest_failures(hook_server, "(none)") >= 1  # counted for the operator, under no tenant


def ingest_failures(server: HookServer, tenant: str) -> float:
    scrape = httpx.get(f"{server.url}/metrics", timeout=30).text
    line = next(
        x for x in scrape.splitlines() if x.startswith(f'teamlore_ingest_failures{{tenant="{tenant}"}}')
    )
    return float(line.rsplit(" ", 1)[1])


def test_a_secret_in_a_description_is_stored_redacted(hook_server: HookServer) -> None:
    payload = gh.pull_request(
        number=50, title="Rotate the staging database", labels=tuple(f"l{i}" for i in range(40))
    )
    payload["pull_request"]["body"] = "Rotated it.\n\nThe new one is password=hunter2hunter2 for now."
    answer = post(hook_server, *gh.delivery("pull_request", payload, GITHUB_SECRET))
    assert answer.status_code == 201, answer.text
    memory = hook_server.readers["acme"].get(answer.json()["id"])
    assert "hunter2hunter2" not in memory.text and "REDACTED" in memory.text
    assert len(memory.tags) == 16 and memory.tags[:2] == ("github", "l0")  # 40 labels: the first ones


def test_control_characters_in_a_description_are_dropped_not_refused(hook_server: HookServer) -> None:
    payload = gh.pull_request(number=51, title="Colour\x1b[31m in the build log", labels=())
    payload["pull_request"]["body"] = "Pasted from a terminal:\x00 the \x1b[1mbuild\x1b[0m is green."
    answer = post(hook_server, *gh.delivery("pull_request", payload, GITHUB_SECRET))
    assert answer.status_code == 201, answer.text
    memory = hook_server.readers["acme"].get(answer.json()["id"])
    assert "Pasted from a terminal: the [1mbuild[0m is green." in memory.text
    assert "\x1b" not in memory.text and "\x00" not in memory.text


def test_form_encoded_deliveries_work_too(hook_server: HookServer) -> None:
    payload = gh.pull_request(number=48, title="Form-encoded payloads are read", labels=())
    answer = post(hook_server, *gh.delivery("pull_request", payload, GITHUB_SECRET, form=True))
    assert answer.status_code == 201


def test_bad_payloads_are_422(hook_server: HookServer) -> None:
    _body, headers = gh.delivery("pull_request", gh.pull_request(), GITHUB_SECRET)
    not_json = b"{not json"
    headers = {**headers, "X-Hub-Signature-256": gh.sign_github(GITHUB_SECRET, not_json)}
    assert post(hook_server, not_json, headers).status_code == 422
    broken = gh.pull_request(number=49)
    del broken["pull_request"]["title"]
    answer = post(hook_server, *gh.delivery("pull_request", broken, GITHUB_SECRET))
    assert answer.status_code == 422 and "title" in answer.json()["detail"]
