"""The REST API under /api/v1: memories, query, reflect, quality, stats; bearer API keys, rate limited."""

# No `from __future__ import annotations` here: FastAPI reads the handlers' annotations at run time,
# and `Who` below is local to build_api.

import logging
import math
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from memory_core import (
    Actor,
    ApiKeyInfo,
    ApiKeys,
    ConfigurationError,
    Duplicate,
    Hit,
    Importance,
    InvalidInput,
    Memory,
    MemoryCore,
    MemoryDraft,
    MemoryPatch,
    NotFound,
    PermissionDenied,
    PossibleConflict,
    QualityReport,
    QueryFilters,
    RateLimiter,
    Reflection,
    Scope,
    Source,
    Stats,
    TagCount,
    TeamloreError,
    TooLarge,
    Unavailable,
    UnknownIdentity,
    lookup_error,
    new_reference,
    require_scope,
)

from .settings import ApiSettings

__all__ = ["RateLimiter", "build_api", "install_error_handlers"]

logger = logging.getLogger(__name__)


# --- errors: one table from core error to HTTP ----------------------------------------------------------

# Looked up along the error's MRO (`memory_core.lookup_error`): the most specific class listed wins.
_STATUS: dict[type[BaseException], int] = {
    UnknownIdentity: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Duplicate: 409,
    TooLarge: 413,
    InvalidInput: 422,
    Unavailable: 503,
    ConfigurationError: 503,
}

# A validation error says where and what, with a short excerpt of the value, never the whole input.
_MAX_PROBLEMS = 5
_EXCERPT_CHARS = 40
_MAX_DETAIL_CHARS = 600


def _error_response(exc: TeamloreError) -> JSONResponse:
    status = lookup_error(_STATUS, exc)
    if status is None:
        return _internal_error(exc)
    headers = {"Retry-After": "30"} if isinstance(exc, Unavailable) else {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, ConfigurationError):
        # A person must act: the operator reads it in the log, the caller gets the code.
        logger.error("the deployment needs attention: %s", exc)
    body: dict[str, Any] = {"error": exc.code, "detail": str(exc)}
    if isinstance(exc, Duplicate):
        body["id"] = exc.existing_id
    return JSONResponse(body, status_code=status, headers=headers)


def _internal_error(exc: BaseException) -> JSONResponse:
    reference = new_reference()
    logger.error("unexpected error (ref %s)", reference, exc_info=exc)
    return JSONResponse(
        {"error": "internal", "detail": f"internal error (ref {reference})", "ref": reference},
        status_code=500,
    )


def validation_detail(errors: Any) -> str:
    """Pydantic/FastAPI errors as one bounded line: `body.limit: Input should be ... (got nan)`."""
    problems = []
    for error in list(errors)[:_MAX_PROBLEMS]:
        where = ".".join(str(p) for p in error.get("loc", ()))
        problem = f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid"))
        value = error.get("input")
        if isinstance(value, str | int | float | bool) and error.get("type") != "missing":
            problem += f" (got {_excerpt(value)})"
        problems.append(problem)
    more = len(list(errors)) - _MAX_PROBLEMS
    if more > 0:
        problems.append(f"and {more} more")
    detail = "; ".join(problems)
    return detail if len(detail) <= _MAX_DETAIL_CHARS else detail[: _MAX_DETAIL_CHARS - 3] + "..."


def _excerpt(value: object) -> str:
    # ascii(): every answer is valid JSON and UTF-8 even when the input held a lone surrogate.
    text = ascii(value)
    return text if len(text) <= _EXCERPT_CHARS else text[: _EXCERPT_CHARS - 3] + "..."


def _invalid_response(errors: Any) -> JSONResponse:
    return JSONResponse({"error": InvalidInput.code, "detail": validation_detail(errors)}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    async def on_teamlore_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TeamloreError)
        return _error_response(exc)

    async def on_invalid_model(_request: Request, exc: Exception) -> Response:
        # A value the request schema allowed but a core value type refused (e.g. kind "0x"): bad input.
        assert isinstance(exc, ValidationError)
        return _invalid_response(exc.errors())

    async def on_invalid_request(_request: Request, exc: Exception) -> Response:
        # FastAPI's own 422 echoes the whole input (a 20 MB body came back whole) and can hold NaN or a
        # lone surrogate that no JSON answer can carry: one documented shape, bounded, instead.
        assert isinstance(exc, RequestValidationError)
        return _invalid_response(exc.errors())

    async def on_unexpected(_request: Request, exc: Exception) -> Response:
        return _internal_error(exc)

    app.add_exception_handler(TeamloreError, on_teamlore_error)
    app.add_exception_handler(ValidationError, on_invalid_model)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(Exception, on_unexpected)


