"""docs/mcp.md stays true: every tool, parameter, resource, setting and keys command is documented."""

from __future__ import annotations

import re

import pytest
from mcp import Client
from typer.main import get_command

from mcp_server import McpSettings
from teamlore.cli.keys import build_keys_app

from .conftest import REPO

DOC = (REPO / "docs" / "mcp.md").read_text()

pytestmark = pytest.mark.anyio


async def test_every_tool_and_parameter_is_documented(client: Client) -> None:
    for tool in (await client.list_tools()).tools:
        section = re.search(rf"^### `{tool.name}`\n(.*?)(?=^#)", DOC, re.S | re.M)
        assert section is not None, f"no section for {tool.name}"
        assert f"| `{tool.name}` |" in DOC, f"{tool.name} missing from the tools table"
        for parameter in tool.input_schema.get("properties", {}):
            assert f"`{parameter}`" in section.group(1), f"{tool.name}.{parameter} is not documented"


async def test_every_resource_is_documented(client: Client) -> None:
    uris = [str(r.uri) for r in (await client.list_resources()).resources]
    uris += [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
    for uri in uris:
        assert f"`{uri}`" in DOC


def test_every_setting_is_documented_with_its_default() -> None:
    for name, field in McpSettings.model_fields.items():
        default = field.default
        shown = str(default).lower() if isinstance(default, bool) else "[]" if default == () else str(default)
        assert f"| `{name}` | `{shown}` |" in DOC, name


def test_every_keys_command_and_option_is_documented() -> None:
    group = get_command(build_keys_app(lambda: None))  # type: ignore[arg-type, return-value]
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert f"teamlore keys {name}" in DOC, name
        for param in command.params:
            for flag in param.opts:
                if flag.startswith("--"):
                    assert flag in DOC, f"keys {name} {flag}"
