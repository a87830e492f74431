"""`teamlore web link`: a one-time sign-in link to the web app, for people without an API key."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from memory_core import Scope

from . import runner
from .keys import OpenCore
from .runner import DEFAULT_TENANT, err

if TYPE_CHECKING:
    from memory_core import ApiKeyInfo
    from webui import WebSettings

__all__ = ["build_web_app"]


def _public_url() -> str:
    http = runner.load().http
    return http.public_url or f"http://{http.host}:{http.port}"


def _web_settings() -> WebSettings:
    return runner.load().web


def build_web_app(
    open_core: OpenCore = runner.open_core,
    base_url: Callable[[], str] = _public_url,
    web: Callable[[], WebSettings] = _web_settings,
) -> typer.Typer:
    """The `web` sub-app; `base_url` is where people reach the server (the public URL, or host:port)."""
    app = typer.Typer(name="web", help="The web app at / of `teamlore serve`.", no_args_is_help=True)

    @app.callback()
    def group() -> None:
        """The web app at / of `teamlore serve` (a group, so `link` keeps its name with one command)."""

    @app.command("link")
    def link(
        tenant: Annotated[str, typer.Option(help="The tenant the person signs in to.")] = DEFAULT_TENANT,
        scope: Annotated[
            Scope, typer.Option(help="What the session may do: read, write or admin.")
        ] = Scope.READ,
        name: Annotated[str, typer.Option(help="Who the link is for (names the key in `keys list`).")] = "",
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")] = False,
    ) -> None:
        """Print a link that signs one person in once; it expires after TEAMLORE_WEB__LINK_MINUTES.

        The link makes an API key of its own (named after the person); `teamlore keys revoke` on that
        key ends the sessions it opened.
        """

        async def work() -> tuple[ApiKeyInfo, str, int, str]:
            from memory_core import ApiKeys
            from webui import sign_link

            minutes = web().link_minutes
            async with open_core() as core:
                keys = ApiKeys(core)
                _secret, info = await keys.create(tenant, scope, name or "web sign-in link")
                expires = int(time.time()) + minutes * 60
                token = sign_link(await keys.signing_secret("web-session"), info.id, expires)
            return info, token, minutes, base_url()

        info, token, minutes, base = runner.run(work)
        url = f"{base.rstrip('/')}/signin/link?token={token}"
        if as_json:
            sys.stdout.write(
                json.dumps({"url": url, "key_id": info.id, "expires_in_minutes": minutes}) + "\n"
            )
            return
        err.print(
            f"One-time sign-in link for tenant [bold]{info.tenant}[/bold] ({info.scope.value} scope, key "
            f"#{info.id}), valid for {minutes} minutes:",
            highlight=False,
        )
        sys.stdout.write(url + "\n")

    return app
