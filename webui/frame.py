"""The frame every page runs in: sessions, CSRF, scope, rendering and error pages (no routes)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as AsgiScope

from memory_core import (
    ApiKeyInfo,
    ApiKeys,
    InvalidInput,
    Memory,
    MemoryCore,
    PermissionDenied,
    Scope,
    TooLarge,
    UnknownIdentity,
    require_scope,
)

from .config import WebSettings
from .errors import page_error
from .notices import notice_text
from .ratelimit import SignInLimiter
from .sessions import csrf_for, read_session, sign_session

__all__ = [
    "SECURITY_HEADERS",
    "SIGNIN_REASONS",
    "BodyTooLarge",
    "Frame",
    "SecurityHeaders",
    "SignIn",
    "Viewer",
    "safe_next",
]

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent

# No script runs on any page (there is none), styles come only from our stylesheet, nothing may frame us.
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}
SIGNIN_REASONS = {
    "expired": "Your session expired: sign in again to go on.",
    "revoked": "The key of this session was revoked: sign in with another key.",
    "signed-out": "You are signed out.",
    "invalid": "Your session is not valid any more: sign in again.",
}
# Paths of the other parts of the server: an unknown one there gets their JSON 404, not a page.
_API_PREFIXES = ("/api/", "/mcp", "/slack/", "/hooks/", "/metrics", "/healthz", "/readyz")


@dataclass(frozen=True)
class Viewer:
    """Who is signed in: the API key (its tenant and scope decide everything) and the CSRF token."""

    key: ApiKeyInfo
    csrf: str

    @property
    def tenant(self) -> str:
        return self.key.tenant

    @property
    def can_write(self) -> bool:
        return self.key.scope.allows(Scope.WRITE)

    @property
    def is_admin(self) -> bool:
        return self.key.scope is Scope.ADMIN

    def may_change(self, memory: Memory) -> bool:
        """What the core allows: write scope, and the memory is this key's own (or the key is admin)."""
        return self.can_write and (self.is_admin or memory.author_id == self.key.actor.id)


class SignIn(Exception):
    """The request needs a (new) sign-in: answered with a redirect to the sign-in page."""

    def __init__(self, why: str | None) -> None:
        self.why = why


Handler = Callable[[Request, Viewer], Awaitable[Response]]


def safe_next(value: str | None) -> str:
    """Only a path on this site (never //evil.example or a full URL) may be where sign-in returns to."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def _when(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _safe_url(value: str | None) -> str | None:
    """A source reference as a link only when it is an http(s) URL (never javascript: or data:)."""
    if value and urlsplit(value).scheme in ("http", "https") and urlsplit(value).netloc:
        return value
    return None


class BodyTooLarge(Exception):
    """A request body over `WebSettings.max_form_bytes`."""


class SecurityHeaders:
    """Adds SECURITY_HEADERS (and no-store: pages show private memory) to every response of the app,
    and caps request bodies: a form is read into memory, so an endless one must not be."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        seen = 0

        async def capped() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                raise BodyTooLarge(f"the form is over {self.max_body:,} bytes")
            return message

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, capped, with_headers)


