"""API keys: created once and shown once, stored hashed, listed, revoked, checked in constant time."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
import sqlalchemy as sa

from memory_core import ApiKeys, InvalidInput, MemoryCore, Scope, UnknownIdentity
from memory_core._schema import api_key_table
from memory_core.testing import HashingEmbedder, open_test_core

pytestmark = pytest.mark.anyio


async def test_create_returns_the_secret_once_and_stores_only_its_hash(core: MemoryCore) -> None:
    keys = ApiKeys(core)
    secret, info = await keys.create("acme", "write", name="claude desktop")
    assert secret.startswith(info.prefix + "_") and info.prefix.startswith("tlk_")
    assert len(secret) > 40
    assert (info.tenant, info.scope, info.name) == ("acme", Scope.WRITE, "claude desktop")
    assert info.active and info.last_used_at is None
    async with core.database.read() as conn:
        stored = (await conn.execute(sa.select(api_key_table))).mappings().one()
    assert secret not in {str(v) for v in stored.values()}
    assert stored["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert "key_hash" not in info.model_dump() and secret not in repr(info)


async def test_authenticate_finds_the_key_and_records_its_use(core: MemoryCore) -> None:
    keys = ApiKeys(core)
    secret, created = await keys.create("acme", Scope.READ)
    found = await keys.authenticate(secret)
    assert (found.id, found.tenant, found.scope) == (created.id, "acme", Scope.READ)
    (listed,) = await keys.list("acme")
    assert listed.last_used_at is not None


@pytest.mark.parametrize(
    "presented",
    ["", "not-a-key", "tlk_00000000_" + "A" * 43, "Bearer tlk_x"],
)
async def test_unknown_or_malformed_keys_are_refused(core: MemoryCore, presented: str) -> None:
    keys = ApiKeys(core)
    await keys.create("acme", Scope.ADMIN)
    with pytest.raises(UnknownIdentity):
        await keys.authenticate(presented)


async def test_a_key_with_the_right_prefix_but_wrong_secret_is_refused(core: MemoryCore) -> None:
    keys = ApiKeys(core)
    secret, _ = await keys.create("acme", Scope.ADMIN)
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    with pytest.raises(UnknownIdentity, match="unknown API key"):
        await keys.authenticate(forged)


async def test_revoked_keys_stop_working_by_id_or_prefix(core: MemoryCore) -> None:
    keys = ApiKeys(core)
    first, first_info = await keys.create("acme", Scope.WRITE)
    second, second_info = await keys.create("acme", Scope.WRITE)
    revoked = await keys.revoke(first_info.id)
    assert revoked.revoked_at is not None and not revoked.active
    await keys.revoke(second_info.prefix.removeprefix("tlk_"))
    for secret in (first, second):
        with pytest.raises(UnknownIdentity, match="revoked"):
            await keys.authenticate(secret)
    again = await keys.revoke(str(first_info.id))  # harmless the second time
    assert again.revoked_at == revoked.revoked_at


async def test_revoke_of_an_unknown_key_says_how_to_find_keys(core: MemoryCore) -> None:
    with pytest.raises(InvalidInput, match="keys list"):
        await ApiKeys(core).revoke("tlk_deadbeef")


async def test_list_filters_by_tenant_and_keeps_revoked_keys(core: MemoryCore) -> None:
    keys = ApiKeys(core)
    _, a = await keys.create("acme", Scope.READ, name="a")
    _, b = await keys.create("globex", Scope.ADMIN, name="b")
    await keys.revoke(a.id)
    assert [k.name for k in await keys.list()] == ["a", "b"]
    (only,) = await keys.list("globex")
    assert only.id == b.id
    (revoked,) = await keys.list("acme")
    assert revoked.revoked_at is not None


@pytest.mark.parametrize(("tenant", "scope"), [("Bad Tenant!", "read"), ("acme", "owner")])
async def test_create_validates_tenant_and_scope(core: MemoryCore, tenant: str, scope: str) -> None:
    with pytest.raises(InvalidInput):
        await ApiKeys(core).create(tenant, scope)


def test_scopes_are_ordered_read_write_admin() -> None:
    assert Scope.ADMIN.allows(Scope.WRITE) and Scope.WRITE.allows(Scope.READ)
    assert not Scope.READ.allows(Scope.WRITE) and not Scope.WRITE.allows(Scope.ADMIN)


async def test_keys_outlive_the_process_that_made_them(tmp_path: Path) -> None:
    async with open_test_core(tmp_path / "data") as first:
        secret, info = await ApiKeys(first).create("acme", Scope.WRITE)
    async with open_test_core(tmp_path / "data") as second:
        assert (await ApiKeys(second).authenticate(secret)).id == info.id


def test_require_scope_names_the_key_that_would_work() -> None:
    from memory_core import PermissionDenied, Scope, require_scope

    require_scope(Scope.ADMIN, Scope.WRITE, "store memories")
    with pytest.raises(PermissionDenied) as caught:
        require_scope(Scope.READ, Scope.WRITE, "store memories")
    assert "read scope" in str(caught.value) and "--scope write" in str(caught.value)


async def test_an_all_digit_prefix_names_the_key_not_an_id(core: MemoryCore) -> None:
    keys = ApiKeys(core)
    _, first = await keys.create("default", Scope.READ, name="first")
    _, second = await keys.create("default", Scope.READ, name="second")
    # A prefix is 8 random hex digits, so one key in ~23 has an all-digit one; it is never read as an id.
    async with core.database.write() as conn:
        await conn.execute(
            sa.update(api_key_table).where(api_key_table.c.id == second.id).values(prefix="tlk_00000001")
        )
    revoked = await keys.revoke("00000001")
    assert revoked.id == second.id
    assert revoked.revoked_at is not None
    assert (await keys.revoke(f"#{first.id}")).id == first.id


async def test_a_checked_key_is_not_read_again_within_the_cache_time(
    core: MemoryCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = ApiKeys(core)
    secret, _ = await keys.create("acme", Scope.READ)
    reads: list[str] = []
    original = keys._read

    async def counted(digest: str, prefix: str) -> object:
        reads.append(prefix)
        return await original(digest, prefix)

    monkeypatch.setattr(keys, "_read", counted)
    for _ in range(20):
        await keys.authenticate(secret)
    assert len(reads) == 1


async def test_a_key_revoked_in_this_process_stops_working_at_once(make_settings: Any) -> None:
    settings = make_settings(key_cache_seconds=300)
    async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
        rest, webui = ApiKeys(core), ApiKeys(core)  # two front-ends of one process
        secret, info = await rest.create("acme", Scope.WRITE)
        await rest.authenticate(secret)
        await webui.revoke(info.id)
        with pytest.raises(UnknownIdentity, match="revoked"):
            await rest.authenticate(secret)


async def test_a_key_revoked_by_another_process_stops_working_within_the_cache_time(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two cores on one database stand for two processes (a replica, the CLI). The revoke is seen at
    the latest `key_cache_seconds` after this process last read the key; a key created elsewhere works
    at once (unknown keys are never cached)."""
    settings = make_settings(key_cache_seconds=2)
    async with (
        await MemoryCore.open(settings, embedder=HashingEmbedder()) as server,
        await MemoryCore.open(settings, embedder=HashingEmbedder()) as cli,
    ):
        served, admin = ApiKeys(server), ApiKeys(cli)
        clock = [1000.0]
        monkeypatch.setattr("memory_core.keys._clock", lambda: clock[0])
        with pytest.raises(UnknownIdentity):
            await served.authenticate("tlk_0000abcd_" + "A" * 43)
        secret, info = await admin.create("acme", Scope.READ)
        assert (await served.authenticate(secret)).id == info.id  # created elsewhere: works at once
        await admin.revoke(info.id)
        clock[0] = 1001.9
        assert (await served.authenticate(secret)).id == info.id  # still trusted: within 2 s
        clock[0] = 1002.0
        with pytest.raises(UnknownIdentity, match="revoked"):
            await served.authenticate(secret)


