"""Each CLI command imports only what it needs: run in a fresh process, then sys.modules is inspected.

The model (torch, sentence-transformers, ONNX Runtime), FAISS and the front-ends' SDKs cost seconds
to import; `--help` and the commands that only read rows must never pay for them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from memory_core import CoreSettings, Embedder, MemoryCore
from memory_core.testing import draft

REPO = Path(__file__).resolve().parents[2]

MODEL = {"torch", "sentence_transformers", "transformers", "onnxruntime"}
# (apscheduler is not here: the settings use its cron parser to check the schedules.)
FRONTENDS = {
    "discord",
    "slack_bolt",
    "slack_sdk",
    "mcp",
    "aiosmtpd",
    "uvicorn",
    "webui.app",
    "webhooks.receiver",
}
HEAVY = MODEL | FRONTENDS | {"faiss"}
# What a query need not pay for (#16: cold `teamlore query` within `import torch`): reflection, the
# quality report and httpx (its CLI pulls in click and pygments) belong to other commands.
NOT_FOR_A_QUERY = {"torch", "sentence_transformers", "transformers", "httpx", "memory_core._reflect"} | {
    "memory_core._quality"
}

# Runs one command as the `teamlore` script would, then reports which heavy top-level modules it
# imported, whatever the command's exit code.
PROBE = """
import json, sys
heavy = set(json.loads(sys.argv[1]))
report = sys.argv[2]
from teamlore.cli import app
try:
    app(sys.argv[3:], prog_name="teamlore")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
loaded = sorted(name for name in heavy if name in sys.modules)
open(report, "w").write(json.dumps({"code": code, "loaded": loaded}))
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> Path:
    """A database with two memories stored with the real model, and a snapshot of its index."""
    data = tmp_path_factory.mktemp("imports") / "data"

    async def seed() -> None:
        async with await MemoryCore.open(CoreSettings(data_dir=data), embedder=real_embedder) as core:
            await core.store("default", draft("The VPN moved to vpn2.corp.example.com", tags=("infra",)))
            await core.store("default", draft("Deploys happen on Tuesdays", tags=("release",)))

    anyio.run(seed)
    return data


def imports_of(
    data_dir: Path, tmp_path: Path, *args: str, watch: set[str] = HEAVY
) -> tuple[object, set[str]]:
    report = tmp_path / "report.json"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
        "TEAMLORE_DATA_DIR": str(data_dir),
    }
    env.pop("TEAMLORE_CORE__EMBEDDING_MODEL", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(sorted(watch)), str(report), *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report.is_file(), done.stderr
    result = json.loads(report.read_text())
    return result["code"], set(result["loaded"])


@pytest.mark.model
@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["--help"], set()),
        (["store", "--help"], set()),
        (["get", "1"], set()),
        (["get", "1", "--json"], set()),
        (["tags"], set()),
        (["keys", "list"], set()),
        (["alerts", "--help"], set()),
        (["check"], {"faiss", "uvicorn"}),  # it checks the index; the runtime module imports uvicorn
        (["stats"], {"faiss"}),  # it counts the indexed vectors
        (["forget", "2"], {"faiss"}),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_light_commands_import_no_model_and_no_front_end(
    data_dir: Path, tmp_path: Path, args: list[str], allowed: set[str]
) -> None:
    code, loaded = imports_of(data_dir, tmp_path, *args)
    assert code in (0, None), f"teamlore {' '.join(args)} exited {code}"
    assert loaded <= allowed, f"teamlore {' '.join(args)} imported {sorted(loaded - allowed)}"


@pytest.mark.model
def test_query_loads_the_model_but_no_front_end(data_dir: Path, tmp_path: Path) -> None:
    code, loaded = imports_of(
        data_dir, tmp_path, "query", "where is the vpn", "--json", watch=HEAVY | NOT_FOR_A_QUERY
    )
    assert code in (0, None)
    assert "onnxruntime" in loaded, "a query embeds its question (ONNX Runtime, the export is cached)"
    assert not loaded & FRONTENDS, sorted(loaded & FRONTENDS)
    assert not loaded & NOT_FOR_A_QUERY, sorted(loaded & NOT_FOR_A_QUERY)


def test_the_import_probe_sees_a_heavy_import(tmp_path: Path) -> None:
    """The probe itself can fail: a command that imports a front-end's SDK is caught."""
    code, loaded = imports_of(tmp_path / "data", tmp_path, "discord", "invite")
    assert code == 2  # no application id is set
    assert "discord" in loaded


@pytest.mark.parametrize(
    "package",
    [
        "memory_core",
        "bots",
        "bots.discord",
        "bots.slack",
        "mcp_server",
        "scheduler",
        "mailer",
        "webhooks",
        "webui",
    ],
)
def test_every_public_name_resolves_in_a_fresh_process(package: str) -> None:
    """The packages resolve their public names on first use: each still names what it always did."""
    probe = (
        "import importlib, inspect, sys\n"
        f"package = importlib.import_module({package!r})\n"
        "bad = [n for n in package.__all__ if inspect.ismodule(getattr(package, n))]\n"
        "sys.exit(', '.join(bad) or None)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
