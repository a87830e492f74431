"""The CLI's one `run` wrapper: every command group maps errors to the same messages and exit codes."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
import typer
from typer.testing import CliRunner

from memory_core import InvalidInput, MemoryCore, NotFound
from teamlore.cli import app
from teamlore.cli.alerts import build_alerts_app
from teamlore.cli.keys import build_keys_app
from teamlore.cli.runner import run

runner = CliRunner()


@pytest.fixture(autouse=True)
def fresh_logging() -> Iterator[None]:
    """Commands that never read the settings log through whatever handler is set: not an earlier
    test's, which writes to a CliRunner stream that is closed by now."""
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers[:] = []
    yield
    root.handlers[:] = saved


@asynccontextmanager
async def broken_core() -> AsyncIterator[MemoryCore]:
    raise RuntimeError("a bug with [brackets] in its message")
    yield  # pragma: no cover


def test_a_bug_in_a_keys_command_is_a_reference_not_a_traceback() -> None:
    result = runner.invoke(build_keys_app(broken_core), ["list"])
    assert result.exit_code == 1
    assert re.search(r"error: something went wrong \(ref [0-9a-f]{6,}\)", result.stderr)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr


def test_a_bug_in_an_alerts_command_is_handled_the_same_way() -> None:
    def settings() -> object:
        raise RuntimeError("boom")

    result = runner.invoke(build_alerts_app(broken_core, settings), ["test"])  # type: ignore[arg-type]
    assert result.exit_code == 1 and "something went wrong (ref " in result.stderr


def test_a_bad_setting_exits_2_with_its_name(tmp_path: Path) -> None:
    env = {"TEAMLORE_DATA_DIR": str(tmp_path), "TEAMLORE_HTTP__PORT": "not-a-port"}
    for args in (["get", "1"], ["keys", "list"], ["check"]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert "TEAMLORE_HTTP__PORT" in result.stderr


def test_core_errors_are_their_message_and_exit_1(tmp_path: Path) -> None:
    env = {"TEAMLORE_DATA_DIR": str(tmp_path), "TEAMLORE_CORE__EMBEDDING_MODEL": "test-hashing"}
    missing = runner.invoke(app, ["get", "41"], env=env)
    assert missing.exit_code == 1 and "error: " in missing.stderr and "41" in missing.stderr
    revoked = runner.invoke(app, ["keys", "revoke", "nope"], env=env)
    assert revoked.exit_code == 1 and "error: " in revoked.stderr and "Traceback" not in revoked.stderr


def test_an_error_inside_a_task_group_is_reported_as_itself(capsys: pytest.CaptureFixture[str]) -> None:
    async def work() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_fails)

    with pytest.raises(typer.Exit) as exit_info:
        run(work)
    assert exit_info.value.exit_code == 1
    assert "error: no memory #7" in capsys.readouterr().err


async def _fails() -> None:
    raise NotFound(7)


def test_message_text_is_not_read_as_markup(capsys: pytest.CaptureFixture[str]) -> None:
    async def work() -> None:
        raise InvalidInput("tag [bold]x[/bold] is not allowed")

    with pytest.raises(typer.Exit):
        run(work)
    assert "tag [bold]x[/bold] is not allowed" in capsys.readouterr().err
