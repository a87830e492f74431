"""`teamlore keys` through typer's CliRunner, over a real core opened per command (as the CLI does)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from typer.testing import CliRunner

from memory_core import ApiKeys, MemoryCore, UnknownIdentity
from memory_core.testing import open_test_core
from teamlore.cli.keys import build_keys_app


@pytest.fixture
def keys_cli(tmp_path: Path) -> tuple[CliRunner, object, Path]:
    data = tmp_path / "data"

    @asynccontextmanager
    async def open_core() -> AsyncIterator[MemoryCore]:
        async with open_test_core(data) as core:
            yield core

    return CliRunner(), build_keys_app(open_core), data


def authenticate(data: Path, secret: str) -> str:
    async def check() -> str:
        async with open_test_core(data) as core:
            return (await ApiKeys(core).authenticate(secret)).tenant

    return anyio.run(check)


def test_create_list_revoke(keys_cli: tuple[CliRunner, object, Path]) -> None:
    runner, app, data = keys_cli
    created = runner.invoke(
        app, ["create", "--tenant", "acme", "--scope", "write", "--name", "cursor", "--json"]
    )
    assert created.exit_code == 0, created.output
    made = json.loads(created.stdout)
    assert (
        made["key"].startswith(made["prefix"] + "_") and made["scope"] == "write" and made["tenant"] == "acme"
    )
    assert authenticate(data, made["key"]) == "acme"

    listed = runner.invoke(app, ["list", "--json"])
    assert listed.exit_code == 0
    (row,) = json.loads(listed.stdout)
    assert row["id"] == made["id"] and "key" not in row and made["key"] not in listed.stdout

    table = runner.invoke(app, ["list"])
    assert made["prefix"] in table.stdout and "active" in table.stdout

    revoked = runner.invoke(app, ["revoke", made["prefix"]])
    assert revoked.exit_code == 0 and "Revoked key" in revoked.output
    with pytest.raises(UnknownIdentity):
        authenticate(data, made["key"])
    assert "revoked" in runner.invoke(app, ["list"]).stdout


def test_the_key_is_printed_once_on_stdout(keys_cli: tuple[CliRunner, object, Path]) -> None:
    runner, app, _ = keys_cli
    created = runner.invoke(app, ["create", "--scope", "read"])
    assert created.exit_code == 0
    assert created.stdout.strip().startswith("tlk_") and len(created.stdout.strip().splitlines()) == 1
    assert "shown only this once" in created.stderr and "tenant default" in created.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--scope", "owner"], "owner"),
        (["create", "--scope", "read", "--tenant", "Not Valid"], "invalid tenant"),
        (["revoke", "tlk_deadbeef"], "keys list"),
    ],
)
def test_mistakes_exit_non_zero_with_a_reason(
    keys_cli: tuple[CliRunner, object, Path], args: list[str], message: str
) -> None:
    runner, app, _ = keys_cli
    result = runner.invoke(app, args)
    assert result.exit_code != 0 and message in result.output
