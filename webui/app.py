"""The web app for people: its routes in one Starlette app, behind the security headers."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from memory_core import ApiKeys, MemoryCore

from . import admin, auth, curate, pages
from .config import WebSettings
from .frame import HERE, Frame, SecurityHeaders

__all__ = ["WebUI"]


class WebUI:
    """The web app. `app` is the ASGI app the composition root mounts at `/` (after every other route)."""

    def __init__(
        self, core: MemoryCore, keys: ApiKeys, settings: WebSettings, *, public_url: str | None = None
    ) -> None:
        self.frame = Frame(core, keys, settings, public_url=public_url)
        routes: list[BaseRoute] = [
            *auth.routes(self.frame),
            *pages.routes(self.frame),
            *curate.routes(self.frame),
            *admin.routes(self.frame),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]
        starlette = Starlette(routes=routes, exception_handlers={HTTPException: self.frame.http_error})
        self.app: ASGIApp = SecurityHeaders(starlette, settings.max_form_bytes)

    async def secret(self) -> bytes:
        """The session signing secret (shared through the database by every process)."""
        return await self.frame.secret()
