"""schemathesis against a running `teamlore serve` and its OpenAPI document: no input causes a 5xx."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from memory_core import ApiKeys, CoreSettings, MemoryCore
from memory_core.testing import HashingEmbedder, draft

from .test_serve import free_port, wait_ready

BIN = Path(sys.executable).parent


async def _prepare(data_dir: Path) -> str:
    async with await MemoryCore.open(CoreSettings(data_dir=data_dir), embedder=HashingEmbedder()) as core:
        await core.store_many("default", [draft(f"fuzz seed memory {i}", tags=["seed"]) for i in range(5)])
        secret, _ = await ApiKeys(core).create("default", "admin", name="fuzzer")
        return secret


@pytest.mark.slow
def test_no_server_errors_under_schemathesis(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    secret = anyio.run(_prepare, data_dir)
    port = free_port()
    env = {
        **os.environ,
        "TEAMLORE_DATA_DIR": str(data_dir),
        "TEAMLORE_CORE__EMBEDDING_MODEL": "test-hashing",
        "TEAMLORE_HTTP__PORT": str(port),
        "TEAMLORE_API__RATE_LIMIT_PER_MINUTE": "100000",
        "TEAMLORE_API__BURST": "100000",
    }
    # The server's log goes to a file: an unread pipe fills up and blocks the server mid-request.
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(
        [BIN / "teamlore", "serve", "--only", "web"], env=env, text=True, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/readyz", server)
        fuzz = subprocess.run(
            [
                BIN / "schemathesis",
                "run",
                f"{base}/api/v1/openapi.json",
                "--checks",
                "not_a_server_error",
                "--header",
                f"Authorization: Bearer {secret}",
                "--max-examples",
                "25",
                "--seed",
                "7",
                "--request-timeout",
                "30",
                "--suppress-health-check",
                "all",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            env={**os.environ, "NO_COLOR": "1"},
        )
        assert fuzz.returncode == 0, fuzz.stdout[-6000:] + fuzz.stderr[-2000:]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        log.seek(0)
        err = log.read()
        log.close()
    assert server.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
