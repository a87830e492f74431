"""The leader lease under a controlled clock: one holder at a time, renewal, expiry, release."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from memory_core import ConfigurationError
from scheduler import SchedulerStore, sync_database_url
from scheduler.lease import Lease

pytestmark = pytest.mark.anyio

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=60)


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SchedulerStore, SchedulerStore]]:
    """Two stores (two engines, as two processes would have) over one SQLite file."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'teamlore.db'}"
    a, b = SchedulerStore.for_async_url(url), SchedulerStore.for_async_url(url)
    await a.create()
    await b.create()
    yield a, b
    await a.dispose()
    await b.dispose()


async def test_one_holder_at_a_time_until_the_lease_expires(
    stores: tuple[SchedulerStore, SchedulerStore],
) -> None:
    a, b = Lease(stores[0], TTL, holder="a"), Lease(stores[1], TTL, holder="b")
    assert await a.acquire(T)
    assert not await b.acquire(T)
    assert not await b.acquire(T + timedelta(seconds=59))
    assert await a.held(T + timedelta(seconds=59)) and not await b.held(T)
    # a stopped renewing (hung, crashed): after the TTL, b takes over, and a cannot renew any more.
    assert await b.acquire(T + timedelta(seconds=61))
    assert not await a.acquire(T + timedelta(seconds=62))
    assert not await a.held(T + timedelta(seconds=62)) and await b.held(T + timedelta(seconds=62))


async def test_renewal_keeps_the_lease(stores: tuple[SchedulerStore, SchedulerStore]) -> None:
    a, b = Lease(stores[0], TTL, holder="a"), Lease(stores[1], TTL, holder="b")
    assert await a.acquire(T)
    for n in range(1, 6):
        assert await a.acquire(T + n * timedelta(seconds=20))  # renewed every third of the TTL
        assert not await b.acquire(T + n * timedelta(seconds=20) + timedelta(seconds=1))
    assert await stores[1].lease_holder("scheduler", T + timedelta(seconds=101)) == "a"


async def test_release_hands_over_at_once(stores: tuple[SchedulerStore, SchedulerStore]) -> None:
    a, b = Lease(stores[0], TTL, holder="a"), Lease(stores[1], TTL, holder="b")
    assert await a.acquire(T)
    await b.release()  # not b's to release: nothing happens
    assert not await b.acquire(T)
    await a.release()
    assert await b.acquire(T)
    assert await stores[0].lease_holder("scheduler", T) == "b"


async def test_renew_every_is_a_third_of_the_ttl(stores: tuple[SchedulerStore, SchedulerStore]) -> None:
    assert Lease(stores[0], TTL).renew_every == 20.0
    assert Lease(stores[0], TTL).holder != Lease(stores[0], TTL).holder


def test_sync_url_from_the_core_url() -> None:
    assert sync_database_url("sqlite+aiosqlite:////data/teamlore.db") == "sqlite:////data/teamlore.db"
    assert (
        sync_database_url("postgresql+asyncpg://u:p%40ss@db:5432/lore?ssl=require")
        == "postgresql+psycopg://u:p%40ss@db:5432/lore?sslmode=require"
    )
    assert sync_database_url("postgresql://u@db/lore") == "postgresql+psycopg://u@db/lore"
    with pytest.raises(ConfigurationError, match="in-memory"):
        sync_database_url("sqlite+aiosqlite://")
    with pytest.raises(ConfigurationError, match="SQLite and PostgreSQL"):
        sync_database_url("mysql+aiomysql://u@db/lore")
