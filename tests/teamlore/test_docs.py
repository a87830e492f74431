"""Documentation that tests keep true: every setting, every command, every MCP tool is in the README."""

from __future__ import annotations

from pathlib import Path

import typer

from teamlore.cli import app
from teamlore.docgen import END, START, env_example, render_settings_table, settings_reference

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text("utf-8")


def test_settings_table_is_generated_from_the_code() -> None:
    block = README.split(START, 1)[1].split(END, 1)[0].strip()
    assert block == render_settings_table(), "run `python -m teamlore.docgen` and commit the README"


def test_every_setting_is_in_the_env_example() -> None:
    example = (ROOT / "deploy" / "env.example").read_text("utf-8")
    assert example == env_example(), "run `python -m teamlore.docgen` and commit deploy/env.example"
    for doc in settings_reference():
        assert doc.env in example
        assert doc.description, f"{doc.env} has no description"


def _command_names(typer_app: typer.Typer, prefix: str = "") -> list[str]:
    names = []
    for command in typer_app.registered_commands:
        name = command.name or (command.callback.__name__.replace("_", "-") if command.callback else "")
        names.append(f"{prefix}{name}")
    for group in typer_app.registered_groups:
        group_name = group.name or ""
        names.append(f"{prefix}{group_name}")
        if group.typer_instance is not None:
            names.extend(_command_names(group.typer_instance, f"{prefix}{group_name} "))
    return names


def test_every_command_is_in_the_readme() -> None:
    names = _command_names(app)
    assert {"store", "query", "serve"} <= set(names)
    missing = [n for n in names if f"teamlore {n}" not in README and f"`{n}" not in README]
    assert missing == []


def test_every_mcp_tool_is_in_the_readme() -> None:
    import anyio

    from mcp_server.server import build_server
    from memory_core.testing import open_test_core

    async def names() -> list[str]:
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as tmp:
            async with open_test_core(Path(tmp)) as core:
                server = build_server(core, local_caller=None)
                return [tool.name for tool in await server.list_tools()]

    tools = anyio.run(names)
    assert len(tools) == 9
    missing = [name for name in tools if f"| `{name}` |" not in README]
    assert missing == []
