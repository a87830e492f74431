"""Keep a helper thread off the CPU a model call runs on, while it works beside it (Linux; elsewhere a no-op).

A lone query's reader starts when the model's thread wakes it (memory_core/_raw_query.py). Linux places a
woken thread on the CPU of the thread that woke it when it judges the caches warm there, so the reader
often began on the model's CPU: the two shared one core until the balancer moved one of them, and the
model call paid for it. Measured on 2 cores, 10k memories, caches emptied between queries (a 240 MB read
and another encode), p50 over 200 questions x 2 rounds, two runs each way in turn: the ONNX call
7.3-7.5 against 6.5 ms, the whole query 11.8-12.5 against 10.4-10.5 ms once the reader leaves the
model's CPU.

Only the reader's own affinity changes, for the block, and it is restored after; the model's thread is
never pinned. With one allowed CPU, an unknown CPU, or no affinity calls (not Linux), nothing changes.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

__all__ = ["away_from", "current_cpu"]


def _sched_getcpu() -> Any:
    try:
        function = ctypes.CDLL(None).sched_getcpu
    except (OSError, AttributeError):  # no C library symbols to load, or no sched_getcpu (not glibc/musl)
        return None
    function.restype = ctypes.c_int
    function.argtypes = []
    return function


_GETCPU = _sched_getcpu()


def current_cpu() -> int | None:
    """The CPU the calling thread runs on now, or None where that cannot be asked."""
    if _GETCPU is None:
        return None
    cpu = int(_GETCPU())
    return cpu if cpu >= 0 else None


@contextmanager
def away_from(cpu: int | None) -> Iterator[None]:
    """Run the block with the calling thread allowed on every CPU it was allowed on but `cpu`."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        yield
        return
    allowed = os.sched_getaffinity(0)  # 0: the calling thread
    rest = allowed - {cpu}
    if not rest or rest == allowed:
        yield
        return
    try:
        os.sched_setaffinity(0, rest)
    except OSError:  # a cpuset that changed meanwhile: run as before
        yield
        return
    try:
        yield
    finally:
        with suppress(OSError):
            os.sched_setaffinity(0, allowed)
