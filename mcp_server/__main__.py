"""`python -m mcp_server --data-dir DIR [--tenant T] [--embedding-model M]`: MCP over stdio, no teamlore CLI.

`--embedding-model` names the model as `TEAMLORE_CORE__EMBEDDING_MODEL` does; tests pass `test-hashing`
(the model-free hashing embedder) so this server starts in a subprocess in well under a second.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import anyio

from memory_core import DEFAULT_MODEL, DEFAULT_TENANT, CoreSettings, MemoryCore

from .stdio import run_stdio


async def serve(data_dir: Path, tenant: str, embedding_model: str) -> None:
    core = await MemoryCore.open(CoreSettings(data_dir=data_dir, embedding_model=embedding_model))
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
    parser.add_argument("--embedding-model", default=DEFAULT_MODEL, help="model name or directory")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    # The entry point is the composition root here: it alone configures logging, and only on stderr.
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    anyio.run(serve, args.data_dir, args.tenant, args.embedding_model)


if __name__ == "__main__":
    main()
