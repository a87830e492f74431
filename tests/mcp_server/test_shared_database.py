"""One database, several processes: what MCP stdio (a subprocess) stores is found by the core and the
HTTP server of another process, and the other way round; deletions are seen everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from mcp_server import build_mcp_http_app
from memory_core import ApiKeys, Scope
from memory_core.testing import draft, open_test_core

from .conftest import http_client, serve_http, stdio_parameters, structured

pytestmark = pytest.mark.anyio


def ids(result: dict[str, object]) -> list[int]:
    hits = result["hits"]
    assert isinstance(hits, list)
    return [h["id"] for h in hits]


async def test_stdio_and_a_running_server_share_one_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with open_test_core(data) as core:
        from_core = await core.store(
            "default", draft("Staging credentials live in the vault under infra/staging.")
        )
        key, _ = await ApiKeys(core).create("default", Scope.WRITE)
        async with (
            serve_http(build_mcp_http_app(core, ApiKeys(core)).starlette()) as base,
            http_client(f"{base}/mcp", key) as http,
            Client(stdio_parameters(data)) as stdio,
        ):
            # core (this process) -> stdio (the subprocess)
            found = structured(
                await stdio.call_tool("query_memories", {"question": "staging credentials vault"})
            )
            assert ids(found) == [from_core.id]

            # stdio -> core and the HTTP server (this process)
            stored = structured(
                await stdio.call_tool("store_memory", {"text": "Kafka keeps events seven days."})
            )
            hits = await core.query("default", "kafka events retention")
            assert hits[0].memory.id == stored["id"]
            over_http = structured(
                await http.call_tool("query_memories", {"question": "kafka events retention"})
            )
            assert ids(over_http)[0] == stored["id"]

            # HTTP server -> stdio
            posted = structured(
                await http.call_tool("store_memory", {"text": "The offsite is in Lisbon in June."})
            )
            found = structured(await stdio.call_tool("query_memories", {"question": "where is the offsite"}))
            assert ids(found)[0] == posted["id"]

            # a deletion through stdio is never answered again by the other process
            structured(await stdio.call_tool("delete_memory", {"memory_id": from_core.id}))
            assert from_core.id not in [
                h.memory.id for h in await core.query("default", "staging credentials vault")
            ]
            gone = structured(
                await http.call_tool("query_memories", {"question": "staging credentials vault"})
            )
            assert from_core.id not in ids(gone)
