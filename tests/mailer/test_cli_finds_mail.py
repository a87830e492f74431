"""End to end: forwarded mails go through the real server into the real model's memory, and
`teamlore query --json` (a separate process over the same database) finds them with source email."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from memory_core import MemoryCore

from .conftest import fixture_bytes, send, serving

pytestmark = [pytest.mark.anyio, pytest.mark.model, pytest.mark.slow]

FORWARDS = (
    "gmail_forward.eml",
    "outlook_forward.eml",
    "apple_forward.eml",
    "thunderbird_forward.eml",
    "thunderbird_attached.eml",
)


def teamlore_command() -> list[str]:
    found = shutil.which("teamlore", path=str(Path(sys.executable).parent)) or shutil.which("teamlore")
    if found is None:
        pytest.fail("the teamlore console script is not installed (pip install -e . --no-deps)")
    return [found]


async def test_cli_query_finds_forwarded_mail(model_core: MemoryCore, tmp_path: Path) -> None:
    ids = {}
    async with serving(model_core) as port:
        for name in FORWARDS:
            result = await send(port, fixture_bytes(name))
            assert result.text.startswith("250 2.0.0 Remembered as #"), (name, result.text)
            ids[name] = int(result.text.rsplit("#", 1)[1])

    env = {
        **os.environ,
        # The CLI process opens the database the model_core fixture serves (SQLite file or PostgreSQL).
        "TEAMLORE_DATA_DIR": str(model_core.settings.data_dir),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    if model_core.settings.database_url:
        env["TEAMLORE_DATABASE_URL"] = model_core.settings.database_url
    done = await anyio.to_thread.run_sync(
        lambda: subprocess.run(
            [
                *teamlore_command(),
                "query",
                "when is the postgres database upgrade?",
                "--source",
                "email",
                "--json",
            ],
            cwd=tmp_path,  # no stray .env
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    )
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert hits, done.stderr
    best = hits[0]
    assert best["id"] == ids["gmail_forward.eml"]
    assert best["source"] == "email"
    assert best["author"] == "Alice Martin"
    assert "infra" in best["tags"]
    assert {hit["source"] for hit in hits} == {"email"}
    assert {hit["id"] for hit in hits} <= set(ids.values())
