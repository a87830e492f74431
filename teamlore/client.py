"""The Python client for programs: `Client` and `AsyncClient` over teamlore's REST API (httpx only).

    from teamlore.client import Client

    with Client("http://127.0.0.1:8080", api_key="tlk_…") as lore:   # or TEAMLORE_URL / TEAMLORE_API_KEY
        stored = lore.store("Deploys happen on Tuesdays", tags=["release"], kind="decision")
        for hit in lore.query("when do we deploy?", tags=["release"]):
            print(hit.memory.id, hit.score, hit.memory.text)

Results are this module's own frozen dataclasses (`Memory`, `Hit`, `StoreResult`, …): the client
imports nothing of the server, so it can be vendored into any program that has httpx.

Errors form one tree; each HTTP answer maps to one class, by status first and, where the body carries
one, by its error code (`{"error": "not_found"}` or `{"code": "too_large"}`):

    TeamloreClientError              anything this client raises on purpose
    ├── APIError                     the server answered with an error (status, code, detail, reference)
    │   ├── AuthenticationError      401: missing, unknown or revoked API key
    │   ├── PermissionDeniedError    403: the key's scope does not allow it, or not its memory
    │   ├── NotFoundError            404: no such memory in the key's tenant
    │   ├── InvalidInputError        400/409/422: the server will not take this input as it is
    │   │   └── TooLargeError        413 (or code too_large): text or body over a limit
    │   ├── RateLimitedError         429 after the retries ran out; `retry_after` seconds
    │   └── ServerError              5xx
    │       └── UnavailableError     503 after the retries ran out; `retry_after` seconds
    └── NetworkError                 no answer: connection refused, reset, DNS, TLS
        └── RequestTimeout           no answer within the timeout

429 and 503 are retried: the client waits what `Retry-After` asks (or an exponential backoff, 0.5 s
doubling, when the server names no time), each wait at most `max_retry_wait` seconds, at most
`max_retries` times; then it raises. Retrying a store is safe: the server keeps an exact text once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import functools
import inspect
import os
import random
import time
import types
import typing
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Concatenate, Generic, Literal, ParamSpec, TypeVar

import httpx

__all__ = [
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "Conflict",
    "Finding",
    "Hit",
    "InvalidInputError",
    "Memory",
    "NetworkError",
    "NotFoundError",
    "PermissionDeniedError",
    "QualityReport",
    "RateLimitedError",
    "Reflection",
    "ReflectionPoint",
    "RequestTimeout",
    "ScoreBreakdown",
    "ServerError",
    "Stats",
    "StoreResult",
    "TagCount",
    "TeamloreClientError",
    "TimelineEntry",
    "TooLargeError",
    "TrendPoint",
    "UnavailableError",
]

DEFAULT_URL = "http://127.0.0.1:8080"
Importance = Literal["low", "normal", "high", "critical"]
SearchMode = Literal["hybrid", "vector", "keyword"]

# --- results -------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Memory:
    """One stored memory."""

    id: int
    tenant: str
    text: str
    kind: str
    tags: tuple[str, ...]
    importance: str
    source: str
    created_at: datetime
    updated_at: datetime
    source_ref: str | None = None
    title: str | None = None
    author: str | None = None
    author_id: str | None = None
    expires_at: datetime | None = None
    supersedes: int | None = None
    superseded_by: int | None = None
    content_hash: str = ""
    embedding_model: str = ""
    access_count: int = 0
    last_accessed_at: datetime | None = None
    links: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class StoreResult:
    """What a store answers: the memory (the existing one when the text was already stored)."""

    id: int
    created: bool
    memory: Memory
    duplicate_of: int | None = None
    near_duplicates: tuple[int, ...] = ()
    redacted: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ScoreBreakdown:
    """Why a hit ranks where it does."""

    fused: float
    final: float
    vector_rank: int | None = None
    vector_similarity: float | None = None
    keyword_rank: int | None = None
    keyword_score: float | None = None
    date_boost: float = 0.0
    context: float = 0.0
    importance_boost: float = 0.0
    recency_boost: float = 0.0


@dataclasses.dataclass(frozen=True)
class Hit:
    """A memory found by a query, with its score and the breakdown behind it."""

    memory: Memory
    score: float
    breakdown: ScoreBreakdown


@dataclasses.dataclass(frozen=True)
class ReflectionPoint:
    text: str
    sources: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    text: str
    id: int


@dataclasses.dataclass(frozen=True)
class Conflict:
    ids: tuple[int, ...]
    reason: str


@dataclasses.dataclass(frozen=True)
class Reflection:
    """A cited synthesis; `id` is the saved reflection memory (None on a dry run)."""

    summary: str
    id: int | None = None
    topic: str | None = None
    points: tuple[ReflectionPoint, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    duplicates: tuple[tuple[int, ...], ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    sources: tuple[int, ...] = ()
    synthesis: str = "extractive"
    notice: str | None = None


@dataclasses.dataclass(frozen=True)
class Finding:
    kind: str
    severity: str
    message: str
    memory_ids: tuple[int, ...] = ()
    hint: str = ""


@dataclasses.dataclass(frozen=True)
class TrendPoint:
    at: datetime
    score: int


@dataclasses.dataclass(frozen=True)
class QualityReport:
    """The 0-100 score, its findings and the earlier scores (oldest first)."""

    tenant: str
    score: int
    created_at: datetime
    id: int | None = None
    findings: tuple[Finding, ...] = ()
    trend: tuple[TrendPoint, ...] = ()


@dataclasses.dataclass(frozen=True)
class TagCount:
    tag: str
    count: int


@dataclasses.dataclass(frozen=True)
class Stats:
    tenant: str
    memories: int
    expired: int = 0
    by_kind: dict[str, int] = dataclasses.field(default_factory=dict)
    by_source: dict[str, int] = dataclasses.field(default_factory=dict)
    top_tags: tuple[TagCount, ...] = ()
    indexed_vectors: int = 0
    embedding_model: str = ""
    embedding_dim: int = 0
    oldest: datetime | None = None
    newest: datetime | None = None


R = TypeVar("R")


def _convert(hint: Any, value: Any) -> Any:
    """JSON value -> the annotated Python type (dataclasses, tuples, datetimes, unions with None)."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(inner[0], value)
    if origin is tuple:
        args = typing.get_args(hint)
        return tuple(_convert(args[0], v) for v in value)
    if origin is dict:
        _key, item = typing.get_args(hint)
        return {str(k): _convert(item, v) for k, v in value.items()}
    if hint is datetime:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _parse(hint, value)
    if hint is float:
        return float(value)
    return value


