"""Notifiers: Slack (bot token or incoming webhook), Discord webhook, a signed generic webhook, the log.

Every HTTP notifier goes through `post_with_retry`: 429 and 5xx answers, timeouts and connection errors
are retried with exponential backoff, honouring `Retry-After` (seconds or an HTTP date) up to
`max_retry_wait_seconds`; a server asking for a longer wait ends that delivery as failed rather than
holding the scheduler. Other 4xx answers and redirects (never followed) are not retried. Each attempt
builds its request anew, so the generic webhook signs every attempt with the time it is sent. A notifier
never raises: it returns a `Delivery` saying what happened, and `notify_all` sends to all of them
concurrently, so one failing notifier never stops the others.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import anyio
import httpx

from .config import AlertsSettings
from .message import Delivery, Notification, discord_payload, plain_text, slack_payload, webhook_payload

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "DiscordWebhookNotifier",
    "GenericWebhookNotifier",
    "LogNotifier",
    "Notifier",
    "RetryPolicy",
    "SlackApiNotifier",
    "SlackWebhookNotifier",
    "build_notifiers",
    "delivered",
    "notify_all",
    "parse_retry_after",
    "post_with_retry",
    "sign",
]

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Teamlore-Signature"
TIMESTAMP_HEADER = "X-Teamlore-Timestamp"
SLACK_POST_MESSAGE = "https://slack.com/api/chat.postMessage"
USER_AGENT = "teamlore-scheduler"

Sleep = Callable[[float], Awaitable[None]]


class Notifier(Protocol):
    """Sends a notification somewhere; never raises, returns the Delivery."""

    name: str

    async def send(self, note: Notification) -> Delivery: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 1.0
    max_wait: float = 60.0
    sleep: Sleep = anyio.sleep

    @classmethod
    def from_settings(cls, settings: AlertsSettings, *, sleep: Sleep = anyio.sleep) -> RetryPolicy:
        return cls(max_attempts=settings.max_attempts, max_wait=settings.max_retry_wait_seconds, sleep=sleep)

    def backoff(self, attempt: int) -> float:
        """1 s, 2 s, 4 s ... after attempt 1, 2, 3, never more than max_wait."""
        return min(self.base_delay * 2.0 ** (attempt - 1), self.max_wait)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None if absent or bad."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    attempts: int
    status: int | None
    error: str | None


ResponseCheck = Callable[[httpx.Response], str | None]
"""Returns a problem found in a 2xx response (e.g. Slack's {"ok": false}), or None when it is fine."""


def _body_excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200]


async def post_with_retry(
    client: httpx.AsyncClient,
    request: httpx.Request | Callable[[], httpx.Request],
    policy: RetryPolicy,
    *,
    check: ResponseCheck | None = None,
) -> _Outcome:
    """Send `request` until it succeeds, fails for good, or the attempts run out (see module docstring).

    `request` may be a function that builds the request: it is then called for every attempt.
    """
    build = request if callable(request) else lambda: request
    status: int | None = None
    error = "not sent"
    for attempt in range(1, policy.max_attempts + 1):
        wait = policy.backoff(attempt)
        sent = build()
        try:
            response = await client.send(sent)
        except httpx.TimeoutException:
            status, error = None, "timed out"
        except httpx.TransportError as exc:
            status, error = None, f"connection failed: {exc.__class__.__name__}: {exc}"[:300]
        else:
            status = response.status_code
            if status == 429 or status >= 500:
                error = f"HTTP {status}: {_body_excerpt(response)}".rstrip(": ")
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is None and status == 429:
                    retry_after = _json_retry_after(response)
                if retry_after is not None:
                    if retry_after > policy.max_wait:
                        error = (
                            f"HTTP {status}: asked to retry after {retry_after:.0f} s "
                            f"(limit {policy.max_wait:.0f} s)"
                        )
                        return _Outcome(False, attempt, status, error)
                    wait = retry_after
            elif status >= 300:  # redirects are not followed: a moved webhook must be reconfigured
                return _Outcome(
                    False, attempt, status, f"HTTP {status}: {_body_excerpt(response)}".rstrip(": ")
                )
            else:
                problem = check(response) if check is not None else None
                if problem is None:
                    return _Outcome(True, attempt, status, None)
                return _Outcome(False, attempt, status, problem)
        if attempt < policy.max_attempts:
            logger.info(
                "notification to %s failed (%s); retry %d in %.1f s", sent.url.host, error, attempt, wait
            )
            await policy.sleep(wait)
    return _Outcome(False, policy.max_attempts, status, error)


