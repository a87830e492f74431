"""Admin pages: the audit log and API keys (create shown once, list, revoke), admin scope only."""

from __future__ import annotations

import re

import pytest

from memory_core import Scope

from .conftest import Web, post, signin

pytestmark = pytest.mark.anyio


async def test_admin_pages_need_admin_scope(web: Web) -> None:
    async with await web.signed_in(Scope.WRITE) as writer:
        for url in ("/admin/audit", "/admin/keys"):
            page = await writer.get(url)
            assert page.status_code == 403 and "admin scope" in page.text
        assert 'href="/admin/keys"' not in (await writer.get("/search")).text
        refused = await post(writer, "/search", "/admin/keys", {"scope": "admin"})
        assert refused.status_code == 403
    assert len(await web.keys.list("default")) == 1


async def test_create_a_key_shown_once_then_listed_and_revoked(web: Web) -> None:
    async with await web.signed_in(Scope.ADMIN) as admin:
        created = await post(admin, "/admin/keys", "/admin/keys", {"name": "ci-bot", "scope": "read"})
        assert created.status_code == 201 and "shown only this once" in created.text
        secret = re.search(r'value="(tlk_[0-9a-f]{8}_[^"]+)"', created.text)
        assert secret
        listed = await admin.get("/admin/keys")
        assert "ci-bot" in listed.text and secret.group(1) not in listed.text
        info = next(k for k in await web.keys.list("default") if k.name == "ci-bot")
        async with web.client() as bot:
            assert (await signin(bot, secret.group(1))).status_code == 303
            assert (await bot.get("/tags")).status_code == 200
            revoked = await post(admin, "/admin/keys", f"/admin/keys/{info.id}/revoke", {})
            assert (
                revoked.status_code == 303
                and f"Revoked API key {info.id}." in (await admin.get(revoked.headers["location"])).text
            )
            assert (await bot.get("/tags")).status_code == 303  # its session ended
        bad = await post(admin, "/admin/keys", "/admin/keys", {"name": "x" * 300, "scope": "read"})
        assert bad.status_code == 422 and 'id="e-name"' in bad.text
        scope = await post(admin, "/admin/keys", "/admin/keys", {"name": "y", "scope": "root"})
        assert scope.status_code == 422 and 'id="e-scope"' in scope.text


async def test_an_admin_cannot_touch_another_tenants_keys(web: Web) -> None:
    _secret, other = await web.keys.create("acme", Scope.READ, "acme-reader")
    async with await web.signed_in(Scope.ADMIN, tenant="globex") as admin:
        assert "acme-reader" not in (await admin.get("/admin/keys")).text
        refused = await post(admin, "/admin/keys", f"/admin/keys/{other.id}/revoke", {})
        assert refused.status_code == 422
    assert (await web.keys.get(other.id)).active


async def test_audit_log_lists_deletes_of_this_tenant_only(web: Web) -> None:
    from memory_core import Actor
    from memory_core.testing import draft

    await web.core.store("acme", draft("acme fact"))
    await web.core.delete("acme", 1, actor=Actor(id="test:root", is_admin=True))
    async with await web.signed_in(Scope.ADMIN, tenant="globex") as admin:
        assert "Nothing deleted yet." in (await admin.get("/admin/audit")).text
