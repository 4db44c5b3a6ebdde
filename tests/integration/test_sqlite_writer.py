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


class LoopTurns:
    """Counts the event loop's turns: a callback that schedules itself runs once per turn."""

    def __init__(self) -> None:
        self.count = 0
        self._stopped = False
        asyncio.get_running_loop().call_soon(self._tick)

    def _tick(self) -> None:
        if not self._stopped:
            self.count += 1
            asyncio.get_running_loop().call_soon(self._tick)

    def stop(self) -> None:
        self._stopped = True


async def test_multi_statement_units_begin_one_per_loop_turn_and_single_statement_ones_never_wait(
        sqlite_url: str, secret_key: str) -> None:
    """Purchases and the like (units of several statements) started in one turn of the loop
    begin in turns of their own, in order; a message's acceptance (a single-statement unit)
    started after them is not queued behind them: it begins in its own task's first step."""
    storage = SqlStorage.from_url(sqlite_url, secret_key)
    began: list[tuple[str, int]] = []
    try:
        turns = LoopTurns()

        async def unit(name: str, single: bool) -> None:
            async with (storage.single_statement_uow if single else storage.uow_factory)() as uow:
                began.append((name, turns.count))
                await uow.customers.ensure(f"62811000000{len(name):02d}", NOW)
                await uow.commit()

        tasks = [asyncio.create_task(unit(f"purchase{i}", single=False)) for i in range(4)]
        tasks.append(asyncio.create_task(unit("accept", single=True)))
        await asyncio.gather(*tasks)
        turns.stop()
        order = [name for name, _ in began]
        assert order == ["purchase0", "accept", "purchase1", "purchase2", "purchase3"]
        purchase_turns = [turn for name, turn in began if name.startswith("purchase")]
        assert len(set(purchase_turns)) == 4  # never two in one turn
        assert dict(began)["accept"] == dict(began)["purchase0"]  # the same turn as the first: no wait
    finally:
        await storage.aclose()


async def test_a_unit_given_up_while_waiting_for_its_turn_does_not_stop_the_ones_after_it(
        sqlite_url: str, secret_key: str) -> None:
    storage = SqlStorage.from_url(sqlite_url, secret_key)
    began: list[str] = []
    try:
        async def unit(name: str) -> None:
            async with storage.uow_factory() as uow:
                began.append(name)
                await uow.commit()

        first, waiting, last = (asyncio.create_task(unit(name)) for name in ("first", "waiting", "last"))
        await asyncio.sleep(0)  # all three have started: `first` began, the other two wait for turns
        waiting.cancel()
        await asyncio.gather(first, last)
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert began == ["first", "last"]
        async with storage.uow_factory() as uow:  # and the writer is free
            await uow.commit()
    finally:
        await storage.aclose()
