"""`teamlore webhooks create|list|revoke`: signed webhooks at /hooks/{name}, each with a secret and tenant."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from . import runner
from .runner import DEFAULT_TENANT, err, out

if TYPE_CHECKING:
    from memory_core import MemoryCore, WebhookInfo, Webhooks

__all__ = ["build_webhooks_app"]

T = TypeVar("T")


def _info_json(info: WebhookInfo) -> dict[str, Any]:
    return info.model_dump(mode="json")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _webhook_key() -> bytes:
    return runner.load().webhook_key()


def build_webhooks_app(
    open_core: Callable[[], AbstractAsyncContextManager[MemoryCore]] = runner.open_core,
    load_key: Callable[[], bytes] = _webhook_key,
) -> typer.Typer:
    """The `webhooks` sub-app; every command opens the core and the webhook key it is given (default:
    the settings')."""
    app = typer.Typer(
        name="webhooks",
        help="Signed webhooks at POST /hooks/NAME: each has its own secret and tenant.",
        no_args_is_help=True,
    )

    def run(work: Callable[[Webhooks], Awaitable[T]]) -> T:
        async def main() -> T:
            from memory_core import Webhooks

            async with open_core() as core:
                return await work(Webhooks(core, load_key()))

        return runner.run(main)

    @app.command("create")
    def create(
        name: Annotated[str, typer.Argument(help="The hook's name: its URL is /hooks/NAME.")],
        tenant: Annotated[str, typer.Option(help="The tenant its memories go to.")] = DEFAULT_TENANT,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")] = False,
    ) -> None:
        """Create a hook. Its signing secret is shown once: give it to the sender now."""
        secret, info = run(lambda hooks: hooks.create(name, tenant))
        if as_json:
            sys.stdout.write(json.dumps({**_info_json(info), "secret": secret}) + "\n")
            return
        err.print(
            f"Created webhook [bold]{info.name}[/bold] (POST /hooks/{info.name}) for tenant "
            f"[bold]{info.tenant}[/bold]. Its signing secret is shown only this once:",
            highlight=False,
        )
        out.print(secret, highlight=False)
        err.print(
            "Sign each delivery: X-Teamlore-Timestamp: <unix seconds>, "
            "X-Teamlore-Signature: sha256=<hex HMAC-SHA256 of '<timestamp>.<body>'>",
            highlight=False,
        )

    @app.command("list")
    def list_hooks(
        tenant: Annotated[str | None, typer.Option(help="Only this tenant's hooks.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")] = False,
    ) -> None:
        """List hooks (never their secrets), revoked ones included."""
        infos = run(lambda hooks: hooks.list(tenant))
        if as_json:
            sys.stdout.write(json.dumps([_info_json(i) for i in infos]) + "\n")
            return
        if not infos:
            err.print("No webhooks yet: teamlore webhooks create NAME --tenant T")
            return
        from rich.table import Table

        table = Table("name", "tenant", "created", "last used", "status")
        for i in infos:
            status = f"revoked {_when(i.revoked_at)}" if i.revoked_at else "active"
            table.add_row(i.name, i.tenant, _when(i.created_at), _when(i.last_used_at), status)
        out.print(table)

    @app.command("revoke")
    def revoke(
        name: Annotated[str, typer.Argument(help="The hook's name.")],
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")] = False,
    ) -> None:
        """Revoke a hook: deliveries signed with its secret get 404 from now on."""
        info = run(lambda hooks: hooks.revoke(name))
        if as_json:
            sys.stdout.write(json.dumps(_info_json(info)) + "\n")
            return
        err.print(f"Revoked webhook {info.name} of tenant {info.tenant}.", highlight=False)

    return app