# --- rate limit ------------------------------------------------------------------------------------------


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after


# --- request and response models ---------------------------------------------------------------------------

# NaN and ±Infinity pass every `gt`/`le` bound (they compare false): refused as numbers outright.
_REQUEST = ConfigDict(extra="forbid", allow_inf_nan=False)


class StoreRequest(BaseModel):
    model_config = _REQUEST

    text: str = Field(min_length=1, description="What to remember.")
    tags: list[str] = Field(default_factory=list, max_length=32)
    importance: Importance = Importance.NORMAL
    kind: str = Field("note", max_length=32)
    title: str | None = Field(None, max_length=500)
    source_ref: str | None = Field(None, max_length=1000, description="A link back to where it came from.")
    author: str | None = Field(
        None, max_length=200, description="Who it comes from (default: the key's name)."
    )
    ttl_days: float | None = Field(
        None, gt=0, le=36500, description="Hide it from queries after this many days."
    )
    supersedes: int | None = Field(None, ge=1, description="The id of a memory this one replaces.")
    redact: bool = Field(False, description="Store credentials redacted instead of refusing the text.")


class StoreResponse(BaseModel):
    id: int
    created: bool
    duplicate_of: int | None
    near_duplicates: list[int]
    redacted: list[str]
    contradicts: list[PossibleConflict] = Field(
        description="Stored memories this one may contradict; store it again with `supersedes` to replace."
    )
    memory: Memory


class PatchRequest(BaseModel):
    model_config = _REQUEST

    text: str | None = Field(None, min_length=1)
    tags: list[str] | None = Field(None, max_length=32)
    importance: Importance | None = None
    kind: str | None = Field(None, max_length=32)
    title: str | None = Field(None, max_length=500)
    ttl_days: float | None = Field(None, gt=0, le=36500)
    clear_expiry: bool = False


class QueryRequest(BaseModel):
    model_config = _REQUEST

    question: str = Field(min_length=1, max_length=2000)
    limit: int = Field(5, ge=1, le=100)
    tags: list[str] = Field(default_factory=list, max_length=16)
    kind: str | None = Field(None, max_length=32)
    source: Source | None = None
    author: str | None = Field(None, max_length=200)
    since: datetime | None = None
    until: datetime | None = None
    mode: Literal["hybrid", "vector", "keyword"] = "hybrid"
    include_expired: bool = False
    include_superseded: bool = Field(False, description="Also memories replaced by newer ones.")


class ReflectRequest(BaseModel):
    model_config = _REQUEST

    topic: str | None = Field(None, max_length=500)
    since: datetime | None = None
    until: datetime | None = None
    tags: list[str] = Field(default_factory=list, max_length=16)
    dry_run: bool = False


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _expiry(ttl_days: float | None) -> datetime | None:
    return None if ttl_days is None else datetime.now(UTC) + timedelta(days=ttl_days)


# --- the router -----------------------------------------------------------------------------------------


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: ApiKeyInfo

    @property
    def actor(self) -> Actor:
        return self.key.actor

    @property
    def tenant(self) -> str:
        return self.key.tenant

    def require(self, needed: Scope, action: str) -> None:
        require_scope(self.key.scope, needed, action)


