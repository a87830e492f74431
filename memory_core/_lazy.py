"""A package's public names resolved on first use (PEP 562), so importing the package stays cheap."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """The module `__getattr__` for `package`: `where` maps each public name to its relative module.

    A name is imported when it is first asked for and then kept in the package, so the next use is a
    plain attribute. Use it as `__getattr__ = lazy_exports(__name__, {"Name": ".module", ...})`, with
    the same imports under `if TYPE_CHECKING:` for type checkers and editors.
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name], package), name)
        namespace[name] = value
        return value

    return __getattr__
