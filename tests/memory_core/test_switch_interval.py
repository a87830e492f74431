"""The core lowers Python's thread switch interval (a model call's hand-back of the lock), never raises it."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from memory_core import MemoryCore
from memory_core.testing import HashingEmbedder
from tests.conftest import SettingsFactory

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def python_default() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield
    sys.setswitchinterval(before)


async def test_opening_a_core_lowers_the_interval_to_the_setting(make_settings: SettingsFactory) -> None:
    async with await MemoryCore.open(make_settings(), embedder=HashingEmbedder()):
        assert sys.getswitchinterval() == pytest.approx(0.0005)  # the default, 0.5 ms


async def test_an_interval_already_shorter_stays_and_zero_leaves_it(make_settings: SettingsFactory) -> None:
    sys.setswitchinterval(0.0001)
    async with await MemoryCore.open(make_settings(switch_interval_ms=2), embedder=HashingEmbedder()):
        assert sys.getswitchinterval() == pytest.approx(0.0001)
    sys.setswitchinterval(0.005)
    async with await MemoryCore.open(make_settings(switch_interval_ms=0), embedder=HashingEmbedder()):
        assert sys.getswitchinterval() == pytest.approx(0.005)
