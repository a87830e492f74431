"""A MemoryCore in its own OS process, driven by JSON lines on stdin (for the shared-database tests).

Usage: python -m tests.memory_core.worker DATA_DIR [MODEL]   (TEAMLORE_TEST_DATABASE_URL: PostgreSQL)
Commands: {"op": "store"|"store_many"|"query"|"delete"|"sync", ...}; one JSON answer line each.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio

from memory_core import Actor, CoreSettings, MemoryCore
from memory_core.testing import draft

ADMIN = Actor(id="test:admin", is_admin=True)


async def main(data_dir: str, model: str) -> None:
    url = os.environ.get("TEAMLORE_TEST_DATABASE_URL") or None
    core = await MemoryCore.open(
        CoreSettings(
            data_dir=Path(data_dir), database_url=url, embedding_model=model, snapshot_every_changes=0
        )
    )
    print(json.dumps({"ready": True}), flush=True)
    async with core:
        while True:
            line = await anyio.to_thread.run_sync(sys.stdin.readline)
            if not line:
                return
            cmd = json.loads(line)
            op = cmd["op"]
            tenant = cmd.get("tenant", "default")
            if op == "store":
                result = await core.store(tenant, draft(cmd["text"]))
                answer: object = {"id": result.id}
            elif op == "store_many":
                # Print each batch's ids as soon as the core returned them: what the caller was told.
                texts = cmd["texts"]
                for start in range(0, len(texts), cmd.get("batch", 50)):
                    results = await core.store_many(
                        tenant, [draft(t) for t in texts[start : start + cmd.get("batch", 50)]]
                    )
                    print(json.dumps({"stored": [r.id for r in results]}), flush=True)
                answer = {"done": True}
            elif op == "query":
                hits = await core.query(tenant, cmd["text"], limit=cmd.get("limit", 5), record=False)
                answer = {"ids": [h.memory.id for h in hits]}
            elif op == "delete":
                await core.delete(tenant, cmd["id"], actor=ADMIN)
                answer = {"deleted": cmd["id"]}
            elif op == "exit":
                print(json.dumps({"bye": True}), flush=True)
                return
            else:
                answer = {"error": f"unknown op {op}"}
            print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "test-hashing")
