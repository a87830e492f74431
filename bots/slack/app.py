"""The Slack front-end as a Bolt `AsyncApp`: acknowledge first, then work, then answer.

Every listener calls `ack()` before anything else, so Slack gets its 200 in milliseconds whatever the
load (`process_before_response=False`: Bolt returns the HTTP response, or the Socket Mode envelope ack,
as soon as `ack()` is called and keeps running the listener). The answer then goes to the request's
`response_url` (slash commands, the shortcut, the Share button) or, for mentions, into the thread with
chat.postMessage. The work after the ack runs in tasks Bolt starts; `SlackBot` keeps a strong
reference to each and `aclose()` waits for them, so an acknowledged /store is not lost on shutdown.

Bolt is asyncio-only, so this package uses asyncio where it touches Bolt's tasks.

Everything is passed in: the bot token (inside the `AsyncWebClient`, whose `base_url` is
`settings.api_base_url`), the signing secret, the core and the tenant map. Bolt reads `SLACK_*`
environment variables only for what is *not* passed; teamlore passes all it uses, but Bolt would still
switch to its OAuth flow if `SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET` were set in the environment,
so do not set those for teamlore.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    async_default_handlers,
)
from slack_sdk.web.async_client import AsyncWebClient
from starlette.routing import Route

from memory_core import ConfigurationError, MemoryCore, TenantMap

from ..replies import ErrorReply, QueryReply, RecentReply, Reply
from .blocks import SHARE_ACTION, Message, error_message, message_for
from .config import SlackSettings
from .deliveries import Deliveries, delivery_key
from .errors import reply_for
from .handlers import Handlers
from .identity import team_of

__all__ = ["SlackBot", "create_app"]

logger = logging.getLogger(__name__)

Listener = Callable[..., Awaitable[None]]


class _InFlight:
    """The tasks doing acknowledged work, held strongly (asyncio keeps only weak references)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            self._idle.clear()
        try:
            yield
        finally:
            if task is not None:
                self._tasks.discard(task)
                if not self._tasks:
                    self._idle.set()

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, grace_seconds: float) -> None:
        try:
            await asyncio.wait_for(self._idle.wait(), grace_seconds)
        except TimeoutError:
            logger.warning(
                "cancelling %d Slack requests still running after %.0fs", len(self._tasks), grace_seconds
            )
            for task in list(self._tasks):
                task.cancel()


