"""Two `teamlore serve` replicas over one PostgreSQL behave as one service (issue: one service, scale)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import anyio
import httpx
import pytest

from memory_core import ApiKeys, MemoryCore
from memory_core.testing import HashingEmbedder
from tests.conftest import POSTGRES_URL, PostgresDatabases

from .test_serve import free_port, wait_ready

BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs TEAMLORE_TEST_POSTGRES_URL (. .ci/postgres)")


class Replica:
    def __init__(self, name: str, tmp: Path, database_url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"{name}.log"
        # A file, not a pipe: an unread pipe would fill up and stall the server.
        self.log: IO[str] = self.log_path.open("w")
        env = {
            **os.environ,
            "TEAMLORE_DATA_DIR": str(tmp / name),
            "TEAMLORE_DATABASE_URL": database_url,
            "TEAMLORE_CORE__EMBEDDING_MODEL": "test-hashing",
            "TEAMLORE_HTTP__PORT": str(self.port),
        }
        self.proc = subprocess.Popen(
            [BIN / "teamlore", "serve"], env=env, text=True, stdout=self.log, stderr=subprocess.STDOUT
        )

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.log_path.read_text()


@pytest.fixture
def replicas(tmp_path: Path, postgres_databases: PostgresDatabases) -> Iterator[tuple[Replica, Replica, str]]:
    url = postgres_databases.new()

    async def make_key() -> str:
        from memory_core import CoreSettings

        settings = CoreSettings(data_dir=tmp_path / "admin", database_url=url)
        async with await MemoryCore.open(settings, embedder=HashingEmbedder()) as core:
            secret, _ = await ApiKeys(core).create("default", "write", name="replica-test")
            return secret

    secret = anyio.run(make_key)
    a, b = Replica("a", tmp_path, url), Replica("b", tmp_path, url)
    try:
        wait_ready(f"{a.base}/readyz", a.proc)
        wait_ready(f"{b.base}/readyz", b.proc)
        yield a, b, secret
    finally:
        a.stop()
        b.stop()


def test_two_replicas_are_one_service(replicas: tuple[Replica, Replica, str]) -> None:
    a, b, secret = replicas
    auth = {"Authorization": f"Bearer {secret}"}
    stored = httpx.post(
        f"{a.base}/api/v1/memories",
        headers=auth,
        json={"text": "the failover runbook lives in the ops wiki", "tags": ["ops"]},
    )
    assert stored.status_code == 201
    memory_id = stored.json()["id"]

    found = httpx.post(f"{b.base}/api/v1/query", headers=auth, json={"question": "failover runbook"}).json()
    assert [h["memory"]["id"] for h in found][:1] == [memory_id]
    assert httpx.get(f"{b.base}/api/v1/memories/{memory_id}", headers=auth).status_code == 200

    assert httpx.delete(f"{a.base}/api/v1/memories/{memory_id}", headers=auth).status_code == 204
    for _ in range(3):
        again = httpx.post(
            f"{b.base}/api/v1/query", headers=auth, json={"question": "failover runbook ops wiki"}
        )
        assert memory_id not in [h["memory"]["id"] for h in again.json()]
    assert httpx.get(f"{b.base}/api/v1/memories/{memory_id}", headers=auth).status_code == 404

    # One scheduler leader between them: the other stands by.
    deadline = time.monotonic() + 30
    logs = ("", "")
    while time.monotonic() < deadline:
        logs = (a.log_path.read_text(), b.log_path.read_text())
        if sum("scheduler leading" in log for log in logs) == 1 and any("standing by" in log for log in logs):
            break
        time.sleep(0.5)
    assert sum("scheduler leading" in log for log in logs) == 1, logs
    assert sum("standing by" in log for log in logs) == 1, logs

    for replica in (a, b):
        log = replica.stop()
        assert replica.proc.returncode == 0, log[-2000:]
        assert "teamlore stopped" in log and "Traceback" not in log
