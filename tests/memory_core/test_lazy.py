"""memory_core.lazy_exports: a package's names imported on first use, then kept; unknown names fail."""

from __future__ import annotations

import subprocess
import sys

import pytest

import memory_core
from memory_core import lazy_exports


def test_a_name_is_imported_on_first_use_and_kept() -> None:
    probe = (
        "import sys, memory_core\n"
        "assert 'memory_core.core' not in sys.modules\n"
        "core_class = memory_core.MemoryCore\n"
        "assert 'memory_core.core' in sys.modules\n"
        "assert vars(memory_core)['MemoryCore'] is core_class\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
        _ = memory_core.NoSuchThing  # type: ignore[attr-defined]
    getter = lazy_exports("memory_core", {"Memory": ".types"})
    assert getter("Memory") is memory_core.Memory
    with pytest.raises(AttributeError):
        getter("MemoryCore")  # not in this map
