"""`teamlore keys create|list|revoke`: API keys for MCP over HTTP and the REST API."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from memory_core import DEFAULT_TENANT, Scope

from . import runner
from .runner import err, out

if TYPE_CHECKING:
    from memory_core import ApiKeyInfo, ApiKeys, MemoryCore

__all__ = ["OpenCore", "build_keys_app"]

OpenCore = Callable[[], AbstractAsyncContextManager["MemoryCore"]]
"""Opens the configured core for one command (the CLI's settings decide which database)."""

T = TypeVar("T")


def _info_json(info: ApiKeyInfo) -> dict[str, Any]:
    return info.model_dump(mode="json")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "-"


def build_keys_app(open_core: OpenCore = runner.open_core) -> typer.Typer:
    """The `keys` sub-app; every command opens the core through `open_core` (default: the settings')."""
    app = typer.Typer(
        name="keys",
        help="API keys for MCP over HTTP (Authorization: Bearer <key>): each key is bound to one tenant.",
        no_args_is_help=True,
    )

    def run(work: Callable[[ApiKeys], Awaitable[T]]) -> T:
        async def main() -> T:
            from memory_core import ApiKeys

            async with open_core() as core:
                return await work(ApiKeys(core))

        return runner.run(main)

    @app.command("create")
    def create(
        scope: Annotated[
            Scope,
            typer.Option(help="read: query only; write: also store and delete its own; admin: delete any."),
        ],
        tenant: Annotated[str, typer.Option(help="The tenant the key acts in.")] = DEFAULT_TENANT,
        name: Annotated[str, typer.Option(help="Who or what uses the key, e.g. 'cursor-alice'.")] = "",
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")] = False,
    ) -> None:
        """Create a key. It is shown once: store it now, only its hash is kept."""
        secret, info = run(lambda keys: keys.create(tenant, scope, name))
        if as_json:
            sys.stdout.write(json.dumps({**_info_json(info), "key": secret}) + "\n")
            return
        err.print(
            f"Created key [bold]#{info.id}[/bold] ({info.prefix}) for tenant [bold]{info.tenant}[/bold] "
            f"with {info.scope.value} scope. It is shown only this once:",
            highlight=False,
        )
        out.print(secret, highlight=False)

    @app.command("list")
    def list_keys(
        tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")] = False,
    ) -> None:
        """List keys (never their secrets), revoked ones included."""
        from rich.table import Column, Table

        infos = run(lambda keys: keys.list(tenant))
        if as_json:
            sys.stdout.write(json.dumps([_info_json(i) for i in infos]) + "\n")
            return
        if not infos:
            err.print("No API keys yet: teamlore keys create --tenant T --scope read|write|admin")
            return
        table = Table(
            "id",
            Column("prefix", no_wrap=True),
            "tenant",
            "scope",
            "name",
            "created",
            "last used",
            Column("status", no_wrap=True),
        )
        for i in infos:
            status = f"revoked {_when(i.revoked_at)}" if i.revoked_at else "active"
            table.add_row(
                str(i.id),
                i.prefix,
                i.tenant,
                i.scope.value,
                i.name,
                _when(i.created_at),
                _when(i.last_used_at),
                status,
            )
        out.print(table)

    @app.command("revoke")
    def revoke(
        key: Annotated[
            str, typer.Argument(help="The key's id (from `keys list`) or its prefix tlk_1a2b3c4d.")
        ],
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")] = False,
    ) -> None:
        """Revoke a key: it stops working at once, for every open session too."""
        info = run(lambda keys: keys.revoke(key))
        if as_json:
            sys.stdout.write(json.dumps(_info_json(info)) + "\n")
            return
        err.print(f"Revoked key #{info.id} ({info.prefix}) of tenant {info.tenant}.", highlight=False)

    return app
