"""Sign-in with an API key (or a one-time link), sign-out."""

from __future__ import annotations

import math
import secrets
import time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from memory_core import PermissionDenied, TeamloreError, UnknownIdentity

from .frame import SIGNIN_REASONS, Frame, SignIn, safe_next
from .sessions import csrf_for, read_link

__all__ = ["routes"]


def routes(ui: Frame) -> list[BaseRoute]:
    async def form_page(
        request: Request, *, error: str | None = None, status: int = 200, token: str | None = None
    ) -> Response:
        # A random value in an HttpOnly cookie and its MAC in the form: a sign-in CSRF token.
        value = request.cookies.get(ui.signin_cookie) or secrets.token_urlsafe(16)
        template = "link.html" if token is not None else "signin.html"
        # After a failed attempt the page to return to comes from the form, not the query string.
        asked = (await ui.form(request)).get("next") if request.method == "POST" else None
        back = str(asked) if asked else request.query_params.get("next")
        response = ui.render(
            request,
            None,
            template,
            status,
            csrf=csrf_for(await ui.secret(), value),
            next=safe_next(back),
            why=SIGNIN_REASONS.get(request.query_params.get("why", "")),
            error=error,
            token=token,
        )
        response.set_cookie(
            ui.signin_cookie,
            value,
            max_age=3600,
            path="/",
            httponly=True,
            samesite="strict",
            secure=ui.secure,
        )
        return response

    async def checked(request: Request) -> str | None:
        """The error of a sign-in attempt before its key is looked at: CSRF, origin, rate."""
        form = await ui.form(request)
        value = request.cookies.get(ui.signin_cookie, "")
        if not value or form.get("csrf") != csrf_for(await ui.secret(), value):
            return "This form is out of date: it was reloaded, try again."
        try:
            ui.check_origin(request)
        except TeamloreError as exc:
            return str(exc)
        wait = ui.limiter.take(request.client.host if request.client else "unknown")
        if wait > 0:
            return f"Too many sign-in attempts: try again in {math.ceil(wait)} s."
        return None

    async def signed_in(request: Request, key_id: int) -> Response:
        form = await ui.form(request)
        response = RedirectResponse(safe_next(str(form.get("next") or "/")), status_code=303)
        await ui.start_session(await ui.keys.get(key_id), response)
        response.delete_cookie(ui.signin_cookie, path="/", secure=ui.secure, httponly=True, samesite="strict")
        return response

    async def signin(request: Request) -> Response:
        if request.method == "GET":
            return await form_page(request)
        try:
            problem = await checked(request)
            if problem is not None:
                status = 429 if problem.startswith("Too many") else 403
                return await form_page(request, error=problem, status=status)
            form = await ui.form(request)
            key = await ui.keys.authenticate(str(form.get("key") or ""))
            return await signed_in(request, key.id)
        except UnknownIdentity as exc:
            return await form_page(request, error=f"{exc}.", status=401)
        except Exception as exc:
            return ui.error(request, None, exc)

    async def link(request: Request) -> Response:
        # GET only shows a button: link previews (Slack unfurls them) must not use up the link.
        token = str(request.query_params.get("token") or "")
        try:
            if request.method == "GET":
                return await form_page(request, token=token)
            problem = await checked(request)
            if problem is not None:
                return await form_page(request, error=problem, status=403, token=token)
            form = await ui.form(request)
            found = read_link(await ui.secret(), str(form.get("token") or ""))
            if found is None or found.expires <= time.time():
                return await form_page(
                    request, error="This sign-in link is not valid or expired.", status=401
                )
            if not await ui.keys.claim_first_use(found.key_id):
                return await form_page(request, error="This sign-in link was used already.", status=401)
            return await signed_in(request, found.key_id)
        except Exception as exc:
            return ui.error(request, None, exc)

    async def signout(request: Request) -> Response:
        try:
            viewer = await ui.viewer(request)
            form = await ui.form(request)
            if form.get("csrf") != viewer.csrf:
                return ui.error(
                    request, viewer, PermissionDenied("this form is out of date: reload the page")
                )
        except SignIn:
            pass  # already signed out (or the session ended): sign-out is done either way
        response = RedirectResponse("/signin?why=signed-out", status_code=303)
        ui.end_session(response)
        return response

    return [
        Route("/signin", signin, methods=["GET", "POST"]),
        Route("/signin/link", link, methods=["GET", "POST"]),
        Route("/signout", signout, methods=["POST"]),
    ]
