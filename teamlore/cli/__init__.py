"""The `teamlore` command line (typer + rich): one app, each command group in its own module.

A new command group is a module with a typer app (or a `register(app)` function), added below with
one line; its commands run their work through `teamlore.cli.runner.run`, the one place that turns
errors into messages and exit codes.
"""

from __future__ import annotations

import typer

from . import memories, service
from .alerts import build_alerts_app
from .keys import build_keys_app
from .model import model_app
from .runner import open_core, run, with_core
from .web import build_web_app
from .webhooks import build_webhooks_app

__all__ = ["app", "main", "open_core", "run", "with_core"]

app = typer.Typer(
    name="teamlore",
    help="A team's shared memory: store, query and reflect from the terminal, chat, mail and MCP clients.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

memories.register(app)
service.register(app)
app.add_typer(build_keys_app(), name="keys", help="API keys for MCP over HTTP and REST.")
app.add_typer(build_alerts_app(), name="alerts", help="Quality alerts and the scheduler's jobs.")
app.add_typer(service.discord_app, name="discord")
app.add_typer(build_webhooks_app(), name="webhooks")
app.add_typer(build_web_app(), name="web")
app.add_typer(model_app, name="model")


def main() -> None:
    app()
