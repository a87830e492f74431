"""A tiny Discord on 127.0.0.1: the REST calls a bot makes at login, and a gateway saying HELLO and READY."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import anyio
from aiohttp import WSMsgType, web

APP_ID = "515151515151515151"
BOT_USER = {"id": APP_ID, "username": "teamlore", "discriminator": "0", "avatar": None, "bot": True}
MESSAGE_CONTENT = 1 << 15


def _json(body: object, status: int = 200) -> web.Response:
    # discord.py decodes JSON only when the content type is exactly application/json (no charset).
    return web.Response(
        body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json"}
    )


@dataclass
class FakeDiscord:
    """Records what the bot did; `refuse_message_content` closes the gateway with 4014 like Discord does."""

    refuse_message_content: bool = False
    valid_token: str = "good-token"
    identified_intents: list[int] = field(default_factory=list)
    synced: list[list[dict[str, Any]]] = field(default_factory=list)
    ready: anyio.Event = field(default_factory=anyio.Event)  # a READY was sent
    closed: anyio.Event = field(default_factory=anyio.Event)  # a bot hung up after READY
    base: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v10/users/@me", self._me)
        app.router.add_get("/api/v10/oauth2/applications/@me", self._application)
        app.router.add_put("/api/v10/applications/{app}/commands", self._sync)
        app.router.add_get("/gateway", self._gateway)
        return app

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.valid_token}"

    async def _me(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        return _json(BOT_USER)

    async def _application(self, request: web.Request) -> web.Response:
        return _json(
            {
                "id": APP_ID,
                "name": "teamlore",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": BOT_USER,
                "verify_key": "0" * 64,
                "flags": 0,
            }
        )

    async def _sync(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.synced.append(body)
        return _json(
            [
                {"description": "", **command, "id": str(1000 + i), "application_id": APP_ID, "version": "1"}
                for i, command in enumerate(body)
            ]
        )

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                break
            payload = json.loads(message.data)
            if payload["op"] == 2:
                intents = payload["d"]["intents"]
                self.identified_intents.append(intents)
                if intents & MESSAGE_CONTENT and self.refuse_message_content:
                    await ws.close(code=4014, message=b"Disallowed intent(s).")
                    return ws
                await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": 1, "d": self._ready()}))
                self.ready.set()
            elif payload["op"] == 1:
                await ws.send_str(json.dumps({"op": 11}))
        if self.ready.is_set():
            self.closed.set()
        return ws

    def _ready(self) -> dict[str, Any]:
        return {
            "v": 10,
            "user": BOT_USER,
            "guilds": [],
            "session_id": "session",
            "resume_gateway_url": self.base.replace("http", "ws") + "/gateway",
            "application": {"id": APP_ID, "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
