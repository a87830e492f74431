"""A hybrid query's keyword search runs while its question is embedded, in one snapshot with the rest."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import partial

import anyio
import anyio.to_thread
import pytest

from memory_core import Actor, MemoryCore, QueryTrace
from memory_core.embedding import Vectors
from memory_core.testing import HashingEmbedder, draft
from tests.conftest import SettingsFactory

pytestmark = pytest.mark.anyio

_ADMIN = Actor(id="test:admin", name="admin", is_admin=True)
_WAIT = 5.0  # seconds a gate waits at most: far above any real wait, so a missing overlap shows


class GatedEmbedder(HashingEmbedder):
    """Embeds like the hashing embedder; the model call for the `armed` question first waits for `gate`."""

    def __init__(self) -> None:
        super().__init__()
        self.armed: str | None = None
        self.entered = threading.Event()  # the armed model call has started
        self.gate = threading.Event()
        self.gate_was_open: bool | None = None  # whether `gate` opened within _WAIT seconds
        self.fail = False

    def embed(self, texts: list[str]) -> Vectors:
        if texts == [self.armed]:
            self.entered.set()
            self.gate_was_open = self.gate.wait(_WAIT)
            if self.fail:
                raise RuntimeError("the model broke")
        return super().embed(texts)


class KeywordDone(QueryTrace):
    """A trace that also says, across threads, when the keyword search has finished."""

    def __init__(self) -> None:
        super().__init__()
        self.keyword_done = threading.Event()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        with super().stage(name):
            yield
        if name == "keyword search":
            self.keyword_done.set()


@pytest.fixture
async def gated(make_settings: SettingsFactory) -> AsyncIterator[tuple[MemoryCore, GatedEmbedder]]:
    embedder = GatedEmbedder()
    async with await MemoryCore.open(make_settings(), embedder=embedder) as core:
        if core.database.sqlite_reads is None:
            pytest.skip("the overlap is the SQLite read path's (PostgreSQL keeps the async engine)")
        await core.store_many(
            "default",
            [
                draft("the VPN moved to vpn2.corp"),
                draft("VPN certificates renew every 90 days"),
                draft("lunch is at noon"),
            ],
        )
        yield core, embedder


async def test_keyword_search_finishes_while_the_question_is_being_embedded(
    gated: tuple[MemoryCore, GatedEmbedder],
) -> None:
    core, embedder = gated
    trace = KeywordDone()
    embedder.gate = trace.keyword_done  # the model call waits until the keyword search is done
    embedder.armed = "vpn certificates"
    with anyio.fail_after(30):
        hits = await core.query("default", "vpn certificates", trace=trace)
    assert embedder.gate_was_open is True  # sequential reads would have left it shut for _WAIT seconds
    assert hits[0].memory.text == "VPN certificates renew every 90 days"
    assert {"keyword search", "question embedding", "vector search (FAISS)"} <= set(trace.stages)


async def test_the_keyword_side_and_the_hits_read_one_snapshot(
    gated: tuple[MemoryCore, GatedEmbedder],
) -> None:
    """A memory deleted while the question is embedded: the answer is the database as the query found it
    at its keyword search, complete (the hit's facts and row too); the next query no longer has it."""
    core, embedder = gated
    doomed = next(h.memory for h in await core.query("default", "vpn2 corp") if "vpn2" in h.memory.text)
    trace = KeywordDone()
    embedder.armed = "vpn2 corp"
    answer: list[list[str]] = []

    async def ask() -> None:
        answer.append([h.memory.text for h in await core.query("default", "vpn2 corp", trace=trace)])

    reads = core.database.sqlite_reads
    assert reads is not None

    def until_row_gone() -> None:
        while True:
            with reads.transaction() as cursor:
                if not cursor.execute("SELECT count(*) FROM memory WHERE id = ?", (doomed.id,)).fetchone()[0]:
                    return
            time.sleep(0.01)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(ask)
            assert await anyio.to_thread.run_sync(trace.keyword_done.wait, _WAIT)
            # The delete commits at once; its WAL checkpoint then waits for this query's snapshot to end.
            group.start_soon(partial(core.delete, "default", doomed.id, actor=_ADMIN))
            await anyio.to_thread.run_sync(until_row_gone)
            embedder.gate.set()
    assert "the VPN moved to vpn2.corp" in answer[0]  # its facts and row came from the same snapshot
    embedder.armed = None
    after = [h.memory.text for h in await core.query("default", "vpn2 corp")]
    assert "the VPN moved to vpn2.corp" not in after


async def test_a_failed_embedding_is_the_error_and_frees_the_reader(
    gated: tuple[MemoryCore, GatedEmbedder],
) -> None:
    core, embedder = gated
    embedder.armed, embedder.fail = "vpn", True
    embedder.gate.set()
    with anyio.fail_after(30), pytest.raises(RuntimeError, match="the model broke"):
        await core.query("default", "vpn")
    embedder.armed = None
    assert (await core.query("default", "vpn"))[0].memory.text.startswith("the VPN")


async def test_a_query_cancelled_during_its_embedding_frees_the_reader(
    gated: tuple[MemoryCore, GatedEmbedder],
) -> None:
    core, embedder = gated
    embedder.armed = "vpn"
    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(core.query, "default", "vpn")
            assert await anyio.to_thread.run_sync(embedder.entered.wait, _WAIT)
            group.cancel_scope.cancel()
            embedder.gate.set()  # the model call ends; the read thread must not wait for a vector
    embedder.armed = None
    with anyio.fail_after(30):
        assert (await core.query("default", "vpn"))[0].memory.text.startswith("the VPN")