class SlackBot:
    """The Bolt app with teamlore's listeners, and the bookkeeping behind them.

    `bot.app` is the `AsyncApp`. HTTP mode: mount `bot.routes()` (= `slack_routes(bot.app, path=...)`).
    Socket Mode: run `bot.run_socket_mode()` (= `run_socket_mode(bot.app, app_token)`) until cancelled.
    Either way, on shutdown `await bot.aclose()` (or enter `bot.lifespan()` around the server).
    """

    def __init__(
        self,
        core: MemoryCore,
        tenants: TenantMap,
        settings: SlackSettings,
        *,
        client: AsyncWebClient | None = None,
    ) -> None:
        if settings.bot_token is None:
            raise ConfigurationError("Slack is off: set TEAMLORE_SLACK__BOT_TOKEN")
        self.settings = settings
        self.client = client or AsyncWebClient(
            token=settings.bot_token.get_secret_value(),
            base_url=settings.api_base_url,
            # connection errors (the default) and Slack's 429s are retried, honouring Retry-After
            retry_handlers=[*async_default_handlers(), AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
        )
        # Socket Mode needs no signing secret; a random one then makes the HTTP endpoint refuse everything
        # instead of letting Bolt fall back to the SLACK_SIGNING_SECRET environment variable.
        secret = (
            settings.signing_secret.get_secret_value() if settings.signing_secret else secrets.token_hex(32)
        )
        self.app = AsyncApp(
            name="teamlore",
            client=self.client,
            signing_secret=secret,
            process_before_response=False,
            logger=logging.getLogger("bots.slack.bolt"),
        )
        self.handlers = Handlers(core, tenants, settings, self.client)
        self._deliveries = Deliveries(settings.retry_window_seconds)
        self._inflight = _InFlight()
        self._register()

    def _register(self) -> None:
        self.app.middleware(self._skip_repeats)
        for name, slash in self.settings.commands.by_name().items():
            self.app.command(slash)(self._command_listener(name))
        self.app.shortcut(self.settings.shortcut_callback_id)(self._on_save)
        self.app.event("app_mention")(self._on_mention)
        self.app.action(SHARE_ACTION)(self._on_share)

    # --- listeners: ack, then work, then deliver ---------------------------------------------------

    def _command_listener(self, name: str) -> Listener:
        async def on_command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
            await ack()
            async with self._inflight.hold():
                reply = await self.handlers.command(name, body)
                await self._respond(respond, reply)

        on_command.__name__ = f"on_{name}_command"
        return on_command

    async def _on_save(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        async with self._inflight.hold():
            await self._respond(respond, await self.handlers.save(body))

    async def _on_share(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        async with self._inflight.hold():
            shared = await self.handlers.share(body)
            if isinstance(shared, ErrorReply):
                await self._respond(respond, shared)
                return
            await self._deliver(respond(response_type="in_channel", replace_original=False, **_quiet(shared)))
            await self._deliver(respond(delete_original=True))

    async def _on_mention(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        # Events are acknowledged by Bolt itself before this runs.
        if not event.get("user"):
            return  # another bot mentioning teamlore: nobody to answer
        async with self._inflight.hold():
            reply = await self.handlers.mention(body, bot_user_id=context.bot_user_id)
            thread = event.get("thread_ts") or event.get("ts")
            try:
                if isinstance(reply, ErrorReply):
                    await self.client.chat_postEphemeral(
                        channel=event["channel"], user=event["user"], thread_ts=thread, **error_message(reply)
                    )
                else:
                    message = _quiet(self._message(reply, share=False))
                    await self.client.chat_postMessage(channel=event["channel"], thread_ts=thread, **message)
            except Exception as error:  # nobody to tell but the log: reply_for logs it with a ref
                reply_for(error, action="answer a mention")

    # --- delivery ------------------------------------------------------------------------------------

    async def _respond(self, respond: AsyncRespond, reply: Reply) -> None:
        """Post a reply to the response_url: ephemeral unless configured otherwise, errors always."""
        if isinstance(reply, ErrorReply):
            await self._deliver(respond(response_type="ephemeral", **error_message(reply)))
            return
        ephemeral = self.settings.ephemeral
        share = ephemeral and isinstance(reply, QueryReply | RecentReply)
        message = self._message(reply, share=share)
        kind = "ephemeral" if ephemeral else "in_channel"
        await self._deliver(respond(response_type=kind, replace_original=False, **_quiet(message)))

    def _message(self, reply: Reply, *, share: bool) -> Message:
        return message_for(
            reply, commands=self.settings.commands, text_limit=self.settings.text_limit, share=share
        )

    async def _deliver(self, sending: Awaitable[Any]) -> None:
        try:
            response = await sending
        except Exception as error:  # the answer is lost, the work is done: log it with a ref
            reply_for(error, action="deliver an answer")
            return
        status = getattr(response, "status_code", 200)
        if status >= 300:
            body = getattr(response, "body", "")
            logger.warning("Slack refused an answer on the response_url: %s %s", status, body)

    # --- retries and replays -------------------------------------------------------------------------

    async def _skip_repeats(
        self, req: AsyncBoltRequest, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        key = delivery_key(req.body)
        if key is not None:
            with contextlib.suppress(Exception):  # no team: the key alone is still unique enough
                key = f"{team_of(req.body)[0]}:{key}"
        if key is None or self._deliveries.first(key):
            return await next()
        retry = req.headers.get("x-slack-retry-num", [None])[0]
        reason = req.headers.get("x-slack-retry-reason", [None])[0]
        logger.info(
            "slack: acknowledged and ignored a repeated delivery %s (retry %s, %s)", key, retry, reason
        )
        return BoltResponse(status=200, body="")

    # --- running -------------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """The HTTP endpoint (`POST settings.events_path`) to mount in teamlore's web app."""
        from .http import slack_routes

        return slack_routes(self.app, path=self.settings.events_path)

    async def run_socket_mode(self) -> None:
        """Connect over Socket Mode with `settings.app_token` until cancelled."""
        from .socket_mode import run_socket_mode

        if self.settings.app_token is None:
            raise ConfigurationError("Socket Mode needs TEAMLORE_SLACK__APP_TOKEN (xapp-...)")
        await run_socket_mode(self.app, self.settings.app_token.get_secret_value())

    async def check(self) -> dict[str, Any]:
        """Ask Slack whose bot token this is (auth.test); ConfigurationError naming the setting if refused."""
        try:
            response = await self.client.auth_test()
        except Exception as error:
            raise ConfigurationError(
                f"Slack refused TEAMLORE_SLACK__BOT_TOKEN (auth.test: {error})"
            ) from error
        return dict(response.data) if isinstance(response.data, dict) else {}

    @property
    def in_flight(self) -> int:
        """How many acknowledged requests are still being worked on."""
        return len(self._inflight)

    async def aclose(self, grace_seconds: float = 10.0) -> None:
        """Wait up to `grace_seconds` for acknowledged work to finish (then cancel what is left)."""
        await self._inflight.drain(grace_seconds)

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """For the web app's lifespan hooks: on shutdown, finish acknowledged work (`aclose`)."""
        try:
            yield
        finally:
            await self.aclose()


def _quiet(message: Message) -> Message:
    """No link previews: answers link to sources, and a preview of each would drown the answer."""
    return {**message, "unfurl_links": False, "unfurl_media": False}


def create_app(core: MemoryCore, tenants: TenantMap, settings: SlackSettings) -> SlackBot:
    """Build the Slack front-end; see `SlackBot` for how to run it."""
    return SlackBot(core, tenants, settings)