def _parse(cls: type[R], data: Mapping[str, Any]) -> R:
    """Build a result dataclass from a JSON object; unknown keys (a newer server) are ignored."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: _convert(hints[k], v) for k, v in data.items() if k in known})


# --- errors ----------------------------------------------------------------------------------------------


class TeamloreClientError(Exception):
    """Root of every error this client raises on purpose."""


class APIError(TeamloreClientError):
    """The server answered with an error status."""

    def __init__(
        self, message: str, *, status: int, code: str | None = None, reference: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = message
        self.reference = reference


class AuthenticationError(APIError):
    """401: the API key is missing, unknown or revoked."""


class PermissionDeniedError(APIError):
    """403: the key's scope does not allow this, or the memory is not the key's own."""


class NotFoundError(APIError):
    """404: no such memory in the key's tenant."""


class InvalidInputError(APIError):
    """400, 409, 422: the server will not take this input as it is; the message says why."""


class TooLargeError(InvalidInputError):
    """413: text or body over the server's limit."""


class _Retryable(APIError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RateLimitedError(_Retryable):
    """429 after the retries ran out; `retry_after` is the wait the server asked for (seconds)."""


class ServerError(APIError):
    """5xx: the server failed; `reference` names the log line for its operator."""


class UnavailableError(ServerError, _Retryable):
    """503 after the retries ran out: the server is busy or starting; try again after `retry_after`."""


class NetworkError(TeamloreClientError):
    """No answer from the server: connection refused or reset, name resolution, TLS."""


class RequestTimeout(NetworkError):
    """The server did not answer within the configured timeout."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: InvalidInputError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: InvalidInputError,
    413: TooLargeError,
    422: InvalidInputError,
    429: RateLimitedError,
    503: UnavailableError,
}
# Error codes, with "_" dropped so the old bodies ("invalidinput") and the new ("invalid_input") agree.
_BY_CODE: dict[str, type[APIError]] = {
    "unknownidentity": AuthenticationError,
    "unauthenticated": AuthenticationError,
    "unauthorized": AuthenticationError,
    "permissiondenied": PermissionDeniedError,
    "forbidden": PermissionDeniedError,
    "notfound": NotFoundError,
    "invalidinput": InvalidInputError,
    "credentialdetected": InvalidInputError,
    "duplicate": InvalidInputError,
    "toolarge": TooLargeError,
    "ratelimited": RateLimitedError,
    "unavailable": UnavailableError,
    "internal": ServerError,
    "configurationerror": ServerError,
    "modelmismatch": ServerError,
}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_from_response(response: httpx.Response) -> APIError:
    """The one error class for an error answer: by status, refined by the body's code where it has one."""
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    raw_code = body.get("code") or body.get("error")
    code = str(raw_code) if isinstance(raw_code, str) else None
    detail = body.get("detail")
    if not isinstance(detail, str):
        # FastAPI's own 422 carries a list of problems.
        detail = str(detail) if detail else (response.reason_phrase or f"HTTP {response.status_code}")
    by_code = _BY_CODE.get(code.replace("_", "").lower()) if code else None
    cls = _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = ServerError if response.status_code >= 500 else (by_code or InvalidInputError)
    elif by_code is not None and issubclass(by_code, cls):
        cls = by_code  # a more precise class than the status alone says (422 + too_large)
    kwargs: dict[str, Any] = {
        "status": response.status_code,
        "code": code,
        "reference": body.get("ref") if isinstance(body.get("ref"), str) else None,
    }
    if issubclass(cls, _Retryable):
        kwargs["retry_after"] = _retry_after(response)
    return cls(detail, **kwargs)


def _network_error(exc: httpx.TransportError, url: str) -> NetworkError:
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(f"teamlore at {url} did not answer in time ({type(exc).__name__})")
    return NetworkError(f"could not reach teamlore at {url}: {exc or type(exc).__name__}")


# --- the operations: each builds one REST call; Client and AsyncClient only send them -----------------------


def _when(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@dataclasses.dataclass(frozen=True)
class _Call(Generic[R]):
    """One REST call, and how to read its answer."""

    method: str
    path: str
    parse: Callable[[Any], R]
    json: Any = None
    params: Any = None


def _list_of(cls: type[R]) -> Callable[[Any], list[R]]:
    return lambda data: [_parse(cls, item) for item in data]


def _one(cls: type[R]) -> Callable[[Any], R]:
    return lambda data: _parse(cls, data)


def _store(
    text: str,
    *,
    tags: Sequence[str] = (),
    importance: Importance = "normal",
    kind: str = "note",
    title: str | None = None,
    source_ref: str | None = None,
    author: str | None = None,
    ttl_days: float | None = None,
    supersedes: int | None = None,
    redact: bool = False,
) -> _Call[StoreResult]:
    """Remember `text`; `created` is False (and `duplicate_of` set) when it was already stored.

    `author` defaults to the API key's name; `ttl_days` hides it from queries after that many days;
    `supersedes` names a memory this one replaces; `redact` stores credentials redacted instead of
    refusing the text.
    """
    body = _drop_none(
        {
            "text": text,
            "tags": list(tags),
            "importance": importance,
            "kind": kind,
            "title": title,
            "source_ref": source_ref,
            "author": author,
            "ttl_days": ttl_days,
            "supersedes": supersedes,
        }
    )
    if redact:
        body["redact"] = True
    return _Call("POST", "/api/v1/memories", _one(StoreResult), json=body)


def _query(
    question: str,
    *,
    limit: int = 5,
    tags: Sequence[str] = (),
    kind: str | None = None,
    source: str | None = None,
    author: str | None = None,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    mode: SearchMode = "hybrid",
    include_expired: bool = False,
    include_superseded: bool | None = None,
) -> _Call[list[Hit]]:
    """Hybrid search, best first. Filters combine with AND; every tag in `tags` must be present."""
    body = _drop_none(
        {
            "question": question,
            "limit": limit,
            "tags": list(tags),
            "kind": kind,
            "source": source,
            "author": author,
            "since": _when(since),
            "until": _when(until),
            "mode": mode,
            # Sent only when asked for, so the client also works with servers that predate it.
            "include_superseded": include_superseded,
        }
    )
    if include_expired:
        body["include_expired"] = True
    return _Call("POST", "/api/v1/query", _list_of(Hit), json=body)


def _get(memory_id: int) -> _Call[Memory]:
    """One memory by id."""
    return _Call("GET", f"/api/v1/memories/{int(memory_id)}", _one(Memory))


def _update(
    memory_id: int,
    *,
    text: str | None = None,
    tags: Sequence[str] | None = None,
    importance: Importance | None = None,
    kind: str | None = None,
    title: str | None = None,
    ttl_days: float | None = None,
    clear_expiry: bool = False,
) -> _Call[Memory]:
    """Change a memory (the key's own, or any with an admin key); None leaves a field as it is."""
    body = _drop_none(
        {
            "text": text,
            "tags": list(tags) if tags is not None else None,
            "importance": importance,
            "kind": kind,
            "title": title,
            "ttl_days": ttl_days,
        }
    )
    if clear_expiry:
        body["clear_expiry"] = True
    return _Call("PATCH", f"/api/v1/memories/{int(memory_id)}", _one(Memory), json=body)


def _forget(memory_id: int) -> _Call[None]:
    """Delete for real (the key's own memories, or any with an admin key); the audit log records it."""
    return _Call("DELETE", f"/api/v1/memories/{int(memory_id)}", lambda _data: None)


def _recent(
    *,
    limit: int = 20,
    tags: Sequence[str] = (),
    kind: str | None = None,
    since: datetime | str | None = None,
) -> _Call[list[Memory]]:
    """The newest memories first (expired ones hidden)."""
    params: list[tuple[str, str]] = [("limit", str(limit))]
    params += [("tag", t) for t in tags]
    if kind is not None:
        params.append(("kind", kind))
    if since is not None:
        params.append(("since", str(_when(since))))
    return _Call("GET", "/api/v1/memories", _list_of(Memory), params=params)


def _reflect(
    topic: str | None = None,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    tags: Sequence[str] = (),
    dry_run: bool = False,
) -> _Call[Reflection]:
    """A cited synthesis of a topic or time window; saved unless `dry_run` (a read key needs it)."""
    body = _drop_none({"topic": topic, "since": _when(since), "until": _when(until), "tags": list(tags)})
    body["dry_run"] = dry_run
    return _Call("POST", "/api/v1/reflect", _one(Reflection), json=body)


def _quality(*, save: bool = False) -> _Call[QualityReport]:
    """The quality report; `save=True` (write key) keeps it for the trend."""
    return _Call("GET", "/api/v1/quality", _one(QualityReport), params={"save": "true"} if save else None)


def _stats() -> _Call[Stats]:
    """Counts by kind, source and tag; index size and model."""
    return _Call("GET", "/api/v1/stats", _one(Stats))


def _tags() -> _Call[list[TagCount]]:
    """Every tag in use with its count."""
    return _Call("GET", "/api/v1/tags", _list_of(TagCount))


class _Base:
    def __init__(
        self,
        base_url: str | None,
        api_key: str | None,
        *,
        timeout: float | httpx.Timeout,
        max_retries: int,
        max_retry_wait: float,
    ) -> None:
        url = base_url or os.environ.get("TEAMLORE_URL") or DEFAULT_URL
        key = api_key or os.environ.get("TEAMLORE_API_KEY")
        if not key:
            raise TeamloreClientError(
                "no API key: pass api_key=... or set TEAMLORE_API_KEY (teamlore keys create)"
            )
        if max_retries < 0 or max_retry_wait < 0:
            raise ValueError("max_retries and max_retry_wait must not be negative")
        self.base_url = url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self._headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}

    def __repr__(self) -> str:  # never the key
        return f"{type(self).__name__}({self.base_url!r})"

    def _request(self, call: _Call[Any]) -> dict[str, Any]:
        return {
            "method": call.method,
            "url": self.base_url + call.path,
            "json": call.json,
            "params": call.params,
            "headers": self._headers,
            "timeout": self.timeout,
        }

    def _wait(self, attempt: int, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying this answer, or None when it is not retried."""
        if response.status_code not in (429, 503) or attempt >= self.max_retries:
            return None
        asked = _retry_after(response)
        backoff = 0.5 * 2**attempt * (1 + random.random() / 4)  # jitter keeps many clients apart
        return min(asked if asked is not None else backoff, self.max_retry_wait)

    @staticmethod
    def _result(call: _Call[R], response: httpx.Response) -> R:
        if response.is_success:
            return call.parse(response.json() if response.content else None)
        raise error_from_response(response)


P = ParamSpec("P")


def _method_signature(build: Callable[..., Any]) -> inspect.Signature:
    """The operation's signature as a method's, answering the result (not the call): for help()."""
    signature = inspect.signature(build)
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    answer = str(signature.return_annotation).removeprefix("_Call[").removesuffix("]")
    return signature.replace(
        parameters=[self_param, *signature.parameters.values()], return_annotation=answer
    )


def _as_method(method: Any, build: Callable[..., Any], owner: str) -> None:
    """Name and sign the method as the public operation (`Client.query`), not its builder (`_query`)."""
    method.__signature__ = _method_signature(build)
    method.__name__ = build.__name__.lstrip("_")
    method.__qualname__ = f"{owner}.{method.__name__}"


def _sync(build: Callable[P, _Call[R]]) -> Callable[Concatenate[Client, P], R]:
    @functools.wraps(build)
    def method(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._send(build(*args, **kwargs))

    _as_method(method, build, "Client")
    return method


def _async(build: Callable[P, _Call[R]]) -> Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, R]]:
    @functools.wraps(build)
    async def method(self: AsyncClient, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await self._send(build(*args, **kwargs))

    _as_method(method, build, "AsyncClient")
    return method


class Client(_Base):
    """teamlore's REST API for synchronous programs; one instance may be shared between threads.

    Args:
        base_url: e.g. http://127.0.0.1:8080 (default: TEAMLORE_URL, else that address).
        api_key: a key from `teamlore keys create` (default: TEAMLORE_API_KEY).
        timeout: seconds, or an `httpx.Timeout`, for each request.
        max_retries: how often a 429 or 503 is retried before it is raised (0: never).
        max_retry_wait: the longest single wait between attempts, in seconds.
        http_client: an `httpx.Client` of your own (proxies, certificates, event hooks); you close it.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout = 10.0,
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            base_url, api_key, timeout=timeout, max_retries=max_retries, max_retry_wait=max_retry_wait
        )
        self._owned = http_client is None
        self._http = http_client or httpx.Client()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def _send(self, call: _Call[R]) -> R:
        attempt = 0
        while True:
            try:
                response = self._http.request(**self._request(call))
            except httpx.TransportError as exc:
                raise _network_error(exc, self.base_url) from exc
            wait = self._wait(attempt, response)
            if wait is None:
                return self._result(call, response)
            attempt += 1
            time.sleep(wait)

    store = _sync(_store)
    query = _sync(_query)
    get = _sync(_get)
    update = _sync(_update)
    forget = _sync(_forget)
    recent = _sync(_recent)
    reflect = _sync(_reflect)
    quality = _sync(_quality)
    stats = _sync(_stats)
    tags = _sync(_tags)


class AsyncClient(_Base):
    """teamlore's REST API for asyncio programs: the same methods and arguments as `Client`, awaited.

    `http_client` is an `httpx.AsyncClient` of your own; close with `await aclose()` or `async with`.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout = 10.0,
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            base_url, api_key, timeout=timeout, max_retries=max_retries, max_retry_wait=max_retry_wait
        )
        self._owned = http_client is None
        self._http = http_client or httpx.AsyncClient()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owned:
            await self._http.aclose()

    async def _send(self, call: _Call[R]) -> R:
        attempt = 0
        while True:
            try:
                response = await self._http.request(**self._request(call))
            except httpx.TransportError as exc:
                raise _network_error(exc, self.base_url) from exc
            wait = self._wait(attempt, response)
            if wait is None:
                return self._result(call, response)
            attempt += 1
            await asyncio.sleep(wait)

    store = _async(_store)
    query = _async(_query)
    get = _async(_get)
    update = _async(_update)
    forget = _async(_forget)
    recent = _async(_recent)
    reflect = _async(_reflect)
    quality = _async(_quality)
    stats = _async(_stats)
    tags = _async(_tags)