class Frame:
    """What every page handler shares: the core, the keys, the settings, sessions and rendering."""

    def __init__(
        self, core: MemoryCore, keys: ApiKeys, settings: WebSettings, *, public_url: str | None = None
    ) -> None:
        self.core = core
        self.keys = keys
        self.settings = settings
        self.public_url = public_url.rstrip("/") if public_url else None
        self.secure = bool(public_url and public_url.lower().startswith("https://"))
        # __Host- cookies must be Secure, for path / and without a domain: no sibling host can set them.
        prefix = "__Host-" if self.secure else ""
        self.session_cookie = f"{prefix}teamlore_session"
        self.signin_cookie = f"{prefix}teamlore_signin"
        self.limiter = SignInLimiter(settings.signin_attempts_per_minute)
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["when"] = _when
        self.templates.filters["safe_url"] = _safe_url
        self._secret: bytes | None = None

    async def secret(self) -> bytes:
        if self._secret is None:
            self._secret = await self.keys.signing_secret("web-session")
        return self._secret

    # --- sessions ---------------------------------------------------------------------------------------

    async def viewer(self, request: Request) -> Viewer:
        """The signed-in viewer, or SignIn: no cookie, a forged or expired one, a revoked or gone key."""
        token = request.cookies.get(self.session_cookie)
        if not token:
            raise SignIn(None)
        secret = await self.secret()
        session = read_session(secret, token)
        if session is None:
            raise SignIn("invalid")
        if session.expires <= time.time():
            raise SignIn("expired")
        try:
            key = await self.keys.get(session.key_id)
        except InvalidInput:
            raise SignIn("revoked") from None
        if not key.active:
            raise SignIn("revoked")
        return Viewer(key, csrf_for(secret, session.nonce))

    async def start_session(self, key: ApiKeyInfo, response: Response) -> None:
        expires = int(time.time() + self.settings.session_hours * 3600)
        response.set_cookie(
            self.session_cookie,
            sign_session(await self.secret(), key.id, expires),
            max_age=int(self.settings.session_hours * 3600),
            path="/",
            httponly=True,
            samesite="lax",  # lax, not strict: a link from a Slack alert must arrive signed in
            secure=self.secure,
        )

    def end_session(self, response: Response) -> None:
        response.delete_cookie(
            self.session_cookie, path="/", httponly=True, samesite="lax", secure=self.secure
        )

    def to_signin(self, request: Request, why: str | None) -> Response:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            back = request.url.path  # a POST cannot be replayed: come back to its page instead
        target = f"/signin?next={quote(safe_next(back), safe='')}"
        if why:
            target += f"&why={why}"
        response = RedirectResponse(target, status_code=303)
        if why:
            self.end_session(response)
        return response

    # --- pages ------------------------------------------------------------------------------------------

    def page(self, needed: Scope = Scope.READ, action: str = "see this page") -> Callable[[Handler], Any]:
        """Wrap a handler: sign-in, CSRF on POST, scope; every error becomes a page (never a 500 trace)."""

        def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint(request: Request) -> Response:
                viewer: Viewer | None = None
                try:
                    viewer = await self.viewer(request)
                    if request.method == "POST":
                        form = await self.form(request)
                        self.check_origin(request)
                        if form.get("csrf") != viewer.csrf:
                            raise PermissionDenied(
                                "this form is out of date (or did not come from this site): "
                                "go back, reload the page and try again"
                            )
                    require_scope(viewer.key.scope, needed, action)
                    return await handler(request, viewer)
                except SignIn as exc:
                    return self.to_signin(request, exc.why)
                except Exception as exc:
                    return self.error(request, viewer, exc)

            endpoint.__name__ = handler.__name__
            return endpoint

        return wrap

    async def form(self, request: Request) -> FormData:
        try:
            return await request.form()
        except BodyTooLarge as exc:
            raise TooLarge(f"{exc}: shorten the text", limit=self.settings.max_form_bytes, size=0) from exc
        except Exception as exc:  # a malformed multipart body is the sender's fault
            raise InvalidInput("the form could not be read; send it again") from exc

    def check_origin(self, request: Request) -> None:
        """Defence in depth beside the token: a browser's POST from another site names that site."""
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
            raise PermissionDenied("this form was sent from another site")

    def render(
        self, request: Request, viewer: Viewer | None, template: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        body = self.templates.get_template(template).render(
            viewer=viewer, path=request.url.path, public_url=self.public_url, **context
        )
        return HTMLResponse(body, status_code=status)

    def error(self, request: Request, viewer: Viewer | None, exc: BaseException) -> Response:
        if isinstance(exc, UnknownIdentity) and viewer is None:
            return self.to_signin(request, "invalid")
        status, heading, message = page_error(exc)
        return self.render(request, viewer, "error.html", status, heading=heading, message=message)

    def done(self, target: str, notice: str, **ids: int) -> Response:
        """After a change, back to a page that says what happened (a code, never free text in the URL)."""
        query = "&".join([f"done={notice}", *(f"{k}={v}" for k, v in ids.items())])
        return RedirectResponse(f"{target}{'&' if '?' in target else '?'}{query}", status_code=303)

    async def http_error(self, request: Request, exc: Exception) -> Response:
        """Starlette's 404/405 as a page (or as JSON under the other parts' paths)."""
        assert isinstance(exc, HTTPException)
        if request.url.path.startswith(_API_PREFIXES):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        try:
            viewer: Viewer | None = await self.viewer(request)
        except Exception:
            viewer = None
        heading = "Not found" if exc.status_code == 404 else "Not allowed"
        message = "There is no page here." if exc.status_code == 404 else str(exc.detail)
        return self.render(request, viewer, "error.html", exc.status_code, heading=heading, message=message)

    def notice(self, params: Mapping[str, str]) -> str | None:
        return notice_text(params)
