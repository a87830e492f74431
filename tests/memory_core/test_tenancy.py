"""No query, get or listing ever returns another tenant's memory (property-based), and the tenant map."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory_core import InvalidInput, MemoryCore, QueryFilters, TenantIdentities, TenantMap, UnknownIdentity
from memory_core.testing import HashingEmbedder, draft
from tests.conftest import SettingsFactory

TENANTS = ("acme", "globex", "initech")
WORDS = ("vpn", "deploy", "billing", "postgres", "lunch", "oncall", "kafka", "refund", "laptop", "figma")

operation = st.one_of(
    st.tuples(
        st.just("store"),
        st.sampled_from(TENANTS),
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=5),
        st.lists(st.sampled_from(WORDS[:3]), max_size=2),
    ),
    st.tuples(
        st.just("query"),
        st.sampled_from(TENANTS),
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
        st.lists(st.sampled_from(WORDS[:3]), max_size=1),
    ),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_no_operation_crosses_tenants(make_settings: SettingsFactory, ops: list[tuple]) -> None:  # type: ignore[type-arg]
    settings_for_example = make_settings()

    async def run() -> None:
        owner: dict[int, str] = {}
        async with await MemoryCore.open(settings_for_example, embedder=HashingEmbedder()) as core:
            for kind, tenant, words, tags in ops:
                if kind == "store":
                    result = await core.store(tenant, draft(" ".join(words), tags=tags))
                    owner.setdefault(result.id, tenant)
                    assert owner[result.id] == tenant
                else:
                    hits = await core.query(
                        tenant, " ".join(words), limit=20, filters=QueryFilters(tags=tuple(tags))
                    )
                    assert all(owner[h.memory.id] == tenant and h.memory.tenant == tenant for h in hits)
                    recent = await core.recent(tenant, limit=100)
                    assert all(owner[m.id] == tenant for m in recent)
                    tags_seen = {t.tag for t in await core.list_tags(tenant)}
                    stored_tags = {
                        t
                        for mid, t_ in owner.items()
                        if t_ == tenant
                        for t in (await core.get(tenant, mid)).tags
                    }
                    assert tags_seen == stored_tags
            for memory_id, tenant in owner.items():
                others = [t for t in TENANTS if t != tenant]
                assert await core.get_many(others[0], [memory_id]) == []
            for tenant in TENANTS:
                exported = [r.id async for r in core.export(tenant)]
                assert all(owner[i] == tenant for i in exported)

    anyio.run(run)


def test_empty_tenant_map_sends_everything_to_default() -> None:
    tenants = TenantMap()
    assert tenants.resolve("slack", "T123") == "default"
    assert tenants.resolve("mail", "anyone@anywhere.org") == "default"


def test_tenant_map_resolves_and_refuses_unknown_identities() -> None:
    tenants = TenantMap(
        {
            "acme": TenantIdentities(slack=("T1",), discord=("111",), mail=("acme.com",)),
            "globex": TenantIdentities(mail=("lore@globex.io",)),
        }
    )
    assert tenants.resolve("slack", "T1") == "acme"
    assert tenants.resolve("discord", "111") == "acme"
    assert tenants.resolve("mail", "Memory+Infra@ACME.com") == "acme"
    assert tenants.resolve("mail", "lore+ops@globex.io") == "globex"
    with pytest.raises(UnknownIdentity):
        tenants.resolve("mail", "other@globex.io")
    with pytest.raises(UnknownIdentity):
        tenants.resolve("slack", "T2")
    with pytest.raises(UnknownIdentity):
        tenants.resolve("discord", "T1")


def test_tenant_map_refuses_an_identity_in_two_tenants() -> None:
    with pytest.raises(InvalidInput, match="both"):
        TenantMap({"a": TenantIdentities(slack=("T1",)), "b": TenantIdentities(slack=("t1",))})


def test_github_repositories_map_by_full_name_then_owner() -> None:
    tenants = TenantMap(
        {
            "acme": TenantIdentities(github=("acme",)),
            "widgets": TenantIdentities(github=("Other-Org/Widgets",)),
        }
    )
    assert tenants.resolve("github", "acme/api") == "acme"
    assert tenants.resolve("github", "ACME/anything") == "acme"
    assert tenants.resolve("github", "other-org/widgets") == "widgets"
    with pytest.raises(UnknownIdentity, match="github identity"):
        tenants.resolve("github", "other-org/gadgets")
    with pytest.raises(UnknownIdentity):
        tenants.resolve("github", "")