async def test_with_no_cache_time_every_request_reads_the_key(make_settings: Any) -> None:
    settings = make_settings(key_cache_seconds=0)
    async with (
        await MemoryCore.open(settings, embedder=HashingEmbedder()) as server,
        await MemoryCore.open(settings, embedder=HashingEmbedder()) as cli,
    ):
        secret, info = await ApiKeys(cli).create("acme", Scope.READ)
        await ApiKeys(server).authenticate(secret)
        await ApiKeys(cli).revoke(info.id)
        with pytest.raises(UnknownIdentity, match="revoked"):
            await ApiKeys(server).authenticate(secret)


async def test_last_use_is_written_by_the_background_task_while_it_runs(core: MemoryCore) -> None:
    keys = ApiKeys(core)
    secret, info = await keys.create("acme", Scope.READ)
    async with anyio.create_task_group() as group:
        group.start_soon(core.run_background)
        await anyio.lowlevel.checkpoint()  # the background task starts first
        await keys.authenticate(secret)
        with anyio.fail_after(5):
            while (await keys.get(info.id)).last_used_at is None:  # noqa: ASYNC110 (polling the db)
                await anyio.sleep(0.05)
        group.cancel_scope.cancel()
    # A one-time sign-in link of a key used a moment ago is used up, written or not.
    assert not await keys.claim_first_use(info.id)
