"""Update and hard delete: permission, audit, and nothing left behind."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from memory_core import (
    Actor,
    Duplicate,
    InvalidInput,
    MemoryCore,
    MemoryPatch,
    NotFound,
    PermissionDenied,
)
from memory_core._schema import memory_table, memory_tag_table
from memory_core.testing import draft

pytestmark = pytest.mark.anyio

ALICE = Actor(id="cli:alice", name="alice")
MALLORY = Actor(id="cli:mallory", name="mallory")
ADMIN = Actor(id="cli:root", name="root", is_admin=True)


async def test_delete_leaves_no_text_vector_or_keyword_entry(core: MemoryCore) -> None:
    kept = await core.store("default", draft("the release train leaves on wednesday"))
    doomed = await core.store("default", draft("zanzibar protocol secret handshake", tags=["odd"]))
    await core.delete("default", doomed.id, actor=ALICE)

    with pytest.raises(NotFound):
        await core.get("default", doomed.id)
    # (Queried with record=False: the query log would otherwise keep the words we look for below.)
    hits = await core.query("default", "zanzibar protocol secret handshake", record=False, limit=10)
    assert doomed.id not in [h.memory.id for h in hits]
    async with core.database.read() as conn:
        assert (
            await conn.execute(
                sa.select(sa.func.count()).select_from(memory_table).where(memory_table.c.id == doomed.id)
            )
        ).scalar_one() == 0
        assert (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(memory_tag_table)
                .where(memory_tag_table.c.memory_id == doomed.id)
            )
        ).scalar_one() == 0
        assert await core._keyword.count(conn, [doomed.id]) == 0
        assert await core._keyword.count(conn, [kept.id]) == 1
        if core.database.is_sqlite:
            match = await conn.exec_driver_sql(
                "SELECT count(*) FROM memory_fts WHERE memory_fts MATCH 'zanzibar'"
            )
            assert match.scalar_one() == 0
    status = await core.index_status("default")
    assert status["indexed"] == 1 and status["missing"] == [] and status["orphaned"] == []
    if not core.database.is_sqlite:
        return
    # The text is gone from the database file itself (secure_delete, FTS optimised), not just unlinked.
    await core.aclose()
    db_file = core.settings.data_dir / "teamlore.db"
    blob = db_file.read_bytes() + (
        db_file.with_name("teamlore.db-wal").read_bytes()
        if db_file.with_name("teamlore.db-wal").exists()
        else b""
    )
    assert b"zanzibar" not in blob and b"handshake" not in blob
    assert b"release train" in blob
    assert kept.created


async def test_delete_writes_an_audit_row_without_content(core: MemoryCore) -> None:
    doomed = await core.store("default", draft("to be forgotten"))
    await core.delete("default", doomed.id, actor=ALICE)
    (row,) = await core.audit_log("default")
    assert row["memory_id"] == doomed.id and row["actor_id"] == "cli:alice" and row["action"] == "delete"
    assert row["at"] is not None
    assert "forgotten" not in repr(row)


async def test_only_author_or_admin_may_delete(core: MemoryCore) -> None:
    memory = await core.store("default", draft("alice's note"))
    with pytest.raises(PermissionDenied, match="alice"):
        await core.delete("default", memory.id, actor=MALLORY)
    await core.get("default", memory.id)
    await core.delete("default", memory.id, actor=ADMIN)
    with pytest.raises(NotFound):
        await core.delete("default", memory.id, actor=ADMIN)


async def test_another_tenants_id_is_not_found(core: MemoryCore) -> None:
    memory = await core.store("alpha", draft("alpha only"))
    with pytest.raises(NotFound):
        await core.get("beta", memory.id)
    with pytest.raises(NotFound):
        await core.delete("beta", memory.id, actor=ADMIN)
    await core.get("alpha", memory.id)


async def test_update_reembeds_and_rechecks(core: MemoryCore) -> None:
    memory = await core.store("default", draft("the build server is jenkins", tags=["ci"]))
    other = await core.store("default", draft("something else entirely"))
    updated = await core.update(
        "default",
        memory.id,
        MemoryPatch(text="the build server is buildkite", tags=("ci", "infra")),
        actor=ALICE,
    )
    assert updated.text == "the build server is buildkite" and updated.tags == ("ci", "infra")
    hits = await core.query("default", "buildkite", mode="keyword")
    assert [h.memory.id for h in hits] == [memory.id]
    assert await core.query("default", "jenkins", mode="keyword") == []
    with pytest.raises(Duplicate) as caught:
        await core.update("default", memory.id, MemoryPatch(text="Something else entirely"), actor=ALICE)
    assert caught.value.existing_id == other.id
    with pytest.raises(PermissionDenied):
        await core.update("default", memory.id, MemoryPatch(kind="decision"), actor=MALLORY)


async def test_ids_of_deleted_memories_are_never_reused(core: MemoryCore) -> None:
    first = await core.store("default", draft("one"))
    second = await core.store("default", draft("two"))
    await core.delete("default", second.id, actor=ADMIN)
    third = await core.store("default", draft("three"))
    assert third.id > second.id > first.id


async def test_update_superseded_by_links_both_ends(core: MemoryCore) -> None:
    old = (await core.store("default", draft("Deploys go out on Thursdays."))).id
    new = (await core.store("default", draft("Deploys go out on Tuesdays."))).id
    kept = (await core.store("default", draft("Deploys need two approvals.", supersedes=old))).id
    await core.update("default", old, MemoryPatch(superseded_by=new), actor=ADMIN)
    assert (await core.get("default", old)).superseded_by == new
    assert (await core.get("default", new)).supersedes == old
    # A memory that already says what it replaces keeps saying so.
    await core.update("default", new, MemoryPatch(superseded_by=kept), actor=ADMIN)
    assert (await core.get("default", kept)).supersedes == old
    with pytest.raises(InvalidInput, match="itself"):
        await core.update("default", kept, MemoryPatch(superseded_by=kept), actor=ADMIN)
    with pytest.raises(NotFound):
        await core.update("default", kept, MemoryPatch(superseded_by=10_000), actor=ADMIN)
