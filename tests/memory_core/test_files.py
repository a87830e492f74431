"""The data directory is private on creation (0700, files 0600, SQLite's -wal/-shm too); check warns."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from typer.testing import CliRunner

from memory_core import CoreSettings, MemoryCore, permission_problems
from memory_core.testing import HashingEmbedder, draft
from teamlore.cli import app


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (022): what would make new files world-readable without an explicit mode."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.anyio
async def test_a_new_data_directory_database_and_snapshot_are_private(
    tmp_path: Path, open_umask: None
) -> None:
    settings = CoreSettings(data_dir=tmp_path / "data")
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        await core.store("default", draft("the VPN moved to vpn2.corp"))
        database = settings.data_dir / "teamlore.db"
        wal, shm = database.with_name("teamlore.db-wal"), database.with_name("teamlore.db-shm")
        assert wal.exists() and shm.exists()
        assert _mode(settings.data_dir) == 0o700
        assert (_mode(database), _mode(wal), _mode(shm)) == (0o600, 0o600, 0o600)
        snapshot = await core.snapshot()
        assert snapshot is not None
    index = settings.data_dir / "index"
    assert _mode(index) == 0o700
    written = list(index.rglob("*"))
    assert written and all(_mode(p) == (0o700 if p.is_dir() else 0o600) for p in written)
    assert permission_problems(settings) == []


async def _store_one(data: Path) -> None:
    async with await MemoryCore.open(CoreSettings(data_dir=data), embedder=HashingEmbedder()) as core:
        await core.store("default", draft("the VPN moved to vpn2.corp"))


def test_an_existing_looser_file_is_left_alone_and_named_by_check(tmp_path: Path, open_umask: None) -> None:
    # A plain test: the CLI runs its own event loop.
    data = tmp_path / "data"
    anyio.run(_store_one, data)
    os.chmod(data / "teamlore.db", 0o644)
    os.chmod(data, 0o755)
    anyio.run(_store_one, data)
    assert _mode(data / "teamlore.db") == 0o644  # an operator's choice is not silently undone
    problems = permission_problems(CoreSettings(data_dir=data))
    assert any("teamlore.db is 0644" in p and "chmod 600" in p for p in problems)
    assert any(p.startswith(f"{data} is 0755") and "chmod 700" in p for p in problems)

    env = {"TEAMLORE_DATA_DIR": str(data), "TEAMLORE_CORE__EMBEDDING_MODEL": "test-hashing"}
    report = json.loads(CliRunner().invoke(app, ["check", "--json"], env=env).stdout)
    (perms,) = [c for c in report["checks"] if c["name"] == "file permissions"]
    assert perms["warn"] is True and "chmod 600" in perms["detail"] and report["ok"] is True
    human = CliRunner().invoke(app, ["check"], env=env)
    assert "warn" in human.stdout and "teamlore.db is 0644" in human.stdout.replace("\n", "")
