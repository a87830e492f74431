"""The Slack package's public surface is honest and its imports point inward only."""

from __future__ import annotations

import ast
from pathlib import Path

import bots.slack

PACKAGE = Path(bots.slack.__file__).resolve().parent
FORBIDDEN = ("teamlore", "mailer", "mcp_server", "scheduler", "bots.discord", "discord")


def test_public_names_exist() -> None:
    for name in bots.slack.__all__:
        assert hasattr(bots.slack, name), name


def test_imports_point_inward() -> None:
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            else:
                continue
            for name in names:
                absolute = name.lstrip(".")
                assert not absolute.startswith(FORBIDDEN), f"{path.name} imports {name}"
                assert not name.startswith("..discord"), f"{path.name} imports {name}"
                assert not absolute.startswith("memory_core."), f"{path.name} imports {name}"