def build_api(core: MemoryCore, keys: ApiKeys, settings: ApiSettings) -> APIRouter:
    """The /api/v1 router. Handlers translate HTTP ⇄ core calls; the key decides tenant and scope."""
    limiter = RateLimiter(settings.rate_limit_per_minute, settings.burst)
    bearer = HTTPBearer(auto_error=False, description="A teamlore API key: `teamlore keys create`.")

    async def caller(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise UnknownIdentity("send Authorization: Bearer <teamlore API key>")
        key = await keys.authenticate(credentials.credentials)
        wait = limiter.take(key.id)
        if wait > 0:
            raise RateLimited(wait)
        return Caller(key=key)

    Who = Annotated[Caller, Depends(caller)]
    router = APIRouter(prefix="/api/v1", tags=["memories"])

    @router.post(
        "/memories",
        response_model=StoreResponse,
        status_code=201,
        responses={200: {"model": StoreResponse, "description": "Already stored: the existing memory."}},
    )
    async def store_memory(body: StoreRequest, who: Who, response: Response) -> StoreResponse:
        """Remember something. 201 with the new memory; 200 with the existing one when already stored."""
        who.require(Scope.WRITE, "store memories")
        draft = MemoryDraft(
            text=body.text,
            tags=tuple(body.tags),
            importance=body.importance,
            kind=body.kind,
            title=body.title,
            source=Source.API,
            source_ref=body.source_ref,
            author=body.author or who.actor.name,
            author_id=who.actor.id,
            expires_at=_expiry(body.ttl_days),
            supersedes=body.supersedes,
        )
        result = await core.store(who.tenant, draft, redact=body.redact)
        if not result.created:
            response.status_code = 200
        return StoreResponse(
            id=result.id,
            created=result.created,
            duplicate_of=result.duplicate_of,
            near_duplicates=list(result.near_duplicates),
            redacted=list(result.redacted),
            contradicts=list(result.contradicts),
            memory=result.memory,
        )

    @router.get("/memories", response_model=list[Memory])
    async def recent_memories(
        who: Who,
        limit: Annotated[int, Query(ge=1, le=200)] = 20,
        tag: Annotated[list[str] | None, Query()] = None,
        kind: Annotated[str | None, Query(max_length=32)] = None,
        since: datetime | None = None,
    ) -> list[Memory]:
        """The newest memories first (expired ones hidden)."""
        filters = QueryFilters(tags=tuple(tag or ()), kind=kind, since=_aware(since))
        return await core.recent(who.tenant, limit=limit, filters=filters)

    @router.get("/memories/{memory_id}", response_model=Memory)
    async def get_memory(memory_id: int, who: Who) -> Memory:
        """One memory by id."""
        return await core.get(who.tenant, memory_id)

    @router.patch("/memories/{memory_id}", response_model=Memory)
    async def update_memory(memory_id: int, body: PatchRequest, who: Who) -> Memory:
        """Change a memory (its author's key or an admin key)."""
        who.require(Scope.WRITE, "change memories")
        patch = MemoryPatch(
            text=body.text,
            tags=tuple(body.tags) if body.tags is not None else None,
            importance=body.importance,
            kind=body.kind,
            title=body.title,
            expires_at=_expiry(body.ttl_days),
            clear_expiry=body.clear_expiry,
        )
        return await core.update(who.tenant, memory_id, patch, actor=who.actor)

    @router.delete("/memories/{memory_id}", status_code=204)
    async def delete_memory(memory_id: int, who: Who) -> Response:
        """Delete for real (its author's key or an admin key); the audit log records it."""
        who.require(Scope.WRITE, "delete memories")
        await core.delete(who.tenant, memory_id, actor=who.actor)
        return Response(status_code=204)

    @router.post("/query", response_model=list[Hit])
    async def query_memories(body: QueryRequest, who: Who) -> list[Hit]:
        """Hybrid search; each hit carries its score breakdown."""
        filters = QueryFilters(
            tags=tuple(body.tags),
            kind=body.kind,
            source=body.source,
            author=body.author,
            since=_aware(body.since),
            until=_aware(body.until),
            include_expired=body.include_expired,
            include_superseded=body.include_superseded,
        )
        return await core.query(who.tenant, body.question, filters=filters, limit=body.limit, mode=body.mode)

    @router.post("/reflect", response_model=Reflection)
    async def reflect(body: ReflectRequest, who: Who) -> Reflection:
        """A cited synthesis of what the memory knows about a topic or a time window."""
        if not body.dry_run:
            who.require(Scope.WRITE, "save reflections (use dry_run with a read key)")
        filters = QueryFilters(tags=tuple(body.tags), since=_aware(body.since), until=_aware(body.until))
        return await core.reflect(
            who.tenant, body.topic, filters=filters, dry_run=body.dry_run, actor=who.actor
        )

    @router.get("/quality", response_model=QualityReport)
    async def quality(who: Who, save: bool = False) -> QualityReport:
        """The quality report; `save=true` (write scope) keeps it for the trend."""
        if save:
            who.require(Scope.WRITE, "save quality reports")
        return await core.quality_report(who.tenant, save=save)

    @router.get("/stats", response_model=Stats)
    async def stats(who: Who) -> Stats:
        return await core.stats(who.tenant)

    @router.get("/tags", response_model=list[TagCount])
    async def tags(who: Who) -> list[TagCount]:
        return await core.list_tags(who.tenant)

    return router


def install_rate_limit_handler(app: FastAPI) -> None:
    async def on_rate_limited(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RateLimited)
        seconds = max(1, math.ceil(exc.retry_after))
        return JSONResponse(
            {"error": "rate_limited", "detail": f"too many requests; retry in {seconds} s"},
            status_code=429,
            headers={"Retry-After": str(seconds)},
        )

    app.add_exception_handler(RateLimited, on_rate_limited)
