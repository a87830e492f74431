"""The webhook endpoints POST /hooks/github and /hooks/{name}: handlers translate, the receiver decides."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from memory_core import (
    Importance,
    InvalidInput,
    MemoryCore,
    MemoryDraft,
    Source,
    TenantMap,
    TooLarge,
    UnknownIdentity,
    Webhooks,
)

from .config import WebhookSettings
from .errors import error_answer
from .github import item_for, repository_of
from .signing import BadSignature, verify_github, verify_teamlore

__all__ = ["Answer", "HookBody", "WebhookReceiver"]

logger = logging.getLogger(__name__)

GITHUB = "github"
_TTL_UNITS = {"m": 1 / 1440, "h": 1 / 24, "d": 1.0, "w": 7.0}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class HookBody(BaseModel):
    """What a generic webhook posts (JSON). Unknown fields are refused, so a typo is not lost silently."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: str = Field(min_length=1)
    title: str | None = Field(None, max_length=500)
    tags: list[str] = Field(default_factory=list, max_length=32)
    kind: str = Field("note", max_length=32)
    importance: Importance = Field(Importance.NORMAL, strict=False)  # "high" is the enum's value
    source_ref: str | None = Field(None, max_length=1000)
    ttl: str | int | float | None = Field(None, description="Days (a number) or 30m, 12h, 30d, 2w.")