def _json_retry_after(response: httpx.Response) -> float | None:
    """Discord also says how long to wait in the body: {"retry_after": 1.5}."""
    try:
        value = response.json().get("retry_after")
    except (ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, int | float) else None  # type: ignore[redundant-expr]


def _json_request(url: str, payload: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Request:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return httpx.Request(
        "POST",
        url,
        content=body,
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            **(headers or {}),
        },
    )


class _HttpNotifier:
    name = "http"

    def __init__(self, client: httpx.AsyncClient, policy: RetryPolicy) -> None:
        self._client = client
        self._policy = policy

    def request(self, note: Notification) -> httpx.Request:
        raise NotImplementedError

    def check(self, response: httpx.Response) -> str | None:
        return None

    async def send(self, note: Notification) -> Delivery:
        try:
            outcome = await post_with_retry(
                self._client, lambda: self.request(note), self._policy, check=self.check
            )
        except Exception as exc:  # a bug or an unexpected library error: recorded, never raised
            logger.exception("notifier %s failed unexpectedly", self.name)
            return Delivery(
                self.name, note.event, note.tenant, ok=False, attempts=1, error=f"unexpected: {exc!r}"[:300]
            )
        return Delivery(
            self.name, note.event, note.tenant, outcome.ok, outcome.attempts, outcome.status, outcome.error
        )


class SlackApiNotifier(_HttpNotifier):
    """chat.postMessage with a bot token into one channel."""

    name = "slack"

    def __init__(
        self,
        client: httpx.AsyncClient,
        policy: RetryPolicy,
        *,
        token: str,
        channel: str,
        url: str = SLACK_POST_MESSAGE,
    ) -> None:
        super().__init__(client, policy)
        self._token = token
        self._channel = channel
        self._url = url

    def request(self, note: Notification) -> httpx.Request:
        payload = {"channel": self._channel, **slack_payload(note)}
        return _json_request(self._url, payload, {"Authorization": f"Bearer {self._token}"})

    def check(self, response: httpx.Response) -> str | None:
        # The Web API answers 200 {"ok": false, "error": "channel_not_found"} for most failures.
        try:
            body = response.json()
        except ValueError:
            return f"Slack answered something other than JSON: {_body_excerpt(response)}"
        if isinstance(body, dict) and body.get("ok") is True:
            return None
        reason = body.get("error", "unknown_error") if isinstance(body, dict) else "unknown_error"
        return f"Slack refused: {reason}"


class SlackWebhookNotifier(_HttpNotifier):
    """A Slack incoming webhook (the channel is fixed by the webhook)."""

    name = "slack-webhook"

    def __init__(self, client: httpx.AsyncClient, policy: RetryPolicy, *, url: str) -> None:
        super().__init__(client, policy)
        self._url = url

    def request(self, note: Notification) -> httpx.Request:
        return _json_request(self._url, slack_payload(note))


