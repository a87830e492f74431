"""The SQLite backup and restore of docs/service.md, done for real: online backups while a core writes,
then a restore beside index snapshots that are newer than the backup.

Nothing acknowledged before the backup may be missing after the restore, and nothing stored or deleted
after it may come back: the snapshots (not backed up, by design) must be rebuilt, not trusted.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from memory_core import Actor, CoreSettings, MemoryCore, MemoryDraft, NotFound
from memory_core.testing import HashingEmbedder

TENANT = "default"
ALICE = Actor(id="cli:alice", name="alice")


def _draft(text: str) -> MemoryDraft:
    return MemoryDraft(text=text, author="alice", author_id=ALICE.id)


def _vacuum_into(database: Path, target: Path) -> None:
    with contextlib.closing(sqlite3.connect(database)) as conn:
        conn.execute("VACUUM INTO ?", (str(target),))


def _dot_backup(database: Path, target: Path) -> None:
    """`sqlite3 teamlore.db ".backup file"` when the CLI is there; the same online-backup API otherwise."""
    cli = shutil.which("sqlite3")
    if cli:
        subprocess.run([cli, str(database), f".backup '{target}'"], check=True, timeout=60)
        return
    with (
        contextlib.closing(sqlite3.connect(database)) as source,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)


async def _texts(core: MemoryCore, question: str) -> set[str]:
    return {hit.memory.text for hit in await core.query(TENANT, question, limit=20, record=False)}


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["vacuum_into", "dot_backup"])
async def test_online_backup_restores_everything_acknowledged_and_nothing_later(
    tmp_path: Path, method: str
) -> None:
    live = tmp_path / "live"
    backup = tmp_path / "backup.db"
    async with await MemoryCore.open(CoreSettings(data_dir=live), embedder=HashingEmbedder()) as core:
        forgotten = await core.store(TENANT, _draft("Deploys happen only on Tuesdays and Thursdays"))
        await core.store(TENANT, _draft("Standup is at 9:30 in the big room"))
        await core.delete(TENANT, forgotten.memory.id, actor=ALICE)  # (a delete also checkpoints the WAL)
        kept = await core.store(TENANT, _draft("The VPN moved to vpn2.corp.example.com on March 3rd"))
        # `kept` is still only in the write-ahead log: copying teamlore.db alone would lose it.
        assert (live / "teamlore.db-wal").stat().st_size > 0
        (_vacuum_into if method == "vacuum_into" else _dot_backup)(live / "teamlore.db", backup)
        later = await core.store(TENANT, _draft("The office moves to Berlin in May"))
        await core.snapshot()
    # Closing wrote index snapshots that know `later`: they are ahead of the backup.
    assert (live / "index").is_dir()

    with contextlib.closing(sqlite3.connect(backup)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    # The documented restore: stop, drop the old WAL, put the backup in place. The snapshots stay.
    for leftover in ("teamlore.db-wal", "teamlore.db-shm"):
        (live / leftover).unlink(missing_ok=True)
    shutil.copyfile(backup, live / "teamlore.db")

    async with await MemoryCore.open(CoreSettings(data_dir=live), embedder=HashingEmbedder()) as core:
        assert (await core.get(TENANT, kept.memory.id)).text == kept.memory.text
        assert kept.memory.text in await _texts(core, "where did the VPN move")
        with pytest.raises(NotFound):
            await core.get(TENANT, forgotten.memory.id)
        assert forgotten.memory.text not in await _texts(core, "deploys Tuesdays Thursdays")
        with pytest.raises(NotFound):
            await core.get(TENANT, later.memory.id)
        assert later.memory.text not in await _texts(core, "office moves to Berlin in May")
        health = await core.health()
        assert health["ready"], health

        # The restored memory takes new writes, and a reused id never shows the lost text.
        fresh = await core.store(TENANT, _draft("The coffee machine is on the third floor"))
        assert fresh.created
        assert fresh.memory.text in await _texts(core, "coffee machine third floor")
        assert later.memory.text not in await _texts(core, "office Berlin coffee")
