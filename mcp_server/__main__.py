"""`python -m mcp_server --data-dir DIR [--tenant T]`: MCP over stdio without the teamlore CLI.

Test hook: with TEAMLORE_TEST_HASHING_EMBEDDER=1 in the environment the core uses the deterministic
hashing embedder of `memory_core.testing` instead of loading the real model, so tests can start this
server in a subprocess in well under a second. Never set it in a deployment: the vectors it writes
are useless for real search (and the database then refuses the real model until `teamlore reindex`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import anyio

from memory_core import DEFAULT_TENANT, CoreSettings, Embedder, MemoryCore
from memory_core.testing import HashingEmbedder

from .stdio import run_stdio

TEST_EMBEDDER_ENV = "TEAMLORE_TEST_HASHING_EMBEDDER"


async def serve(data_dir: Path, tenant: str, embedder: Embedder | None) -> None:
    core = await MemoryCore.open(CoreSettings(data_dir=data_dir), embedder=embedder)
    async with core:
        await run_stdio(core, tenant)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m mcp_server", description="teamlore MCP server over stdio"
    )
    parser.add_argument(
        "--data-dir", type=Path, required=True, help="teamlore data directory (SQLite database)"
    )
    parser.add_argument("--tenant", default=DEFAULT_TENANT, help="tenant every call acts in")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    # The entry point is the composition root here: it alone configures logging, and only on stderr.
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    embedder = HashingEmbedder() if os.environ.get(TEST_EMBEDDER_ENV) == "1" else None
    anyio.run(serve, args.data_dir, args.tenant, embedder)


if __name__ == "__main__":
    main()
