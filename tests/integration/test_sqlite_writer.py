"""The embedded default's one writer per process (`adapters/storage/sqlite.py`) beside another
process on the same file: `tokowa jobs`, the CLI, or a second `serve --workers` process.

Another process holding SQLite's write lock makes a unit of work wait for it without stopping
this process's event loop (other requests are served meanwhile), and then it writes; one held
for longer than the busy timeout reads as `StorageUnavailable`, not a hang. Nothing here waits
on a clock beyond SQLite's own busy timeout.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timezone

from sqlalchemy.engine import make_url

from adapters.storage import RetryPolicy, SqlStorage
from application.errors import StorageUnavailable
from domain.product import Product

import pytest

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


class NoSleep:
    async def __call__(self, delay: float) -> None:
        return None


def other_process_writer(url: str) -> sqlite3.Connection:
    """A connection like another process's, holding the file's write lock until it commits."""
    connection = sqlite3.connect(make_url(url).database or "", isolation_level=None, check_same_thread=False)
    connection.execute("BEGIN IMMEDIATE")
    return connection


async def test_a_unit_of_work_waits_for_another_process_without_stopping_the_loop(
        sqlite_url: str, secret_key: str) -> None:
    storage = SqlStorage.from_url(sqlite_url, secret_key, sqlite_busy_timeout_ms=30_000)
    blocker = other_process_writer(sqlite_url)
    try:
        async def add() -> None:
            async with storage.uow_factory() as uow:
                await uow.products.add(Product.create("ABC", "Thing", 5000, 3))
                await uow.commit()

        adding = asyncio.create_task(add())
        served = 0
        while served < 20:  # the loop keeps serving others while the unit waits for the lock
            await asyncio.sleep(0.01)
            served += 1
        assert not adding.done()
        blocker.execute("COMMIT")
        await adding
        async with storage.uow_factory() as uow:
            assert (await uow.products.get("ABC")) is not None
    finally:
        blocker.close()
        await storage.aclose()


async def test_a_write_lock_held_past_the_busy_timeout_is_unavailable(sqlite_url: str, secret_key: str) -> None:
    storage = SqlStorage.from_url(sqlite_url, secret_key, sqlite_busy_timeout_ms=50,
                                  retry=RetryPolicy(retries=1, sleep=NoSleep()))
    blocker = other_process_writer(sqlite_url)
    try:
        with pytest.raises(StorageUnavailable):
            async with storage.uow_factory() as uow:
                pytest.fail("a unit of work opened while another process held the write lock")
        blocker.execute("ROLLBACK")
        async with storage.uow_factory() as uow:  # the writer is usable again at once
            await uow.customers.ensure("6281100000001", NOW)
            await uow.commit()
    finally:
        blocker.close()
        await storage.aclose()


async def test_units_of_work_of_one_process_take_turns_on_the_writer(sqlite_url: str, secret_key: str) -> None:
    """Fifty concurrent read-modify-write units on one row: none lost, none refused as busy."""
    storage = SqlStorage.from_url(sqlite_url, secret_key)
    try:
        async with storage.uow_factory() as uow:
            await uow.products.add(Product.create("ABC", "Thing", 5000, 0))
            await uow.commit()

        async def restock() -> None:
            async with storage.uow_factory() as uow:
                product = await uow.products.get("ABC", for_update=True)
                assert product is not None
                await asyncio.sleep(0)  # give the loop away mid-unit: the others must still wait
                product.add_stock(1)
                await uow.products.save(product)
                await uow.commit()

        await asyncio.gather(*(restock() for _ in range(50)))
        async with storage.uow_factory() as uow:
            assert (await uow.products.get("ABC")).stock == 50  # type: ignore[union-attr]
    finally:
        await storage.aclose()


async def test_a_unit_cancelled_while_waiting_for_another_process_leaves_the_writer_usable(
        sqlite_url: str, secret_key: str) -> None:
    """A request given up (shutdown, a client gone) while its unit of work waited for another
    process's lock: the writer comes back once that wait ends, with nothing left open."""
    storage = SqlStorage.from_url(sqlite_url, secret_key, sqlite_busy_timeout_ms=30_000)
    blocker = other_process_writer(sqlite_url)
    try:
        async def add() -> None:
            async with storage.uow_factory() as uow:
                await uow.products.add(Product.create("ABC", "Thing", 5000, 3))
                await uow.commit()

        adding = asyncio.create_task(add())
        for _ in range(5):
            await asyncio.sleep(0.01)
        adding.cancel()
        with pytest.raises(asyncio.CancelledError):
            await adding
        blocker.execute("COMMIT")
        async with storage.uow_factory() as uow:
            assert await uow.products.get("ABC") is None  # the cancelled unit wrote nothing
            await uow.products.add(Product.create("XYZ", "Other", 5000, 3))
            await uow.commit()
        async with storage.uow_factory() as uow:
            assert await uow.products.get("XYZ") is not None
    finally:
        blocker.close()
        await storage.aclose()
