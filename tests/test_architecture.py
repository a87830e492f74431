"""The import rules of DESIGN.md and STYLE.md, checked on the source of the whole tree.

1. Front-ends import only `memory_core`'s public names (those in `memory_core.__all__`).
2. No front-end imports another front-end.
3. Only `teamlore/` (the composition root) imports front-ends.
4. No module imports another module's `_private` name, and no production module imports another
   package's `_private` module.
5. No production module imports a testing module (`*.testing`, anything under `tests`).
6. No import circle among production modules, lazy and type-checking imports included (so the core's
   internal modules depend one way: `_rows` → `_index_sync` → `_store` → `_query` → `_transfer` →
   `_reflect`/`_quality` → `core`).

A front-end is every top-level package that is not the core, the composition root or a non-production
tree (`NOT_FRONTENDS`), so a new front-end package (`webui/`, `webhooks/`, ...) is covered the day it
appears. Production code is every package but `tests/` and `bench/`. Each rule is a function over a
tree of files; the second half of this module plants one violation of each rule in a temporary tree
and shows that the rule reports it, so none of these tests can pass by checking nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = "memory_core"
COMPOSITION_ROOT = "teamlore"
NOT_PRODUCTION = ("tests", "bench")
NOT_FRONTENDS = (CORE, COMPOSITION_ROOT, *NOT_PRODUCTION)


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name of the importing file
    path: Path
    line: int
    module: str  # absolute dotted module imported from (or imported)
    name: str | None  # for `from module import name`; None for `import module`


@dataclass(frozen=True)
class Tree:
    """The Python packages at the top of `root` (directories with an `__init__.py`)."""

    root: Path

    def packages(self) -> list[str]:
        return sorted(p.parent.name for p in self.root.glob("*/__init__.py"))

    def frontends(self) -> list[str]:
        return [p for p in self.packages() if p not in NOT_FRONTENDS]

    def modules(self) -> Iterator[tuple[str, Path]]:
        for package in self.packages():
            for path in sorted((self.root / package).rglob("*.py")):
                parts = path.relative_to(self.root).with_suffix("").parts
                if any(part.startswith(".") or part == "__pycache__" for part in parts):
                    continue
                yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path

    def imports(self) -> Iterator[Import]:
        for name, path in self.modules():
            is_package = path.name == "__init__.py"
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        yield Import(name, path, node.lineno, alias.name, None)
                elif isinstance(node, ast.ImportFrom):
                    module = _absolute(name, is_package, node.level, node.module)
                    for alias in node.names:
                        yield Import(name, path, node.lineno, module, alias.name)

    def public_core_names(self) -> set[str]:
        """`memory_core.__all__`, read from the source (so a temporary tree has its own)."""
        tree = ast.parse((self.root / CORE / "__init__.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                return set(ast.literal_eval(node.value))
        return set()


def _absolute(importer: str, is_package: bool, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, module] if module else base)


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def _where(imp: Import, root: Path) -> str:
    what = f"{imp.module}.{imp.name}" if imp.name else imp.module
    return f"{imp.path.relative_to(root)}:{imp.line} imports {what}"


def _is_private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


# --- the rules -------------------------------------------------------------------------------------------


def frontends_use_only_public_core_names(tree: Tree) -> list[str]:
    public, frontends = tree.public_core_names(), set(tree.frontends())
    bad = []
    for imp in tree.imports():
        if _top(imp.importer) not in frontends or _top(imp.module) != CORE:
            continue
        if imp.module != CORE or imp.name is None or (imp.name != "*" and imp.name not in public):
            bad.append(_where(imp, tree.root))
    return bad


def frontends_do_not_import_each_other(tree: Tree) -> list[str]:
    frontends = set(tree.frontends())
    return [
        _where(imp, tree.root)
        for imp in tree.imports()
        if _top(imp.importer) in frontends
        and _top(imp.module) in frontends
        and _top(imp.module) != _top(imp.importer)
    ]


def only_the_composition_root_imports_frontends(tree: Tree) -> list[str]:
    frontends = set(tree.frontends())
    allowed = {COMPOSITION_ROOT, *NOT_PRODUCTION}
    return [
        _where(imp, tree.root)
        for imp in tree.imports()
        if _top(imp.module) in frontends
        and _top(imp.importer) != _top(imp.module)
        and _top(imp.importer) not in allowed
    ]


def no_private_names_across_modules(tree: Tree) -> list[str]:
    bad = []
    for imp in tree.imports():
        private_name = imp.name is not None and _is_private(imp.name)  # `from x import _name`, anywhere
        # Production code does not reach into another package's private modules.
        private_module = (
            _top(imp.importer) not in NOT_PRODUCTION
            and _top(imp.module) != _top(imp.importer)
            and any(_is_private(part) for part in imp.module.split("."))
        )
        if private_name or private_module:
            bad.append(_where(imp, tree.root))
    return bad


def no_production_import_of_testing_modules(tree: Tree) -> list[str]:
    def is_testing(module: str) -> bool:
        return _top(module) == "tests" or module.rsplit(".", 1)[-1] == "testing"

    bad = []
    for imp in tree.imports():
        if _top(imp.importer) in NOT_PRODUCTION or is_testing(imp.importer):
            continue
        imported = f"{imp.module}.{imp.name}" if imp.name else imp.module
        if is_testing(imp.module) or is_testing(imported):
            bad.append(_where(imp, tree.root))
    return bad


def no_import_circles(tree: Tree) -> list[str]:
    modules = {name for name, _path in tree.modules()}
    graph: dict[str, set[str]] = {}
    for imp in tree.imports():
        if _top(imp.importer) in NOT_PRODUCTION:
            continue
        submodule = f"{imp.module}.{imp.name}" if imp.name else None
        target = submodule if submodule in modules else imp.module
        if target in modules and target != imp.importer:
            graph.setdefault(imp.importer, set()).add(target)
    circles: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                circles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, path)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    return circles


RULES: list[Callable[[Tree], list[str]]] = [
    frontends_use_only_public_core_names,
    frontends_do_not_import_each_other,
    only_the_composition_root_imports_frontends,
    no_private_names_across_modules,
    no_production_import_of_testing_modules,
    no_import_circles,
]


# --- the tree holds to them ------------------------------------------------------------------------------


def test_the_tree_has_the_expected_shape() -> None:
    tree = Tree(ROOT)
    assert {CORE, COMPOSITION_ROOT, "tests", "bench"} <= set(tree.packages())
    assert {"bots", "mailer", "mcp_server", "scheduler"} <= set(tree.frontends())
    assert sum(1 for _ in tree.imports()) > 500  # the rules below read real imports


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_tree_keeps_the_rule(rule: Callable[[Tree], list[str]]) -> None:
    assert rule(Tree(ROOT)) == []


# --- and each rule reports a violation planted in a temporary tree ---------------------------------------

_CLEAN = {
    "memory_core/__init__.py": '__all__ = ["MemoryCore"]\nfrom .core import MemoryCore\n',
    "memory_core/core.py": "from ._rows import row_to_memory\nclass MemoryCore: ...\n",
    "memory_core/_rows.py": "def row_to_memory(): ...\n",
    "memory_core/testing.py": "from .core import MemoryCore\n",
    "bots/__init__.py": "from memory_core import MemoryCore\nfrom .grammar import parse\n",
    "bots/grammar.py": "def parse(): ...\n",
    "newfront/__init__.py": "from memory_core import MemoryCore\n",
    "teamlore/__init__.py": "",
    "teamlore/cli.py": "import bots\nfrom newfront import MemoryCore\n",
    "tests/__init__.py": "",
    "tests/test_x.py": "from memory_core._rows import row_to_memory\nfrom memory_core import testing\n",
}

_PLANTED: list[tuple[Callable[[Tree], list[str]], str, str, str]] = [
    (
        frontends_use_only_public_core_names,
        "newfront/handler.py",
        "from memory_core.core import MemoryCore\n",
        "newfront/handler.py:1 imports memory_core.core.MemoryCore",
    ),
    (
        frontends_use_only_public_core_names,
        "bots/render.py",
        "from memory_core import row_to_memory\n",
        "bots/render.py:1 imports memory_core.row_to_memory",
    ),
    (
        frontends_do_not_import_each_other,
        "newfront/handler.py",
        "from bots.grammar import parse\n",
        "newfront/handler.py:1 imports bots.grammar.parse",
    ),
    (
        only_the_composition_root_imports_frontends,
        "memory_core/hook.py",
        "def f():\n    import bots.grammar\n",
        "memory_core/hook.py:2 imports bots.grammar",
    ),
    (
        no_private_names_across_modules,
        "memory_core/query.py",
        "from .core import _helper\n",
        "memory_core/query.py:1 imports memory_core.core._helper",
    ),
    (
        no_private_names_across_modules,
        "teamlore/web.py",
        "import memory_core._rows\n",
        "teamlore/web.py:1 imports memory_core._rows",
    ),
    (
        no_production_import_of_testing_modules,
        "memory_core/embedding.py",
        "from .testing import MemoryCore\n",
        "memory_core/embedding.py:1 imports memory_core.testing.MemoryCore",
    ),
    (
        no_production_import_of_testing_modules,
        "bots/slack.py",
        "from tests.fakes import FakeSlack\n",
        "bots/slack.py:1 imports tests.fakes.FakeSlack",
    ),
    (
        no_production_import_of_testing_modules,
        "newfront/app.py",
        "from memory_core import testing\n",
        "newfront/app.py:1 imports memory_core.testing",
    ),
    (
        no_import_circles,
        "memory_core/_rows.py",
        "def row_to_memory():\n    from .core import MemoryCore\n",  # lazy: still a circle
        "memory_core.core -> memory_core._rows -> memory_core.core",
    ),
]


def _write(root: Path, files: dict[str, str]) -> Tree:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Tree(root)


def test_a_clean_temporary_tree_keeps_every_rule(tmp_path: Path) -> None:
    """What the rules allow: the root importing front-ends, private modules used inside their own
    package, tests reaching into private modules and testing helpers."""
    tree = _write(tmp_path, _CLEAN)
    assert tree.frontends() == ["bots", "newfront"]  # a new package is a front-end at once
    for rule in RULES:
        assert rule(tree) == [], rule.__name__


@pytest.mark.parametrize(
    ("rule", "name", "text", "expected"), _PLANTED, ids=[f"{r.__name__}:{n}" for r, n, _t, _e in _PLANTED]
)
def test_each_rule_fails_when_broken(
    tmp_path: Path, rule: Callable[[Tree], list[str]], name: str, text: str, expected: str
) -> None:
    files = dict(_CLEAN)
    assert rule(_write(tmp_path / "before", files)) == []
    files[name] = text
    assert rule(_write(tmp_path / "after", files)) == [expected]


def test_settings_do_not_pull_in_the_web_stack() -> None:
    """`teamlore.settings` is read by every command: importing it must not import FastAPI."""
    source = (ROOT / COMPOSITION_ROOT / "settings.py").read_text()
    imported = {imp.module for imp in Tree(ROOT).imports() if imp.importer == f"{COMPOSITION_ROOT}.settings"}
    assert "fastapi" not in source and not {m for m in imported if m.endswith((".api", ".web"))}
