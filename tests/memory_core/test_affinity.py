"""A lone query's reader keeps off the CPU its model call runs on while it runs, and gets its CPUs back."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import pytest

import memory_core._raw_query as raw_query
from memory_core import MemoryCore
from memory_core._affinity import away_from, current_cpu
from memory_core.testing import draft
from tests.conftest import SettingsFactory

_LINUX_SMP = hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2
needs_two_cpus = pytest.mark.skipif(not _LINUX_SMP, reason="needs thread affinity and two allowed CPUs")


def _in_thread(work: Any) -> Any:
    """Run `work` in a fresh thread (affinity changes stay out of the test runner's thread)."""
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(work()))
    thread.start()
    thread.join()
    return out[0]


@needs_two_cpus
def test_away_from_leaves_out_one_cpu_for_the_block_and_restores_the_rest() -> None:
    def work() -> tuple[set[int], set[int], set[int]]:
        before = os.sched_getaffinity(0)
        cpu = min(before)
        with away_from(cpu):
            inside = os.sched_getaffinity(0)
        return before, inside, os.sched_getaffinity(0)

    before, inside, after = _in_thread(work)
    assert inside == before - {min(before)} and after == before


@needs_two_cpus
def test_away_from_changes_nothing_when_no_other_cpu_is_allowed_or_the_cpu_is_unknown() -> None:
    def work() -> list[set[int]]:
        only = min(os.sched_getaffinity(0))
        seen = []
        with away_from(None):
            seen.append(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {only})
        with away_from(only):  # the thread's one CPU: it stays there rather than nowhere
            seen.append(os.sched_getaffinity(0))
        return [*seen, {only}]

    unknown, single, only = _in_thread(work)
    assert len(unknown) >= 2 and single == only


def test_current_cpu_is_one_the_thread_may_run_on() -> None:
    cpu = current_cpu()
    if cpu is None:
        pytest.skip("this C library cannot say which CPU a thread runs on")
    assert not hasattr(os, "sched_getaffinity") or cpu in os.sched_getaffinity(0)


@needs_two_cpus
@pytest.mark.anyio
async def test_the_reader_of_a_lone_query_runs_off_the_models_cpu(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_cpu = min(os.sched_getaffinity(0))
    monkeypatch.setattr(raw_query, "current_cpu", lambda: model_cpu)  # where the model "runs"
    seen: dict[str, set[int]] = {}
    real_read, real_away, real_floor = raw_query._read, raw_query.away_from, raw_query.above_floor

    def read(*args: Any) -> Any:
        seen["reading"] = os.sched_getaffinity(0)
        return real_read(*args)

    @contextmanager
    def away(cpu: int | None) -> Iterator[None]:
        with real_away(cpu):
            yield
        seen["after"] = os.sched_getaffinity(0)

    def floor(*args: Any) -> Any:  # runs right after the vector search, once the vector was handed over
        seen["after the vector"] = os.sched_getaffinity(0)
        return real_floor(*args)

    monkeypatch.setattr(raw_query, "_read", read)
    monkeypatch.setattr(raw_query, "above_floor", floor)
    monkeypatch.setattr(raw_query, "away_from", away)
    async with await MemoryCore.open(make_settings()) as core:
        if core.database.sqlite_reads is None:
            pytest.skip("the overlap is the SQLite read path's (PostgreSQL keeps the async engine)")
        await core.store_many("default", [draft("the VPN moved to vpn2.corp"), draft("lunch is at noon")])
        with anyio.fail_after(30):
            hits = await core.query("default", "where is the vpn")
    assert hits and hits[0].memory.text == "the VPN moved to vpn2.corp"
    assert model_cpu not in seen["reading"]  # the keyword side, beside the model
    assert seen["after the vector"] == os.sched_getaffinity(0)  # the model is done: every CPU again
    assert seen["after"] == os.sched_getaffinity(0)  # the worker thread has every CPU back
