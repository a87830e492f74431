"""`teamlore shell`: the chat commands (/store, /query, /reflect, /forget, /lore help) at a local prompt."""

from __future__ import annotations

import builtins
import contextlib
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

import anyio.to_thread
from rich.console import Console

from bots import execute, parse, render
from bots.errors import error_reply
from bots.grammar import command_name
from bots.replies import ErrorReply, Reply
from memory_core import Actor, InvalidInput, MemoryCore, Source

__all__ = ["run_shell"]

PROMPT = "lore> "
EXIT_WORDS = frozenset({"exit", "quit", "/exit", "/quit", ":q"})
BANNER = "teamlore shell: tenant {tenant}, as {who}. Type /lore help, exit or Ctrl-D to leave."


async def run_shell(
    core: MemoryCore,
    tenant: str,
    actor: Actor,
    *,
    input: TextIO | None = None,
    output: TextIO | None = None,
    prompt: str = PROMPT,
) -> None:
    """Read commands until `exit` or end of input, run each like chat does and print the reply.

    The commands are the chat grammar (the leading `/` is optional). A line that fails is answered
    with the error and the loop goes on; only end of input, an exit word or cancellation end it.
    On an interactive terminal input goes through `input()` (readline editing and history); any
    other stream is read line by line without echo, so `teamlore shell < commands.txt` works.
    """
    source = input if input is not None else sys.stdin
    console = Console(file=output if output is not None else sys.stdout, highlight=False, soft_wrap=True)
    read = _reader(source, prompt)
    console.print(BANNER.format(tenant=tenant, who=actor.display), markup=False, style="dim")
    while True:
        line = await anyio.to_thread.run_sync(read, abandon_on_cancel=True)
        if line is None:
            break
        line = line.strip()
        if not line:
            continue
        if line.lower() in EXIT_WORDS:
            break
        reply = await _answer(core, tenant, actor, "lore help" if line in ("help", "?") else line)
        style = "red" if isinstance(reply, ErrorReply) else None
        console.print(render(reply, prefix="/"), markup=False, style=style)


async def _answer(core: MemoryCore, tenant: str, actor: Actor, line: str) -> Reply:
    try:
        command = parse(line, now=datetime.now(UTC))
    except InvalidInput as error:
        return error_reply(error, action=command_name(line))
    return await execute(core, tenant, actor, command, source=Source.CLI)


def _reader(source: TextIO, prompt: str) -> Callable[[], str | None]:
    """A blocking function that returns the next line, or None at end of input (Ctrl-D)."""
    if source is sys.stdin and source.isatty():
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (importing it gives input() line editing and history)

        def interactive() -> str | None:
            try:
                return builtins.input(prompt)
            except EOFError:
                print()  # leave the terminal on a fresh line after Ctrl-D
                return None

        return interactive

    def stream() -> str | None:
        line = source.readline()
        return line if line else None

    return stream
