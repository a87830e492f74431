"""Every notifier against respx: success, 429 with Retry-After, 500, timeout; signatures; isolation."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from scheduler import AlertsSettings
from scheduler.message import Notification, Section
from scheduler.notifiers import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    GenericWebhookNotifier,
    LogNotifier,
    Notifier,
    RetryPolicy,
    build_notifiers,
    notify_all,
    parse_retry_after,
)
from webhooks.signing import BadSignature, verify_teamlore

from .conftest import DISCORD_HOOK, SECRET, SLACK_API, SLACK_HOOK, WEBHOOK, Sleeps, all_notifiers

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Case:
    name: str
    url: str
    ok: httpx.Response


CASES = [
    Case("slack", SLACK_API, httpx.Response(200, json={"ok": True, "ts": "1.2"})),
    Case("slack-webhook", SLACK_HOOK, httpx.Response(200, text="ok")),
    Case("discord", DISCORD_HOOK, httpx.Response(204)),
    Case("webhook", WEBHOOK, httpx.Response(200, json={"received": True})),
]
IDS = [c.name for c in CASES]


def note(**overrides: object) -> Notification:
    values: dict[str, object] = {
        "event": "quality_alert",
        "tenant": "default",
        "title": "Memory quality 55/100 in default (below 70)",
        "level": "warning",
        "sections": (Section("Why this alert", ("The score fell below the threshold: 55 < 70.",)),),
        "data": {"score": 55},
    }
    values.update(overrides)
    return Notification(**values)  # type: ignore[arg-type]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as c:
        yield c


def notifier_for(name: str, client: httpx.AsyncClient, sleeps: Sleeps, **settings: object) -> Notifier:
    (found,) = [n for n in build_notifiers(all_notifiers(**settings), client, sleep=sleeps) if n.name == name]
    return found


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_success_first_time(
    case: Case, client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(case.url).mock(return_value=case.ok)
    delivery = await notifier_for(case.name, client, sleeps).send(note())
    assert delivery.ok and delivery.attempts == 1 and delivery.error is None
    assert route.call_count == 1 and sleeps.waits == []
    assert route.calls.last.request.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_429_waits_as_told_by_retry_after(
    case: Case, client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(case.url).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}, json={"ok": False}), case.ok]
    )
    delivery = await notifier_for(case.name, client, sleeps).send(note())
    assert delivery.ok and delivery.attempts == 2
    assert route.call_count == 2
    assert sleeps.waits == [7.0]


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_429_asking_for_too_long_gives_up_at_once(
    case: Case, client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(case.url).mock(return_value=httpx.Response(429, headers={"Retry-After": "3600"}))
    delivery = await notifier_for(case.name, client, sleeps, max_retry_wait_seconds=60).send(note())
    assert not delivery.ok and delivery.status == 429
    assert "3600" in (delivery.error or "")
    assert route.call_count == 1 and sleeps.waits == []


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_500_is_retried_with_backoff(
    case: Case, client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(case.url).mock(
        side_effect=[httpx.Response(500), httpx.Response(503, text="busy"), case.ok]
    )
    delivery = await notifier_for(case.name, client, sleeps).send(note())
    assert delivery.ok and delivery.attempts == 3
    assert route.call_count == 3
    assert sleeps.waits == [1.0, 2.0]


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_500_every_time_fails_after_max_attempts(
    case: Case, client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(case.url).mock(return_value=httpx.Response(502, text="bad gateway"))
    delivery = await notifier_for(case.name, client, sleeps, max_attempts=3).send(note())
    assert not delivery.ok
    assert (delivery.attempts, delivery.status) == (3, 502)
    assert delivery.error == "HTTP 502: bad gateway"
    assert route.call_count == 3 and sleeps.waits == [1.0, 2.0]


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_timeout_is_retried(
    case: Case, client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(case.url).mock(side_effect=[httpx.ReadTimeout("slow"), case.ok])
    delivery = await notifier_for(case.name, client, sleeps).send(note())
    assert delivery.ok and delivery.attempts == 2
    assert route.call_count == 2 and sleeps.waits == [1.0]


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_timeout_every_time_is_a_failed_delivery(
    case: Case, client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(case.url).mock(side_effect=httpx.ConnectTimeout("no route"))
    delivery = await notifier_for(case.name, client, sleeps, max_attempts=2).send(note())
    assert not delivery.ok
    assert (delivery.attempts, delivery.status, delivery.error) == (2, None, "timed out")


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_4xx_is_not_retried(
    case: Case, client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(case.url).mock(return_value=httpx.Response(404, text="no_service"))
    delivery = await notifier_for(case.name, client, sleeps).send(note())
    assert not delivery.ok and delivery.status == 404 and delivery.error == "HTTP 404: no_service"
    assert route.call_count == 1 and sleeps.waits == []


async def test_redirects_are_not_followed(
    client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(WEBHOOK).mock(
        return_value=httpx.Response(301, headers={"Location": "https://elsewhere/"})
    )
    delivery = await notifier_for("webhook", client, sleeps).send(note())
    assert not delivery.ok and delivery.status == 301


async def test_webhook_body_is_signed_with_the_secret(
    client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    sent = note()
    before = int(time.time())
    assert (await notifier_for("webhook", client, sleeps).send(sent)).ok
    request = route.calls.last.request
    body = request.content
    timestamp = request.headers[TIMESTAMP_HEADER]
    assert before <= int(timestamp) <= time.time()
    # What a receiver does: HMAC "<timestamp>.<raw body>" with the shared secret, compare in constant time.
    signed = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers[SIGNATURE_HEADER], expected)
    # The scheme is the one incoming /hooks/{name} deliveries use: one verifier serves both directions.
    verify_teamlore(
        SECRET, timestamp, request.headers[SIGNATURE_HEADER], body, now=time.time(), tolerance=300
    )
    assert request.headers["X-Teamlore-Event"] == "quality_alert"
    payload = json.loads(body)
    assert payload["id"] == sent.id == request.headers["X-Teamlore-Delivery"]
    assert payload["event"] == "quality_alert" and payload["tenant"] == "default"
    assert payload["data"] == {"score": 55}
    assert "The score fell below the threshold" in payload["text"]
    # A tampered body, or the body signed alone (the scheme before 2026-12), no longer matches.
    for forged_bytes in (signed + b" ", body):
        forged = "sha256=" + hmac.new(SECRET.encode(), forged_bytes, hashlib.sha256).hexdigest()
        assert not hmac.compare_digest(request.headers[SIGNATURE_HEADER], forged)
    with pytest.raises(BadSignature):
        verify_teamlore(
            SECRET, timestamp, request.headers[SIGNATURE_HEADER], body + b" ", now=time.time(), tolerance=300
        )


async def test_webhook_retries_carry_the_same_body_signed_at_each_attempt(
    client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(WEBHOOK).mock(side_effect=[httpx.Response(500), httpx.Response(200)])
    times = iter([1_800_000_000.0, 1_800_000_042.0])
    notifier = GenericWebhookNotifier(
        client, RetryPolicy(sleep=sleeps), url=WEBHOOK, secret=SECRET, clock=lambda: next(times)
    )
    assert (await notifier.send(note())).ok
    first, second = (call.request for call in route.calls)
    assert first.content == second.content
    assert first.headers["X-Teamlore-Delivery"] == second.headers["X-Teamlore-Delivery"]
    # A retry is signed when it is sent, so a receiver's replay window holds for late retries too.
    assert (first.headers[TIMESTAMP_HEADER], second.headers[TIMESTAMP_HEADER]) == ("1800000000", "1800000042")
    for request in (first, second):
        verify_teamlore(
            SECRET,
            request.headers[TIMESTAMP_HEADER],
            request.headers[SIGNATURE_HEADER],
            request.content,
            now=int(request.headers[TIMESTAMP_HEADER]),
            tolerance=0,
        )


async def test_slack_api_posts_to_the_channel_with_the_token(
    client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(SLACK_API).mock(return_value=httpx.Response(200, json={"ok": True}))
    assert (await notifier_for("slack", client, sleeps).send(note(title="a <!channel> & co"))).ok
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer xoxb-test"
    body = json.loads(request.content)
    assert body["channel"] == "C0123"
    assert body["blocks"][0]["type"] == "header"
    assert "*Why this alert*" in body["blocks"][1]["text"]["text"]
    assert "<!channel>" not in body["text"] and "&lt;!channel&gt; &amp; co" in body["text"]


async def test_slack_api_ok_false_is_a_failure_without_retry(
    client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(SLACK_API).mock(
        return_value=httpx.Response(200, json={"ok": False, "error": "channel_not_found"})
    )
    delivery = await notifier_for("slack", client, sleeps).send(note())
    assert not delivery.ok and delivery.error == "Slack refused: channel_not_found"
    assert route.call_count == 1


async def test_discord_never_pings_and_uses_embeds(
    client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(DISCORD_HOOK).mock(return_value=httpx.Response(204))
    sections = (Section("Top findings", ("@everyone look at *this*",)),)
    assert (await notifier_for("discord", client, sleeps).send(note(sections=sections))).ok
    body = json.loads(route.calls.last.request.content)
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    assert embed["fields"][0]["name"] == "Top findings"
    assert "\\*this\\*" in embed["fields"][0]["value"]
    assert embed["color"] == 0xD29922


async def test_discord_429_body_retry_after_is_honoured(
    client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(DISCORD_HOOK).mock(
        side_effect=[httpx.Response(429, json={"retry_after": 1.5, "global": False}), httpx.Response(204)]
    )
    assert (await notifier_for("discord", client, sleeps).send(note())).ok
    assert sleeps.waits == [1.5]


async def test_one_failing_notifier_does_not_stop_the_others(
    client: httpx.AsyncClient, sleeps: Sleeps, respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    respx_mock.post(SLACK_API).mock(return_value=httpx.Response(200, json={"ok": True}))
    respx_mock.post(SLACK_HOOK).mock(side_effect=httpx.ConnectError("refused"))
    respx_mock.post(DISCORD_HOOK).mock(return_value=httpx.Response(500))
    respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200))
    notifiers = build_notifiers(all_notifiers(max_attempts=2), client, sleep=sleeps)
    with caplog.at_level(logging.WARNING, logger="scheduler.notifiers"):
        deliveries = await notify_all(notifiers, note())
    outcome = {d.notifier: d.ok for d in deliveries}
    assert outcome == {"slack": True, "slack-webhook": False, "discord": False, "webhook": True, "log": True}
    failed = {d.notifier: d.error for d in deliveries if not d.ok}
    assert failed["slack-webhook"] is not None and failed["slack-webhook"].startswith("connection failed")
    assert failed["discord"] == "HTTP 500"
    assert any("discord failed after 2 attempt(s)" in r.getMessage() for r in caplog.records)


async def test_a_notifier_that_raises_is_contained() -> None:
    class Broken:
        name = "broken"

        async def send(self, note: Notification) -> object:
            raise RuntimeError("boom")

    deliveries = await notify_all([Broken(), LogNotifier()], note())  # type: ignore[list-item]
    assert [(d.notifier, d.ok) for d in deliveries] == [("broken", False), ("log", True)]
    assert "boom" in (deliveries[0].error or "")


async def test_log_notifier_writes_the_alert(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="scheduler.notifiers"):
        delivery = await LogNotifier().send(note())
    assert delivery.ok
    (record,) = [r for r in caplog.records if r.name == "scheduler.notifiers"]
    assert record.levelno == logging.WARNING
    assert "The score fell below the threshold" in record.getMessage()


def test_retry_after_parses_seconds_and_http_dates() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert parse_retry_after("12", now) == 12.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


async def test_only_configured_notifiers_are_built(client: httpx.AsyncClient) -> None:
    settings = AlertsSettings(discord_webhook_url=DISCORD_HOOK)
    assert settings.notifier_names == ["discord", "log"]
    assert [n.name for n in build_notifiers(settings, client)] == ["discord", "log"]
    assert [n.name for n in build_notifiers(AlertsSettings(log_alerts=False), client)] == []
