"""The micro-batcher under steady load: no caller waits for the load to end, none is lost when cancelled."""

from __future__ import annotations

import threading
import time

import anyio
import numpy as np
import pytest

from memory_core.embedding import MicroBatcher, Vectors
from memory_core.testing import HashingEmbedder

pytestmark = pytest.mark.anyio


class SlowEmbedder(HashingEmbedder):
    """A model call takes 20 ms (in its worker thread) and is counted."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.batches: list[list[str]] = []

    def embed(self, texts: list[str]) -> Vectors:
        self.calls += 1
        self.batches.append(list(texts))
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


async def test_a_lone_request_runs_at_once_and_those_arriving_meanwhile_go_in_one_batch_after_it() -> None:
    """The idle batcher embeds a lone text straight away (no queue); the running call still collects
    the requests that arrive while it runs into the next batch, and each caller gets its own vector."""
    embedder = SlowEmbedder()
    batcher = MicroBatcher(embedder)
    got: dict[str, Vectors] = {}

    async def ask(text: str) -> None:
        got[text] = await batcher.embed_one(text)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(ask, "alone")
            await anyio.sleep(0.005)  # its model call (20 ms) is running
            assert batcher.busy
            for i in range(5):
                group.start_soon(ask, f"later {i}")
        assert not batcher.busy
        got["after"] = await batcher.embed_one("after")
    assert embedder.batches == [["alone"], [f"later {i}" for i in range(5)], ["after"]]
    for text, vector in got.items():
        assert (vector == HashingEmbedder().embed([text])[0]).all()


async def test_a_bulk_embedding_makes_the_batcher_busy() -> None:
    """While `embed_many` holds the model, a query must see the batcher busy (and not hold a database
    reader while it waits for the model: memory_core/_raw_query.py)."""
    embedder = SlowEmbedder()
    batcher = MicroBatcher(embedder)
    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(batcher.embed_many, ["a", "b", "c"])
            await anyio.sleep(0.005)
            assert batcher.busy
        assert not batcher.busy


async def test_finished_gets_each_vector_in_the_model_thread_alone_and_in_a_batch() -> None:
    """`finished` hands a waiting thread its vector from the model's thread, for a lone request (no
    queue) and for requests that went in one batch."""
    embedder = SlowEmbedder()
    batcher = MicroBatcher(embedder)
    loop_thread = threading.get_ident()
    handed: dict[str, tuple[Vectors, int]] = {}
    returned: dict[str, Vectors] = {}

    async def ask(text: str) -> None:
        returned[text] = await batcher.embed_one(
            text, finished=lambda v: handed.__setitem__(text, (v, threading.get_ident()))
        )

    async with anyio.create_task_group() as group:
        group.start_soon(ask, "alone")
        await anyio.sleep(0.005)  # the lone call is in the model now: these two queue for one batch
        group.start_soon(ask, "first of the batch")
        group.start_soon(ask, "second of the batch")
    assert embedder.batches == [["alone"], ["first of the batch", "second of the batch"]]
    for text, vector in returned.items():
        handed_vector, thread = handed[text]
        assert thread != loop_thread
        np.testing.assert_array_equal(handed_vector, vector)
