"""`teamlore shell`: lines fed through a stream run like chat commands against the real core."""

from __future__ import annotations

import io

import pytest

from memory_core import Actor, MemoryCore
from teamlore.cli.shell import run_shell

pytestmark = pytest.mark.anyio

ME = Actor(id="cli:alice", name="alice", is_admin=True)


async def shell(core: MemoryCore, *lines: str) -> str:
    output = io.StringIO()
    await run_shell(
        core, "default", ME, input=io.StringIO("".join(f"{line}\n" for line in lines)), output=output
    )
    return output.getvalue()


async def test_store_query_forget_session(core: MemoryCore) -> None:
    out = await shell(
        core,
        "/store the VPN moved to vpn2.corp #infra !high",
        "query where did the vpn go",
        "/forget #1",
        "/query #infra",
    )
    assert "teamlore shell: tenant default, as alice." in out
    assert "Remembered as #1 (#infra, !high)." in out
    assert "1 memory for “where did the vpn go”:" in out
    assert "#1 · alice ·" in out
    assert "Forgot #1 (“the VPN moved to vpn2.corp”)." in out
    assert out.rstrip().endswith("No memories tagged #infra.")
    assert await core.recent("default") == []


async def test_errors_are_printed_and_the_loop_goes_on(core: MemoryCore) -> None:
    out = await shell(core, "/store x ttl:abc", "/frobnicate", "/forget #999", "", "/store still works")
    assert "Can't store that: ttl must look like 30d, 12h, 2w or 90m (got 'abc')." in out
    assert "Can't do that: there is no command 'frobnicate'; try: lore help." in out
    assert "No memory #999." in out
    assert "Remembered as #1." in out


async def test_help_and_exit_stop_reading(core: MemoryCore) -> None:
    out = await shell(core, "help", "/lore help store", "exit", "/store never stored")
    assert "teamlore remembers what your team knows." in out
    assert "/store <text> [#tag ...]" in out
    assert "never stored" not in out
    assert await core.recent("default") == []


async def test_end_of_input_ends_the_shell(core: MemoryCore) -> None:
    output = io.StringIO()
    await run_shell(core, "default", ME, input=io.StringIO("/store no newline at the end"), output=output)
    assert "Remembered as #1." in output.getvalue()


async def test_stored_markup_is_printed_literally(core: MemoryCore) -> None:
    out = await shell(core, "/store use [bold]brackets[/bold] freely", "/query brackets")
    assert "use [bold]brackets[/bold] freely" in out
