"""The database failing: refused connections retry with bounded backoff and then read as
`StorageUnavailable`; a connection lost mid-transaction leaves nothing half-written.

Backoff delays are recorded through an injected sleep, so nothing here waits on a clock.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.engine import make_url

from adapters.storage import RetryPolicy, SqlStorage
from application.errors import StorageUnavailable
from domain.money import Rupiah
from domain.product import Product

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
USER = "6281100000001"
CLOSED_PORT_URL = "postgresql+asyncpg://postgres@127.0.0.1:1/x"


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def terminate_idle_transactions(pg_url: str) -> int:
    """Kill, from a second connection, every backend of the test database that sits inside a
    transaction: what a database restart or a network cut does to the unit of work."""
    database = make_url(pg_url).database
    connection = await asyncpg.connect(make_url(pg_url).set(drivername="postgresql").render_as_string(False))
    try:
        killed = await connection.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'",
            database,
        )
        return len(killed)
    finally:
        await connection.close()


async def test_a_closed_port_retries_with_backoff_then_is_unavailable(secret_key: str) -> None:
    sleep = RecordingSleep()
    storage = SqlStorage.from_url(
        CLOSED_PORT_URL, secret_key, connect_timeout=2, retry=RetryPolicy(retries=3, base_delay=0.05, sleep=sleep)
    )
    try:
        with pytest.raises(StorageUnavailable):
            async with storage.uow_factory():
                pytest.fail("a unit of work opened on a closed port")
        assert sleep.delays == [0.05, 0.1, 0.2]
        assert await storage.ping() is False
    finally:
        await storage.aclose()


async def test_backoff_is_bounded(secret_key: str) -> None:
    sleep = RecordingSleep()
    retry = RetryPolicy(retries=6, base_delay=0.1, max_delay=0.5, sleep=sleep)
    storage = SqlStorage.from_url(CLOSED_PORT_URL, secret_key, connect_timeout=2, retry=retry)
    try:
        with pytest.raises(StorageUnavailable):
            async with storage.uow_factory():
                pass
        assert sleep.delays == [0.1, 0.2, 0.4, 0.5, 0.5, 0.5]
    finally:
        await storage.aclose()


async def test_an_unopenable_sqlite_file_is_unavailable(tmp_path: Path, secret_key: str) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    sleep = RecordingSleep()
    storage = SqlStorage.from_url(
        f"sqlite+aiosqlite:///{blocker}/tokowa.db", secret_key, retry=RetryPolicy(retries=2, sleep=sleep)
    )
    try:
        with pytest.raises(StorageUnavailable):
            async with storage.uow_factory():
                pass
        assert len(sleep.delays) == 2
    finally:
        await storage.aclose()


async def test_a_saturated_pool_is_unavailable_instead_of_hanging(pg_url: str, secret_key: str) -> None:
    storage = SqlStorage.from_url(
        pg_url, secret_key, pool_size=1, max_overflow=0, pool_timeout=0.05,
        retry=RetryPolicy(retries=1, sleep=RecordingSleep()),
    )
    try:
        async with storage.uow_factory() as holder:
            await holder.settings.all()
            with pytest.raises(StorageUnavailable):
                async with storage.uow_factory():
                    pass
        async with storage.uow_factory() as uow:
            assert await uow.settings.all() == {}
    finally:
        await storage.aclose()


async def test_a_unit_of_work_open_while_the_storage_closes_gives_its_connection_back_where_it_came_from(
        pg_url: str, secret_key: str) -> None:
    storage = SqlStorage.from_url(pg_url, secret_key)
    async with storage.uow_factory() as uow:
        await uow.settings.all()
        await storage.aclose()
    assert storage.postgres is not None and storage.postgres.usage() == (0, 0)  # no pool opened anew


async def test_a_connection_killed_mid_transaction_writes_nothing(pg_storage: SqlStorage, pg_url: str) -> None:
    with pytest.raises(StorageUnavailable):
        async with pg_storage.uow_factory() as uow:
            await uow.customers.ensure(USER, NOW)
            wallet = await uow.wallets.get(USER, for_update=True)
            wallet.credit(Rupiah(50000), "topup", "INV-1", NOW)
            await uow.wallets.save(wallet)
            assert await terminate_idle_transactions(pg_url) == 1
            await uow.products.add(Product.create("ABC", "Thing", 5000, 3))
            await uow.commit()

    async with pg_storage.uow_factory() as uow:
        assert await uow.customers.get(USER) is None
        assert await uow.wallets.ledger(USER) == []
        assert await uow.products.count() == 0


async def test_a_connection_killed_before_commit_writes_nothing(pg_storage: SqlStorage, pg_url: str) -> None:
    with pytest.raises(StorageUnavailable):
        async with pg_storage.uow_factory() as uow:
            await uow.customers.ensure(USER, NOW)
            await uow.products.add(Product.create("ABC", "Thing", 5000, 3))
            assert await terminate_idle_transactions(pg_url) == 1
            await uow.commit()

    async with pg_storage.uow_factory() as uow:
        assert await uow.customers.get(USER) is None
        assert await uow.products.count() == 0
    assert await pg_storage.ping() is True