class DiscordWebhookNotifier(_HttpNotifier):
    name = "discord"

    def __init__(self, client: httpx.AsyncClient, policy: RetryPolicy, *, url: str) -> None:
        super().__init__(client, policy)
        self._url = url

    def request(self, note: Notification) -> httpx.Request:
        return _json_request(self._url, discord_payload(note))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Teamlore-Signature value: `sha256=` + hex HMAC-SHA256 of `<timestamp>.<body>`.

    The same scheme as the incoming `/hooks/{name}` (webhooks/signing.py), so one verifier serves both
    directions; the timestamp inside the signed bytes lets a receiver refuse replays.
    """
    signed = f"{timestamp}.".encode("ascii") + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


class GenericWebhookNotifier(_HttpNotifier):
    """POST the notification as JSON, signed so the receiver can check it came from us."""

    name = "webhook"

    def __init__(
        self,
        client: httpx.AsyncClient,
        policy: RetryPolicy,
        *,
        url: str,
        secret: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(client, policy)
        self._url = url
        self._secret = secret
        self._clock = clock

    def request(self, note: Notification) -> httpx.Request:
        body = json.dumps(webhook_payload(note), separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = int(self._clock())
        return httpx.Request(
            "POST",
            self._url,
            content=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                "X-Teamlore-Event": note.event,
                "X-Teamlore-Delivery": note.id,
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            },
        )


class LogNotifier:
    """Writes the notification to the log: WARNING for alerts, INFO for the rest."""

    name = "log"

    async def send(self, note: Notification) -> Delivery:
        level = logging.INFO if note.level == "info" else logging.WARNING
        logger.log(level, "%s [%s]\n%s", note.event, note.tenant or "-", plain_text(note))
        return Delivery(self.name, note.event, note.tenant, ok=True, attempts=1)


def build_notifiers(
    settings: AlertsSettings, client: httpx.AsyncClient, *, sleep: Sleep = anyio.sleep
) -> list[Notifier]:
    """The notifiers the settings turn on, in `settings.notifier_names` order."""
    policy = RetryPolicy.from_settings(settings, sleep=sleep)
    notifiers: list[Notifier] = []
    if settings.slack_bot_token and settings.slack_channel:
        notifiers.append(
            SlackApiNotifier(
                client,
                policy,
                token=settings.slack_bot_token.get_secret_value(),
                channel=settings.slack_channel,
            )
        )
    if settings.slack_webhook_url:
        notifiers.append(
            SlackWebhookNotifier(client, policy, url=settings.slack_webhook_url.get_secret_value())
        )
    if settings.discord_webhook_url:
        notifiers.append(
            DiscordWebhookNotifier(client, policy, url=settings.discord_webhook_url.get_secret_value())
        )
    if settings.webhook_url and settings.webhook_secret:
        notifiers.append(
            GenericWebhookNotifier(
                client, policy, url=settings.webhook_url, secret=settings.webhook_secret.get_secret_value()
            )
        )
    if settings.log_alerts:
        notifiers.append(LogNotifier())
    return notifiers


async def notify_all(notifiers: Sequence[Notifier], note: Notification) -> list[Delivery]:
    """Send to every notifier at once; one Delivery per notifier, in order. Never raises."""
    results: list[Delivery | None] = [None] * len(notifiers)

    async def one(index: int, notifier: Notifier) -> None:
        try:
            results[index] = await notifier.send(note)
        except Exception as exc:  # a notifier broke its promise not to raise: still not our caller's problem
            logger.exception("notifier %s raised", notifier.name)
            results[index] = Delivery(
                notifier.name, note.event, note.tenant, ok=False, attempts=1, error=repr(exc)[:300]
            )

    async with anyio.create_task_group() as tg:
        for index, notifier in enumerate(notifiers):
            tg.start_soon(one, index, notifier)
    deliveries = [r for r in results if r is not None]
    for delivery in deliveries:
        if not delivery.ok:
            logger.warning(
                "%s to %s failed after %d attempt(s): %s",
                note.event,
                delivery.notifier,
                delivery.attempts,
                delivery.error,
            )
    return deliveries


def delivered(deliveries: Sequence[Delivery]) -> bool:
    """Whether someone was told: a chat or webhook notifier succeeded, or the log is the only notifier."""
    remote = [d for d in deliveries if d.notifier != "log"]
    if remote:
        return any(d.ok for d in remote)
    return any(d.ok for d in deliveries)
