"""HTTP mode: the `POST /slack/events` route that teamlore's web app mounts (Starlette/FastAPI).

One endpoint takes everything Slack sends (slash commands, Events API callbacks, shortcuts, button
clicks); Bolt verifies `X-Slack-Signature` with the signing secret and refuses requests older than five
minutes with 401 before any listener runs. Bolt's Starlette adapter (`AsyncSlackRequestHandler`) does
the translation; only reading the body comes first and is ours: bodies are capped (Slack's are a few
kilobytes) and must be UTF-8, and `X-Slack-Request-Timestamp` must be whole seconds (Bolt would fail
with a 500 on `abc`, `1.5` or an empty one), so a hostile client can neither make the endpoint buffer
megabytes nor fail it with a 500. A bad timestamp is refused exactly like a bad signature: 401.
"""

from __future__ import annotations

import logging
import re

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message

__all__ = ["MAX_BODY_BYTES", "slack_routes"]

MAX_BODY_BYTES = 1_000_000

logger = logging.getLogger(__name__)

_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would also take "١٢" or " 12"


def _bad_timestamp(request: Request) -> Response | None:
    """401 (Bolt's own answer to a bad signature) when the timestamp header is missing or not an integer."""
    if _TIMESTAMP.fullmatch(request.headers.get("x-slack-request-timestamp", "")):
        return None
    logger.info("refused a Slack request: X-Slack-Request-Timestamp is missing or not whole seconds")
    return JSONResponse({"error": "invalid request"}, status_code=401)


async def _read_body(request: Request) -> bytes | Response:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return PlainTextResponse("request body too large", status_code=413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return PlainTextResponse("request body too large", status_code=413)
        chunks.append(chunk)
    body = b"".join(chunks)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return PlainTextResponse("request body is not UTF-8", status_code=400)
    return body


def slack_routes(app: AsyncApp, *, path: str = "/slack/events") -> list[Route]:
    """`[Route(path, POST)]` serving the Bolt `app`; mount in the web app: `routes=[*slack_routes(app)]`."""
    handler = AsyncSlackRequestHandler(app)

    async def slack_events(request: Request) -> Response:
        refused = _bad_timestamp(request)
        if refused is not None:
            return refused
        body = await _read_body(request)
        if isinstance(body, Response):
            return body

        async def replay() -> Message:  # the checked body, handed to Bolt's adapter as a fresh request
            return {"type": "http.request", "body": body, "more_body": False}

        return await handler.handle(Request(request.scope, replay))

    return [Route(path, slack_events, methods=["POST"], name="slack_events")]
