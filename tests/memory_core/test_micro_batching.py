"""The micro-batcher under steady load: no caller waits for the load to end, none is lost when cancelled."""

from __future__ import annotations

import time

import anyio
import pytest

from memory_core.embedding import MicroBatcher, Vectors
from memory_core.testing import HashingEmbedder

pytestmark = pytest.mark.anyio


class SlowEmbedder(HashingEmbedder):
    """A model call takes 20 ms (in its worker thread) and is counted."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def embed(self, texts: list[str]) -> Vectors:
        self.calls += 1
        time.sleep(0.02)
        return super().embed(texts)


async def test_under_steady_load_every_caller_is_answered_within_a_few_batches() -> None:
    """New questions keep arriving faster than batches finish; each caller must get its vector within a
    few model calls of asking, not when the stream stops (the caller who ran the first batch used to
    drain the queue for everyone until it was empty)."""
    embedder = SlowEmbedder()
    batcher = MicroBatcher(embedder)
    waited: dict[int, int] = {}  # caller -> model calls that ran while it waited

    async def ask(i: int) -> None:
        before = embedder.calls
        await batcher.embed_one(f"question {i}")
        waited[i] = embedder.calls - before

    async with anyio.create_task_group() as group:
        for i in range(200):  # ~40 arrivals per model call: the queue is never empty meanwhile
            group.start_soon(ask, i)
            await anyio.sleep(0.0005)
    assert len(waited) == 200
    assert max(waited.values()) <= 3, sorted(waited.items(), key=lambda kv: -kv[1])[:5]


async def test_a_cancelled_waiter_neither_strands_nor_loses_the_others() -> None:
    embedder = SlowEmbedder()
    batcher = MicroBatcher(embedder)
    answered: list[int] = []

    async def ask(i: int) -> None:
        vector = await batcher.embed_one(f"question {i}")
        assert vector.shape == (embedder.dim,)
        answered.append(i)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            for i in range(30):
                group.start_soon(ask, i)
            with anyio.CancelScope() as doomed:
                doomed.cancel()  # cancelled before its first turn
                await batcher.embed_one("never asked")
            async with anyio.create_task_group() as cancelled:
                cancelled.start_soon(ask, 99)
                await anyio.sleep(0.001)
                cancelled.cancel_scope.cancel()  # cancelled while queued behind a running batch
    assert sorted(answered) == list(range(30))
