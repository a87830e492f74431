"""What every command shares: the one `run` wrapper (errors -> messages and exit codes), settings, output.

Heavy libraries (the core's SQL and FAISS layers, the model, the front-ends' SDKs) are imported inside
the functions that need them, so `teamlore --help` and the light commands start in a fraction of a
second; tests/teamlore/test_cli_imports.py holds every command to what it may import.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio
import typer
from rich.console import Console
from rich.markup import escape

from memory_core import DEFAULT_TENANT, Actor, ConfigurationError, TeamloreError, lookup_error, new_reference

if TYPE_CHECKING:
    from memory_core import CoreSettings, Embedder, MemoryCore

    from ..settings import Settings

__all__ = [
    "CLI_ACTOR",
    "DEFAULT_TENANT",
    "EXIT_CONFIG",
    "EXIT_ERROR",
    "JsonOption",
    "TenantOption",
    "err",
    "load",
    "open_core",
    "out",
    "print_json",
    "run",
]

logger = logging.getLogger("teamlore.cli")

# Human output and errors go to stderr; stdout carries only what was asked for (--json, export).
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

EXIT_ERROR = 1
"""The command failed: bad input, not found, busy, or an unexpected error (with a reference)."""
EXIT_CONFIG = 2
"""The settings are wrong or missing: nothing was tried."""
EXIT_INTERRUPTED = 130

EXIT_CODES: dict[type[BaseException], int] = {ConfigurationError: EXIT_CONFIG, TeamloreError: EXIT_ERROR}
"""The CLI's error table: a core error prints its own message and exits with its code."""

CLI_ACTOR = Actor(id="cli:local", name="cli", is_admin=True)

TenantOption = Annotated[str, typer.Option("--tenant", help="Tenant to act in.", envvar="TEAMLORE_TENANT")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]

T = TypeVar("T")


def fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    """Print `error: message` on stderr; returns the Exit to raise."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run one command's async work on an event loop: the one place errors become messages and exit codes.

    A core error (bad input, not found, busy, ...) prints its message and exits 1; a configuration
    error exits 2; a value an option allowed but a core value type refused is bad input (1); Ctrl-C
    exits 130; anything else prints a short reference that the log line (stderr) carries too.
    """
    try:
        return anyio.run(work)
    except BaseException as exc:
        outcome = _exit_for(_sole(exc))
        if outcome is exc:
            raise
        raise outcome from exc


def _sole(exc: BaseException) -> BaseException:
    """The one error inside task-group wrappers (a server part that failed), else the group itself."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _exit_for(exc: BaseException) -> BaseException:
    """What to raise instead of `exc`: an Exit with its message printed, or `exc` itself."""
    from pydantic import ValidationError

    if isinstance(exc, typer.Exit | typer.Abort | SystemExit):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return typer.Exit(EXIT_INTERRUPTED)
    if not isinstance(exc, Exception):
        return exc
    code = lookup_error(EXIT_CODES, exc)
    if code is not None:
        return fail(str(exc), code)
    if isinstance(exc, ValidationError):
        # A value an option allowed but a core value type refused (e.g. --kind "Not A Kind").
        return fail("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors()))
    reference = new_reference()
    # The traceback is for whoever debugs (TEAMLORE_LOG__LEVEL=DEBUG), not for every user.
    logger.error(
        "unexpected error (ref %s): %s: %s",
        reference,
        type(exc).__name__,
        exc,
        exc_info=exc if logger.isEnabledFor(logging.DEBUG) else None,
    )
    return fail(f"something went wrong (ref {reference})")


def load(*, quiet: bool = True) -> Settings:
    """The settings, read now, with logging set up from them (quiet: warnings only unless DEBUG is set).

    Call it inside `run`'s work, so a bad setting is reported like every other error.
    """
    from ..logconfig import configure_logging
    from ..settings import load_settings

    settings = load_settings()
    log = settings.log
    configure_logging(log.model_copy(update={"level": "WARNING"}) if quiet and log.level == "INFO" else log)
    return settings


@asynccontextmanager
async def open_core(
    settings: Settings | None = None,
    *,
    allow_model_mismatch: bool = False,
    lazy: bool = True,
    preload_model: bool = False,
) -> AsyncIterator[MemoryCore]:
    """Open the core the settings describe (the CLI's one way in).

    Lazy by default: one command loads the model and the vector index only if it uses them, so `get`,
    `tags` or `keys` never do. Long-running commands (serve, mcp) open eagerly. `preload_model` (a
    command that will embed, such as `query`) starts loading the model in a thread at once, while this
    thread imports the core and opens the database: on 2 cores that hides most of the model's start.
    """
    settings = settings if settings is not None else load()
    core_settings = settings.core_settings()
    embedder, loading = start_model_load(core_settings) if preload_model else (None, None)
    try:
        from memory_core import MemoryCore

        core = await MemoryCore.open(
            core_settings, embedder=embedder, allow_model_mismatch=allow_model_mismatch, lazy=lazy
        )
        try:
            yield core
        finally:
            await core.aclose()
    finally:
        if loading is not None:
            loading.join()  # never leave a native model load running into interpreter shutdown


def start_model_load(settings: CoreSettings) -> tuple[Embedder, threading.Thread]:
    """The configured embedder, its model loading in a background thread (errors surface on first use)."""
    from memory_core.embedding import embedder_for, warm_up

    embedder = embedder_for(settings)

    def load_now() -> None:
        try:
            warm_up(embedder)
        except Exception as exc:  # the first embed loads again and reports it like any core error
            logger.debug("preloading the model failed: %s", exc)

    thread = threading.Thread(target=load_now, name="teamlore-model-preload", daemon=True)
    thread.start()
    return embedder, thread


def with_core(call: Callable[[MemoryCore], Awaitable[T]]) -> T:
    """Run one command's work on an opened core, through `run`."""

    async def work() -> T:
        async with open_core() as core:
            return await call(core)

    return run(work)


def _dump(value: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(_dump(value), ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()
