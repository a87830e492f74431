"""Resources: memory://{id} and memory://recent, tenant-scoped like the tools."""

from __future__ import annotations

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from memory_core import MemoryCore
from memory_core.testing import draft

from .conftest import local_client

pytestmark = pytest.mark.anyio


def text_of(result: object) -> str:
    return "".join(getattr(c, "text", "") for c in getattr(result, "contents", []))


async def test_both_resources_are_advertised(client: Client) -> None:
    assert [r.uri for r in (await client.list_resources()).resources] == ["memory://recent"]
    templates = (await client.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["memory://{id}"]


async def test_a_memory_reads_as_markdown_with_its_facts(client: Client, core: MemoryCore) -> None:
    stored = await core.store(
        "default",
        draft(
            "Grafana dashboards live in the Search folder.",
            tags=["grafana"],
            source_ref="https://wiki/x",
            title="Dashboards",
        ),
    )
    text = text_of(await client.read_resource(f"memory://{stored.id}"))
    assert text.startswith(f"# #{stored.id} Dashboards\n")
    assert "#grafana" in text and "https://wiki/x" in text and "by alice via cli" in text
    assert text.rstrip().endswith("Grafana dashboards live in the Search folder.")


async def test_an_unknown_id_is_a_not_found_error_with_advice(client: Client) -> None:
    with pytest.raises(MCPError, match="not_found: no memory #404; use query_memories"):
        await client.read_resource("memory://404")


@pytest.mark.parametrize(
    "uri", ["memory://abc", "memory://1.5", "memory://-3", "memory://0", "memory://12abc"]
)
async def test_a_malformed_memory_uri_is_a_clear_invalid_params_error(
    client: Client, uri: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO"), pytest.raises(MCPError) as refused:
        await client.read_resource(uri)
    assert refused.value.error.code == -32602
    assert "invalid_input: " in refused.value.error.message and "memory://42" in refused.value.error.message
    assert not [r for r in caplog.records if r.levelno >= 40 or r.exc_info]
    assert text_of(await client.read_resource("memory://recent"))  # the session still serves


async def test_recent_lists_newest_first_and_only_the_callers_tenant(core: MemoryCore) -> None:
    first = await core.store("acme", draft("first acme memory"))
    second = await core.store("acme", draft("second acme memory"))
    await core.store("globex", draft("a globex memory"))
    async with local_client(core, tenant="acme") as acme:
        lines = text_of(await acme.read_resource("memory://recent")).splitlines()
    assert [line.split()[1] for line in lines] == [f"#{second.id}", f"#{first.id}"]
    async with local_client(core, tenant="initech") as empty:
        assert text_of(await empty.read_resource("memory://recent")) == "No memories stored yet.\n"
