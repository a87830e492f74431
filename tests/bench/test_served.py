"""bench/served.py: the one real `teamlore serve` the start and load benchmarks time."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bench.served import NeverReady, serving


def test_serving_waits_for_ready_and_stops_the_server(tmp_path: Path) -> None:
    settings = {"TEAMLORE_DATA_DIR": str(tmp_path / "data"), "TEAMLORE_CORE__EMBEDDING_MODEL": "test-hashing"}
    with serving(settings, timeout=60) as served:
        assert served.ready_s > 0
        assert httpx.get(f"{served.base}/readyz", timeout=5).status_code == 200
    assert served.process.poll() is not None  # stopped on leaving


def test_a_server_that_cannot_start_is_never_ready_with_its_log(tmp_path: Path) -> None:
    settings = {
        "TEAMLORE_DATA_DIR": str(tmp_path / "data"),
        "TEAMLORE_CORE__EMBEDDING_MODEL": "no-such-model-x",
    }
    with pytest.raises(NeverReady, match="no-such-model-x"), serving(settings, timeout=60):
        pass
