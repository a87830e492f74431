"""`teamlore serve` as a real process: health, readiness, and a clean exit on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[str], timeout: float = 120) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"serve exited early with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}"
            )
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve did not become ready")


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {
        **os.environ,
        "TEAMLORE_DATA_DIR": str(tmp_path / "data"),
        "TEAMLORE_CORE__EMBEDDING_MODEL": "test-hashing",
        "TEAMLORE_HTTP__PORT": str(port),
    }
    proc = subprocess.Popen(
        [Path(sys.executable).with_name("teamlore"), "serve"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def test_health_readiness_and_sigterm(served) -> None:  # type: ignore[no-untyped-def]
    base, proc = served
    ready = wait_ready(f"{base}/readyz", proc)
    body = ready.json()
    assert body["ready"] is True and body["database"] is True and body["index_in_step"] is True
    assert body["model_loaded"] is True
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "shutting down" in err and "teamlore stopped" in err


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        env = {
            **os.environ,
            "TEAMLORE_DATA_DIR": str(tmp_path),
            "TEAMLORE_CORE__EMBEDDING_MODEL": "test-hashing",
        }
        result = subprocess.run(
            [Path(sys.executable).with_name("teamlore"), "serve", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode != 0
    assert "could not listen" in result.stderr


def test_sigterm_during_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    import threading

    import anyio

    from memory_core import ApiKeys, CoreSettings, MemoryCore
    from memory_core.testing import HashingEmbedder

    data_dir = tmp_path / "data"

    async def make_key() -> str:
        async with await MemoryCore.open(CoreSettings(data_dir=data_dir), embedder=HashingEmbedder()) as core:
            return (await ApiKeys(core).create("default", "write"))[0]

    secret = anyio.run(make_key)
    port = free_port()
    env = {
        **os.environ,
        "TEAMLORE_DATA_DIR": str(data_dir),
        "TEAMLORE_CORE__EMBEDDING_MODEL": "test-hashing",
        "TEAMLORE_HTTP__PORT": str(port),
        "TEAMLORE_API__RATE_LIMIT_PER_MINUTE": "100000",
        "TEAMLORE_API__BURST": "100000",
    }
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [Path(sys.executable).with_name("teamlore"), "serve", "--only", "web"],
        env=env,
        text=True,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}/readyz", proc)
    acknowledged: list[int] = []
    stop = threading.Event()

    def writer() -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {secret}"}, timeout=10) as http:
            for i in range(10_000):
                if stop.is_set():
                    return
                try:
                    response = http.post(f"{base}/api/v1/memories", json={"text": f"load memory {i}"})
                except httpx.TransportError:
                    return  # the server is going away: what was acknowledged is what counts
                if response.status_code != 201:
                    return
                acknowledged.append(response.json()["id"])

    thread = threading.Thread(target=writer)
    thread.start()
    while len(acknowledged) < 30:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    stop.set()
    thread.join(timeout=30)
    log.close()
    assert proc.returncode == 0, (tmp_path / "serve.log").read_text()[-2000:]

    async def present() -> int:
        async with await MemoryCore.open(CoreSettings(data_dir=data_dir), embedder=HashingEmbedder()) as core:
            return len(await core.get_many("default", acknowledged))

    assert anyio.run(present) == len(acknowledged)
