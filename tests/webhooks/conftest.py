"""One real `teamlore serve` for the webhook tests: hooks made with the real CLI, GitHub on, a tenant map."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from teamlore.client import Client
from tests.teamlore._served import Served, make_keys, serve

GITHUB_SECRET = "It's a Secret to Everybody"
TENANTS = {
    "default": {"mail": ["lore@example.com"]},
    "acme": {"github": ["acme"]},
    "widgets": {"github": ["other-org/widgets"]},
}


@dataclass
class HookServer:
    served: Served
    secrets: dict[str, str]  # hook name -> signing secret
    readers: dict[str, Client]  # tenant -> an admin client of that tenant
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.served.url

    def count(self, tenant: str) -> int:
        return self.readers[tenant].stats().memories


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("teamlore")), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="session")
def hook_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HookServer]:
    data_dir = tmp_path_factory.mktemp("hooks") / "data"
    env = {
        "TEAMLORE_DATA_DIR": str(data_dir),
        "TEAMLORE_CORE__EMBEDDING_MODEL": "test-hashing",
        "TEAMLORE_TENANTS": json.dumps(TENANTS),
        "TEAMLORE_WEBHOOKS__GITHUB_SECRET": GITHUB_SECRET,
        "TEAMLORE_API__RATE_LIMIT_PER_MINUTE": "100000",
        "TEAMLORE_API__BURST": "100000",
    }
    keys = make_keys(data_dir, {t: (t, "admin") for t in TENANTS})
    secrets = {}
    for name, tenant in (("ci", "default"), ("pager", "acme")):
        made = cli(env, "webhooks", "create", name, "--tenant", tenant, "--json")
        assert made.returncode == 0, made.stderr
        secrets[name] = json.loads(made.stdout)["secret"]
    with serve(data_dir, env) as served:
        readers = {t: Client(served.url, k) for t, k in keys.items()}
        try:
            yield HookServer(served, secrets, readers, env)
        finally:
            for reader in readers.values():
                reader.close()