def ttl_days(value: str | int | float | None) -> float | None:
    """A ttl as days: a positive number of days, or a number with m/h/d/w."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        unit = _TTL_UNITS.get(text[-1:]) if text else None
        try:
            days = float(text[:-1]) * unit if unit is not None else float(text)
        except ValueError:
            raise InvalidInput(f"ttl {value!r}: use days (30) or 30m, 12h, 30d, 2w") from None
    else:
        days = float(value)
    if not 0 < days <= 36500:
        raise InvalidInput("ttl must be more than 0 and at most 100 years")
    return days


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"the body is not JSON: {exc}") from None


def parse_hook_body(body: bytes, hook: str) -> MemoryDraft:
    """The memory draft a generic webhook body describes. Raises InvalidInput, saying what is wrong."""
    try:
        parsed = HookBody.model_validate(_json(body))
    except ValidationError as exc:
        raise InvalidInput(_problems(exc)) from None
    ttl = ttl_days(parsed.ttl)
    try:
        return MemoryDraft(
            text=parsed.text,
            title=parsed.title,
            tags=tuple(parsed.tags),
            kind=parsed.kind,
            importance=parsed.importance,
            source=Source.WEBHOOK,
            source_ref=parsed.source_ref,
            author=hook,
            author_id=f"webhook:{hook}",
            expires_at=None if ttl is None else datetime.now(UTC) + timedelta(days=ttl),
        )
    except ValidationError as exc:
        raise InvalidInput(_problems(exc)) from None


class WebhookReceiver:
    """Verifies, de-duplicates and stores webhook deliveries; `routes()` mounts it on the web app.

    The webhook server key is loaded on the first generic delivery (not at start), so a deployment
    that never makes a hook never gets a key file.
    """

    def __init__(
        self,
        core: MemoryCore,
        settings: WebhookSettings,
        tenants: TenantMap,
        load_key: Callable[[], bytes],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._core = core
        self._settings = settings
        self._tenants = tenants
        self._load_key = load_key
        self._clock = clock
        self._hooks: Webhooks | None = None

    @property
    def hooks(self) -> Webhooks:
        if self._hooks is None:
            self._hooks = Webhooks(self._core, self._load_key())
        return self._hooks

    async def _store(
        self, hook: str, tenant: str, key: str | None, draft: MemoryDraft, *, redact: bool = False
    ) -> Answer:
        if key:
            existing = await self.hooks.delivered(hook, key)
            if existing is not None:
                return Answer(200, {"id": existing, "created": False, "duplicate_of": existing})
        result = await self._core.store(tenant, draft, redact=redact)
        if key:
            await self.hooks.record_delivery(hook, key, result.id)
        logger.info("webhook %s stored #%d in %s (created=%s)", hook, result.id, tenant, result.created)
        body = {"id": result.id, "created": result.created, "duplicate_of": result.duplicate_of}
        return Answer(201 if result.created else 200, body)

    async def generic(self, name: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """One delivery to /hooks/{name}: 201 new, 200 duplicate, 401 bad signature, 404 unknown hook."""
        found = await self.hooks.lookup(name)
        if found is None:
            return Answer(404, {"error": "not_found", "detail": f"no webhook {name!r}"})
        info, secret = found
        verify_teamlore(
            secret,
            headers.get("x-teamlore-timestamp"),
            headers.get("x-teamlore-signature"),
            body,
            now=self._clock(),
            tolerance=self._settings.tolerance_seconds,
        )
        try:
            draft = parse_hook_body(body, info.name)
            return await self._store(info.name, info.tenant, headers.get("idempotency-key"), draft)
        except InvalidInput as exc:
            await self._core.record_ingest_failure(
                info.tenant, source=Source.WEBHOOK, reason=f"webhook {info.name}: {exc}"
            )
            raise

    async def github(self, headers: Mapping[str, str], body: bytes) -> Answer:
        """One GitHub delivery: verified, then remembered, answered (ping) or ignored (204)."""
        secret = self._settings.github_secret
        if secret is None:
            detail = "GitHub webhooks are off: set TEAMLORE_WEBHOOKS__GITHUB_SECRET"
            return Answer(404, {"error": "not_found", "detail": detail})
        verify_github(secret.get_secret_value(), headers.get("x-hub-signature-256"), body)
        event = headers.get("x-github-event", "")
        payload = self._github_payload(headers, body)
        repository = repository_of(payload)
        if event == "ping":
            tenant = self._github_tenant(repository) if repository else None
            return Answer(200, {"ok": True, "zen": payload.get("zen"), "tenant": tenant})
        item = item_for(event, payload, paragraphs=self._settings.github_paragraphs)
        if item is None:
            return Answer(204)
        try:
            tenant = self._github_tenant(item.repository)
        except UnknownIdentity as exc:
            await self._core.record_ingest_failure(None, source=Source.GITHUB, reason=str(exc))
            raise
        draft = MemoryDraft(
            text=item.text,
            title=item.title,
            kind=item.kind,
            tags=item.tags,
            source=Source.GITHUB,
            source_ref=item.url,
            author=item.author,
            author_id=f"github:{item.author}" if item.author else None,
            created_at=item.when,
        )
        # A token pasted into a description must not cost the team the merged change: it is stored
        # redacted (a generic hook's sender gets 422 instead, and can fix what it sends).
        return await self._store(GITHUB, tenant, headers.get("x-github-delivery"), draft, redact=True)

    def _github_tenant(self, repository: str | None) -> str:
        return self._tenants.resolve("github", repository or "")

    @staticmethod
    def _github_payload(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        # GitHub offers two content types: application/json, or a form with the JSON in `payload`.
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            body = (parse_qs(body.decode("utf-8", "replace")).get("payload") or [""])[0].encode()
        payload = _json(body)
        if not isinstance(payload, dict):
            raise InvalidInput("a GitHub payload is a JSON object")
        return payload

    # --- HTTP: a few lines each ------------------------------------------------------------------------

    async def _read(self, request: Request) -> bytes:
        limit = self._settings.max_body_bytes
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise TooLarge(f"the body is over {limit} bytes", limit=limit, size=int(length))
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"the body is over {limit} bytes", limit=limit, size=size)
            chunks.append(chunk)
        return b"".join(chunks)

    async def _answer(self, request: Request, handle: Callable[[bytes], Any]) -> Response:
        try:
            answer: Answer = await handle(await self._read(request))
        except BadSignature as exc:
            logger.warning("refused webhook delivery to %s: %s", request.url.path, exc)
            answer = Answer(401, {"error": "bad_signature", "detail": str(exc)})
        except Exception as exc:
            status, body, headers = error_answer(exc)
            answer = Answer(status, body, headers)
        if answer.body is None:
            return Response(status_code=answer.status, headers=answer.headers)
        return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)

    async def _github_endpoint(self, request: Request) -> Response:
        return await self._answer(request, lambda body: self.github(request.headers, body))

    async def _generic_endpoint(self, request: Request) -> Response:
        name = request.path_params["name"]
        return await self._answer(request, lambda body: self.generic(name, request.headers, body))

    def routes(self) -> list[Route]:
        return [
            Route("/hooks/github", self._github_endpoint, methods=["POST"]),
            Route("/hooks/{name}", self._generic_endpoint, methods=["POST"]),
        ]
