"""The PostgreSQL connection pool (`Connections`), on stand-in connections: reuse, the size
limit, waiting in turn, dead connections, give-ups and closing. (The storage contract suite and
tests/integration/test_storage_failures.py run it on a real server.)"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from adapters.storage.postgres import Connections


class FakeConnection:
    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False
        self.in_transaction = False

    def is_closed(self) -> bool:
        return self.closed

    def is_in_transaction(self) -> bool:
        return self.in_transaction

    def terminate(self) -> None:
        self.closed = True

    async def close(self, timeout: float | None = None) -> None:
        self.closed = True


class Server:
    def __init__(self) -> None:
        self.opened: list[FakeConnection] = []
        self.refuse = False
        self.hang = False

    async def connect(self) -> Any:
        if self.refuse:
            raise ConnectionRefusedError("refused")
        if self.hang:
            await asyncio.sleep(3600)
        self.opened.append(FakeConnection(len(self.opened) + 1))
        return self.opened[-1]


async def test_a_connection_given_back_is_reused_the_last_one_first() -> None:
    server = Server()
    pool = Connections(server.connect, 3)
    first, second = await pool.acquire(1), await pool.acquire(1)
    pool.release(first)
    pool.release(second)
    assert await pool.acquire(1) is second and await pool.acquire(1) is first
    assert len(server.opened) == 2 and (pool.size, pool.idle) == (2, 0)


async def test_no_more_than_max_size_are_open_and_a_caller_waits_until_the_deadline() -> None:
    server = Server()
    pool = Connections(server.connect, 2)
    held = [await pool.acquire(1), await pool.acquire(1)]
    with pytest.raises(TimeoutError):
        await pool.acquire(0.01)
    assert len(server.opened) == 2
    pool.release(held[0])
    assert await pool.acquire(0.01) is held[0]


async def test_waiters_are_served_in_turn_and_a_given_back_connection_goes_to_the_first() -> None:
    pool = Connections(Server().connect, 1)
    held = await pool.acquire(1)
    order: list[int] = []

    async def wait(number: int) -> None:
        connection = await pool.acquire(5)
        order.append(number)
        await asyncio.sleep(0)
        pool.release(connection)

    waiting = [asyncio.create_task(wait(n)) for n in range(3)]
    await asyncio.sleep(0)
    pool.release(held)
    await asyncio.gather(*waiting)
    assert order == [0, 1, 2] and (pool.size, pool.idle) == (1, 1)


async def test_a_closed_connection_is_dropped_and_its_place_lets_a_waiter_open_a_new_one() -> None:
    server = Server()
    pool = Connections(server.connect, 1)
    held = await pool.acquire(1)
    waiter = asyncio.create_task(pool.acquire(5))
    await asyncio.sleep(0)
    held.terminate()
    pool.release(held)
    fresh = await waiter
    assert fresh is not held and not fresh.is_closed() and pool.size == 1


async def test_a_connection_given_back_inside_a_transaction_is_closed_not_reused() -> None:
    server = Server()
    pool = Connections(server.connect, 1)
    held = await pool.acquire(1)
    held.in_transaction = True  # its COMMIT was cancelled before the server answered
    pool.release(held)
    assert held.is_closed() and pool.size == 0
    assert await pool.acquire(1) is server.opened[1]


async def test_an_idle_connection_the_server_closed_is_skipped() -> None:
    server = Server()
    pool = Connections(server.connect, 2)
    first = await pool.acquire(1)
    pool.release(first)
    first.closed = True  # the server ended it while idle
    second = await pool.acquire(1)
    assert second is not first and (pool.size, pool.idle) == (1, 0)


async def test_a_failed_open_frees_its_place() -> None:
    server = Server()
    pool = Connections(server.connect, 1)
    server.refuse = True
    with pytest.raises(ConnectionRefusedError):
        await pool.acquire(1)
    assert pool.size == 0
    server.refuse = False
    assert await pool.acquire(1) is server.opened[0]


async def test_an_open_that_hangs_ends_at_the_deadline_and_frees_its_place() -> None:
    server = Server()
    pool = Connections(server.connect, 1)
    server.hang = True
    with pytest.raises(TimeoutError):
        await pool.acquire(0.01)
    assert pool.size == 0


async def test_a_waiter_that_gives_up_as_it_is_handed_a_connection_passes_it_on() -> None:
    pool = Connections(Server().connect, 1)
    held = await pool.acquire(1)
    quitter = asyncio.create_task(pool.acquire(5))
    patient = asyncio.create_task(pool.acquire(5))
    await asyncio.sleep(0)
    pool.release(held)  # handed to `quitter`, which is cancelled before it runs
    quitter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await quitter
    assert await patient is held


async def test_closing_closes_the_idle_ones_at_once_and_the_others_when_they_come_back() -> None:
    pool = Connections(Server().connect, 3)
    idle, busy = await pool.acquire(1), await pool.acquire(1)
    pool.release(idle)
    waiter_pool = Connections(Server().connect, 1)
    await waiter_pool.acquire(1)
    waiter = asyncio.create_task(waiter_pool.acquire(5))
    await asyncio.sleep(0)
    await asyncio.gather(pool.aclose(), waiter_pool.aclose())
    assert idle.is_closed() and not busy.is_closed()
    pool.release(busy)
    assert busy.is_closed() and pool.size == 0
    with pytest.raises(asyncpg.InterfaceError):
        await waiter
    with pytest.raises(asyncpg.InterfaceError):
        await pool.acquire(1)



async def test_connections_opened_for_a_burst_are_closed_once_a_while_passes_without_them() -> None:
    server = Server()
    pool = Connections(server.connect, 4, keep=2, trim_every=0.05)
    burst = [await pool.acquire(1) for _ in range(4)]  # two beyond the size: the overflow
    for connection in burst:
        pool.release(connection)
    assert (pool.size, pool.idle) == (4, 4)  # right after the burst all stay: load may come back
    for _ in range(3):  # one at a time for a while: only the last one given back is needed
        connection = await pool.acquire(1)
        pool.release(connection)
        await asyncio.sleep(0.04)
    await asyncio.sleep(0.1)
    assert (pool.size, pool.idle) == (2, 2)
    assert sorted(c.closed for c in burst) == [False, False, True, True]
    assert len(server.opened) == 4 and not burst[3].closed  # the one in use kept


async def test_a_busy_pool_keeps_its_overflow() -> None:
    server = Server()
    pool = Connections(server.connect, 4, keep=2, trim_every=0.03)
    held = [await pool.acquire(1) for _ in range(4)]
    for _ in range(4):  # every connection in use at some point of every period
        for connection in held:
            pool.release(connection)
        held = [await pool.acquire(1) for _ in range(4)]
        await asyncio.sleep(0.02)
    assert pool.size == 4 and len(server.opened) == 4 and not any(c.closed for c in held)
