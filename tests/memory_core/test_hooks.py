"""Webhook secrets in the core: sealed with the server key, bound to their hook; delivery keys kept once."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import anyio
import pytest
import sqlalchemy as sa

from memory_core import ConfigurationError, InvalidInput, MemoryCore, Webhooks, webhook_key

pytestmark = pytest.mark.anyio

KEY = bytes(range(32))


async def test_create_list_lookup_revoke_and_make_again(core: MemoryCore) -> None:
    hooks = Webhooks(core, KEY)
    secret, info = await hooks.create("CI", "default")
    assert info.name == "ci" and info.tenant == "default" and info.active
    assert secret.startswith("tlw_") and len(secret) > 40
    found = await hooks.lookup("ci")
    assert found is not None and found[0].id == info.id and found[1] == secret
    assert [h.name for h in await hooks.list()] == ["ci"] and await hooks.list("other") == []
    with pytest.raises(InvalidInput, match="exists"):
        await hooks.create("ci", "default")

    # Nothing in the database reveals the secret.
    async with core.database.read() as conn:
        rows = (await conn.execute(sa.text("SELECT * FROM webhook"))).all()
    assert secret not in repr(rows) and secret[4:20] not in repr(rows)

    revoked = await hooks.revoke("ci")
    assert not revoked.active and await hooks.lookup("ci") is None
    assert (await hooks.revoke("ci")).revoked_at == revoked.revoked_at  # twice is harmless
    new_secret, again = await hooks.create("ci", "other")
    assert again.id == info.id and again.active and again.tenant == "other"
    assert (await hooks.lookup("ci")) == (again, new_secret) and new_secret != secret


@pytest.mark.parametrize("name", ["", "has space", "github", "x" * 65, "../etc"])
async def test_bad_or_reserved_names_are_refused(core: MemoryCore, name: str) -> None:
    with pytest.raises(InvalidInput):
        await Webhooks(core, KEY).create(name, "default")


async def test_unknown_names_and_tenants(core: MemoryCore) -> None:
    hooks = Webhooks(core, KEY)
    assert await hooks.lookup("nobody") is None and await hooks.lookup("../x") is None
    with pytest.raises(InvalidInput):
        await hooks.revoke("nobody")
    with pytest.raises(InvalidInput):
        await hooks.create("ok", "Not A Tenant")


async def test_another_server_key_cannot_open_a_secret(core: MemoryCore) -> None:
    await Webhooks(core, KEY).create("ci", "default")
    with pytest.raises(ConfigurationError, match="TEAMLORE_WEBHOOKS__SECRET_KEY"):
        await Webhooks(core, bytes(32)).lookup("ci")


async def test_a_sealed_secret_cannot_be_moved_to_another_hook(core: MemoryCore) -> None:
    hooks = Webhooks(core, KEY)
    await hooks.create("one", "default")
    await hooks.create("two", "default")
    async with core.database.write() as conn:
        box = (await conn.execute(sa.text("SELECT secret_box FROM webhook WHERE name = 'one'"))).scalar()
        await conn.execute(sa.text("UPDATE webhook SET secret_box = :b WHERE name = 'two'"), {"b": box})
    with pytest.raises(ConfigurationError):
        await hooks.lookup("two")


async def test_delivery_keys_are_kept_once(core: MemoryCore) -> None:
    hooks = Webhooks(core, KEY)
    await hooks.create("ci", "default")
    assert await hooks.delivered("ci", "abc") is None
    async with anyio.create_task_group() as tg:  # two deliveries of one key at once
        tg.start_soon(hooks.record_delivery, "ci", "abc", 7)
        tg.start_soon(hooks.record_delivery, "ci", "abc", 7)
    assert await hooks.delivered("ci", "abc") == 7
    await hooks.record_delivery("ci", "abc", 8)
    assert await hooks.delivered("ci", "abc") == 7  # the first record wins
    assert await hooks.delivered("other", "abc") is None
    found = await hooks.lookup("ci")
    assert found is not None and found[0].last_used_at is not None


def test_key_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    key = webhook_key(tmp_path / "data")
    path = tmp_path / "data" / "webhooks.key"
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert webhook_key(tmp_path / "data") == key
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        webhook_key(tmp_path / "data")
    os.chmod(path, 0o600)
    path.write_bytes(b"short")
    with pytest.raises(ConfigurationError, match="32 bytes"):
        webhook_key(tmp_path / "data")


def test_a_configured_key_wins_and_writes_no_file(tmp_path: Path) -> None:
    key = webhook_key(tmp_path, "a long random server key")
    assert len(key) == 32 and key == webhook_key(tmp_path / "elsewhere", "a long random server key")
    assert not (tmp_path / "webhooks.key").exists()
    with pytest.raises(ConfigurationError, match="16 characters"):
        webhook_key(tmp_path, "short")
