"""`teamlore query` loads the model in a thread while the core opens: same answers, errors still reported."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from typer.testing import CliRunner

from memory_core import CoreSettings, Embedder, MemoryCore
from memory_core.embedding import LazyEmbedder
from memory_core.testing import HashingEmbedder, draft
from teamlore.cli import app
from teamlore.cli.runner import start_model_load

from ..conftest import MODEL_CACHE


@pytest.mark.model
def test_the_model_loads_in_the_background_without_an_embed(tmp_path: Path) -> None:
    settings = CoreSettings(data_dir=tmp_path, model_cache_dir=MODEL_CACHE)
    embedder, thread = start_model_load(settings)
    assert isinstance(embedder, LazyEmbedder)
    thread.join(timeout=120)
    assert not thread.is_alive() and embedder.loaded
    assert embedder.embed(["where is the vpn"]).shape == (1, embedder.dim)


@pytest.mark.model
def test_a_query_with_the_preloaded_model_finds_the_memory(tmp_path: Path, real_embedder: Embedder) -> None:
    data = tmp_path / "data"

    async def seed() -> None:
        async with await MemoryCore.open(CoreSettings(data_dir=data), embedder=real_embedder) as core:
            await core.store("default", draft("The VPN moved to vpn2.corp.example.com"))
            await core.store("default", draft("Deploys happen on Tuesdays"))

    anyio.run(seed)
    env = {"TEAMLORE_DATA_DIR": str(data), "TEAMLORE_CORE__MODEL_CACHE_DIR": str(MODEL_CACHE)}
    result = CliRunner().invoke(app, ["query", "which host is the vpn on", "--limit", "1"], env=env)
    assert result.exit_code == 0, result.output
    assert "vpn2.corp.example.com" in result.stdout


def test_a_model_that_cannot_load_in_the_background_is_still_an_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    not_a_directory = tmp_path / "models"
    not_a_directory.write_text("a file where the model cache should be")

    async def seed() -> None:
        async with await MemoryCore.open(CoreSettings(data_dir=data), embedder=_dim384()) as core:
            await core.store("default", draft("The VPN moved to vpn2.corp.example.com"))

    anyio.run(seed)
    env = {"TEAMLORE_DATA_DIR": str(data), "TEAMLORE_CORE__MODEL_CACHE_DIR": str(not_a_directory)}
    result = CliRunner().invoke(app, ["query", "where is the vpn"], env=env)
    assert result.exit_code == 1
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def _dim384() -> Embedder:
    """all-MiniLM-L6-v2's id and dimension without the model, so the database accepts the real model."""
    return HashingEmbedder(model_id="all-MiniLM-L6-v2")
