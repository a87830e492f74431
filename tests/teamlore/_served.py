"""A real `teamlore serve` subprocess on 127.0.0.1 (hashing embedder), for tests that talk HTTP to it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx

from memory_core import ApiKeys, CoreSettings, MemoryCore
from memory_core.testing import HashingEmbedder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    url: str
    data_dir: Path
    proc: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        return self.log.read_text("utf-8", errors="replace")


def make_keys(data_dir: Path, wanted: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """Create API keys in the data directory before the server starts: {label: (tenant, scope)}."""

    async def create() -> dict[str, str]:
        async with await MemoryCore.open(CoreSettings(data_dir=data_dir), embedder=HashingEmbedder()) as core:
            keys = ApiKeys(core)
            return {
                label: (await keys.create(tenant, scope, name=label))[0]
                for label, (tenant, scope) in wanted.items()
            }

    return anyio.run(create)


@contextmanager
def serve(data_dir: Path, env: Mapping[str, str] | None = None, *, only: str = "web") -> Iterator[Served]:
    """Run `teamlore serve --only web` until the block ends; waits for /readyz first."""
    port = free_port()
    log = data_dir.parent / f"serve-{port}.log"
    full_env = {
        **os.environ,
        "TEAMLORE_DATA_DIR": str(data_dir),
        "TEAMLORE_CORE__EMBEDDING_MODEL": "test-hashing",
        "TEAMLORE_HTTP__PORT": str(port),
        **dict(env or {}),
    }
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("teamlore")), "serve", "--only", only],
            env=full_env,
            text=True,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    served = Served(f"http://127.0.0.1:{port}", data_dir, proc, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"serve exited with {proc.returncode}:\n{served.output()[-3000:]}")
            try:
                if httpx.get(f"{served.url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("serve did not become ready:\n" + served.output()[-3000:])
            time.sleep(0.1)
        yield served
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
