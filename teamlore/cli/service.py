"""The long-running and set-up commands: serve, check, shell, mcp, and `discord invite`."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from .runner import (
    DEFAULT_TENANT,
    EXIT_CONFIG,
    JsonOption,
    TenantOption,
    fail,
    load,
    open_core,
    out,
    print_json,
    run,
)

__all__ = ["discord_app", "register"]


def serve(
    only: Annotated[
        str | None,
        typer.Option(help="Run only these parts, comma-separated: web, discord, mail, scheduler."),
    ] = None,
    host: Annotated[str | None, typer.Option(help="Override TEAMLORE_HTTP__HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Override TEAMLORE_HTTP__PORT.")] = None,
) -> None:
    """Run teamlore: the web app and every front-end whose credentials are set, in one process."""

    async def work() -> None:
        from ..runtime import parse_only
        from ..runtime import serve as serve_forever

        settings = load(quiet=False)
        if host is not None or port is not None:
            http = settings.http.model_copy(
                update={k: v for k, v in (("host", host), ("port", port)) if v is not None}
            )
            settings = settings.model_copy(update={"http": http})
        await serve_forever(settings, parse_only(only))

    run(work)


def check(as_json: JsonOption = False) -> None:
    """Validate the settings and connectivity; say what is enabled and why."""

    async def work() -> dict[str, Any]:
        from ..runtime import check as run_check

        return await run_check(load())

    report = run(work)
    if as_json:
        print_json(report)
    else:
        for item in report["checks"]:
            mark = "[green]ok[/green]" if item["ok"] else "[red]FAIL[/red]"
            mark = "[yellow]warn[/yellow]" if item.get("warn") else mark
            out.print(f"{mark:>20}  {item['name']}: {item['detail']}", highlight=False)
        for part in report["frontends"]:
            state = "[green]enabled[/green]" if part["enabled"] else "[dim]off[/dim]"
            out.print(f"{state:>24}  {part['name']}: {part['why']}", highlight=False)
    if not report["ok"]:
        raise typer.Exit(1)


def shell(tenant: TenantOption = DEFAULT_TENANT) -> None:
    """A prompt that takes /store, /query, /reflect, /forget and /lore help exactly as chat does."""
    import getpass

    from memory_core import Actor

    from .shell import run_shell

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "local"
    actor = Actor(id=f"cli:{user}", name=user, is_admin=True)

    async def work() -> None:
        async with open_core() as core:
            await run_shell(core, tenant, actor)

    run(work)


def mcp(tenant: TenantOption = DEFAULT_TENANT) -> None:
    """MCP over stdio for Claude Desktop, Cursor and Claude Code: protocol on stdout, logs to stderr."""

    async def work() -> None:
        # Logging first: the SDK calls logging.basicConfig on import, a no-op once logging is set.
        settings = load(quiet=False)
        from mcp_server.stdio import run_stdio

        async with open_core(settings, lazy=False) as core:
            await run_stdio(core, tenant, settings=settings.mcp)

    run(work)


discord_app = typer.Typer(help="The Discord bot.", no_args_is_help=True)


@discord_app.command("invite")
def discord_invite() -> None:
    """Print the OAuth2 invite URL with exactly the scopes and permissions the bot needs."""

    async def work() -> str:
        from bots.discord.bot import invite_url

        settings = load()
        if settings.discord.application_id is None:
            raise fail(
                "set TEAMLORE_DISCORD__APPLICATION_ID (Developer Portal > General Information)", EXIT_CONFIG
            )
        return invite_url(settings.discord.application_id)

    sys.stdout.write(run(work) + "\n")


def register(app: typer.Typer) -> None:
    """Add serve, check, shell and mcp to the top-level app."""
    for command in (serve, check, shell, mcp):
        app.command()(command)
