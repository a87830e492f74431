"""A real `teamlore serve --only web` on 127.0.0.1 for the bench sections that time one (start, load)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["NeverReady", "Served", "free_port", "serving"]


class NeverReady(RuntimeError):
    """The server exited or timed out before /readyz answered 200; the message ends with its log."""


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:<port>
    process: subprocess.Popen[bytes]
    ready_s: float  # seconds from Popen to the first 200 from /readyz


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(
    settings: Mapping[str, str], *, timeout: float = 180.0, poll: float = 0.05, stop_timeout: float = 120.0
) -> Iterator[Served]:
    """Start serve with only `settings` of the TEAMLORE_* variables, wait for /readyz, stop it after.

    Started from a fresh working directory, so no stray `.env` is read; SIGTERM at the end (a kill when
    it does not stop within `stop_timeout`).
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEAMLORE_")}
    env.update(settings, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    script = Path(sys.executable).with_name("teamlore")
    argv = [str(script)] if script.is_file() else [sys.executable, "-m", "teamlore.cli"]
    argv += ["serve", "--only", "web", "--host", "127.0.0.1", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as cwd, tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log)
        try:
            ready: float | None = None
            while time.perf_counter() - started < timeout and process.poll() is None:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        ready = time.perf_counter() - started
                        break
                time.sleep(poll)
            if ready is None:
                log.seek(0)
                raise NeverReady("teamlore serve never became ready:\n" + log.read().decode()[-3000:])
            yield Served(base, process, ready)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
