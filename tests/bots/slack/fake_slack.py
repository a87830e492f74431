"""A fake Slack for tests and bench/slack_ack.py: signed requests as Slack builds them, Slack's side.

`RecordingSlack` is a real HTTP server on 127.0.0.1 that plays Slack's side: the Web API
(`api_base_url`), the `response_url`s, and the Socket Mode WebSocket. It records everything teamlore
sends. The payload builders produce the bodies Slack sends (form-encoded slash commands, JSON event
callbacks, `payload=` interactions); `signed_headers` signs them the way Slack does (v0 HMAC-SHA256).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import itertools
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from aiohttp import WSMsgType, web
from starlette.types import ASGIApp

__all__ = [
    "Call",
    "RecordingSlack",
    "app_mention",
    "block_action",
    "event_callback",
    "message_shortcut",
    "serve_asgi",
    "signed_headers",
    "slash_command",
]

_ids = itertools.count(1)


def _next(prefix: str) -> str:
    return f"{prefix}{next(_ids):08d}"


def signed_headers(
    secret: str, body: str | bytes, *, timestamp: int | None = None, content_type: str | None = None
) -> dict[str, str]:
    """`X-Slack-Request-Timestamp` and `X-Slack-Signature` (`v0=` HMAC-SHA256 of `v0:{ts}:{body}`)."""
    raw = body.encode() if isinstance(body, str) else body
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}
    if content_type is None:
        content_type = "application/json" if raw.startswith(b"{") else "application/x-www-form-urlencoded"
    headers["Content-Type"] = content_type
    return headers


def _slack_escape(text: str) -> str:
    """What Slack does to `&`, `<`, `>` typed by a person before sending the text to an app."""
    return html.escape(text, quote=False)


def slash_command(
    command: str,
    text: str,
    *,
    response_url: str,
    team_id: str = "T0001",
    team_domain: str = "acme",
    user_id: str = "U0001",
    user_name: str = "alice",
    channel_id: str = "C0001",
    channel_name: str = "general",
    trigger_id: str | None = None,
    escape: bool = True,
) -> str:
    """The form-encoded body of a slash command invocation (the text escaped as Slack does)."""
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": team_id,
            "team_domain": team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": _slack_escape(text) if escape else text,
            "api_app_id": "A0001",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or _next("13345224609.738474920.") + "8ce3e5b7",
        }
    )


def app_mention(
    text: str,
    *,
    user: str = "U0001",
    channel: str = "C0001",
    ts: str | None = None,
    thread_ts: str | None = None,
    bot_user_id: str = "UBOT",
) -> dict[str, Any]:
    """An `app_mention` event: `<@UBOT> ` followed by the (escaped) text."""
    stamp = ts or f"{int(time.time())}.{next(_ids):06d}"
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{bot_user_id}> {_slack_escape(text)}",
        "ts": stamp,
        "channel": channel,
        "event_ts": stamp,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def event_callback(
    event: dict[str, Any], *, team_id: str = "T0001", event_id: str | None = None, bot_user_id: str = "UBOT"
) -> str:
    """The JSON body of an Events API delivery wrapping `event`."""
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": team_id,
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or _next("Ev"),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + _next("ctx"),
        }
    )


def _interaction(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def message_shortcut(
    message: dict[str, Any],
    *,
    response_url: str,
    callback_id: str = "teamlore_save",
    team_id: str = "T0001",
    team_domain: str = "acme",
    user_id: str = "U0002",
    user_name: str = "bob",
    channel_id: str = "C0001",
    trigger_id: str | None = None,
) -> str:
    """The `payload=` body of a message shortcut on `message` ({"user", "text", "ts", ...})."""
    return _interaction(
        {
            "type": "message_action",
            "token": "legacy-verification-token",
            "action_ts": f"{time.time():.6f}",
            "team": {"id": team_id, "domain": team_domain},
            "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
            "channel": {"id": channel_id, "name": "general"},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": trigger_id or _next("13345224609.8534564800.") + "6f8ab1f",
            "response_url": response_url,
            "message_ts": message["ts"],
            "message": {"type": "message", **message},
        }
    )


def block_action(
    action_id: str,
    value: str,
    *,
    response_url: str,
    team_id: str = "T0001",
    user_id: str = "U0001",
    user_name: str = "alice",
    channel_id: str = "C0001",
    trigger_id: str | None = None,
) -> str:
    """The `payload=` body of a button click in an ephemeral message."""
    return _interaction(
        {
            "type": "block_actions",
            "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
            "api_app_id": "A0001",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": "1700000000.000100",
                "channel_id": channel_id,
                "is_ephemeral": True,
            },
            "trigger_id": trigger_id or _next("13345224609.1234567890.") + "0a1b2c3",
            "team": {"id": team_id, "domain": "acme"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": "general"},
            "response_url": response_url,
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": action_id,
                    "text": {"type": "plain_text", "text": "Share to channel"},
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
    )


@dataclass(frozen=True)
class Call:
    """One request teamlore made to the fake Slack: a Web API `method` or a `respond:<key>` post."""

    method: str
    data: dict[str, Any]
    token: str | None = None
    at: float = field(default_factory=time.monotonic)


def _users(names: dict[str, str], user: str) -> dict[str, Any]:
    if user not in names:
        return {"ok": False, "error": "user_not_found"}
    return {"ok": True, "user": {"id": user, "name": names[user], "real_name": names[user].title()}}


class RecordingSlack:
    """A fake Slack on 127.0.0.1 that records what teamlore sends and answers like Slack would.

    Web API at `api_base_url` (auth.test, users.info from `user_names`, chat.getPermalink,
    chat.postMessage, chat.postEphemeral, apps.connections.open), response URLs from
    `response_url(key)`, and a Socket Mode WebSocket to which `send_envelope` pushes deliveries.
    `errors[method] = "code"` makes a method fail as Slack does (`{"ok": false, "error": code}`);
    the methods in `held` are not answered until `release` is set (to catch work done before an ack).
    """

    def __init__(self, *, team_id: str = "T0001", bot_user_id: str = "UBOT") -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.calls: list[Call] = []
        self.user_names: dict[str, str] = {"U0001": "alice", "U0002": "bob", "U0003": "carol"}
        self.errors: dict[str, str] = {}
        self.held: set[str] = set()
        self.release = asyncio.Event()
        self.socket_acks: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # --- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> RecordingSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_get("/link", self._link)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.base_url}/respond/{key}"

    # --- recording ---------------------------------------------------------------------------------

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def of(self, method: str) -> list[Call]:
        """The calls of one Web API method, or the posts to one response URL (`respond:<key>`)."""
        return [call for call in self.calls if call.method == method]

    def responses(self) -> list[Call]:
        return [call for call in self.calls if call.method.startswith("respond:")]

    async def wait_for(self, check: Callable[[RecordingSlack], bool], within: float = 10.0) -> None:
        """Wait until `check(self)` holds (re-checked after every recorded call), at most `within` seconds."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: check(self))

    # --- handlers ----------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        data: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            data.update(await request.json())
        elif request.can_read_body:
            data.update(dict(await request.post()))
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth else data.get("token")
        await self._record(Call(method, data, token))
        if method in self.held:
            await self.release.wait()
        if method in self.errors:
            return web.json_response({"ok": False, "error": self.errors[method]})
        return web.json_response(self._answer(method, data))

    def _answer(self, method: str, data: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://acme.slack.com/",
                "team": "Acme",
                "user": "teamlore",
                "team_id": self.team_id,
                "user_id": self.bot_user_id,
                "bot_id": "B0001",
            }
        if method == "users.info":
            return _users(self.user_names, str(data.get("user")))
        if method == "chat.getPermalink":
            ts = str(data.get("message_ts", "")).replace(".", "")
            return {
                "ok": True,
                "channel": data.get("channel"),
                "permalink": f"https://acme.slack.com/archives/{data.get('channel')}/p{ts}",
            }
        if method in ("chat.postMessage", "chat.postEphemeral"):
            return {
                "ok": True,
                "channel": data.get("channel"),
                "ts": f"{time.time():.6f}",
                "message_ts": f"{time.time():.6f}",
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://{self.base_url.removeprefix('http://')}/link"}
        return {"ok": False, "error": "unknown_method"}

    async def _respond(self, request: web.Request) -> web.Response:
        await self._record(Call("respond:" + request.match_info["key"], await request.json()))
        return web.Response(text="ok")

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await self._record(Call("socket_connect", {}))
        await ws.send_str(
            json.dumps({"type": "hello", "num_connections": 1, "debug_info": {"host": "local"}})
        )
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                data = json.loads(message.data)
                self.socket_acks.append(data)
                await self._record(Call("socket_ack", data))
        self._sockets.remove(ws)
        return ws

    async def send_envelope(
        self, kind: str, payload: dict[str, Any], *, envelope_id: str | None = None
    ) -> str:
        """Deliver over Socket Mode (kind `slash_commands`, `events_api`, `interactive`); returns the id."""
        envelope = envelope_id or _next("env-")
        message = {
            "envelope_id": envelope,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": True,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        await self.wait_for(lambda slack: bool(slack._sockets))
        await self._sockets[-1].send_str(json.dumps(message))
        return envelope


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serve_asgi(app: ASGIApp) -> AsyncIterator[str]:
    """Run an ASGI app with uvicorn on 127.0.0.1 (an ephemeral port); yields its base URL."""
    sock = _free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
