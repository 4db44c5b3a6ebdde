"""Redis failing: every coordination port fails open, the breaker stops calling a dead
Redis, and everything recovers by itself once Redis is back.

The breaker's cool-down runs on an injected clock, so nothing here waits for it; assertions
are about outcomes, counters and breaker state, never about elapsed time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import Connection

from adapters.coordination import Coordination, build_coordination
from application.ports import RateDecision

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"
ALLOWED = RateDecision(allowed=True, warn=False)
HANG_GUARD_SECONDS = 20  # only so a broken timeout fails the test instead of hanging it


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class TcpProxy:
    """Forwards a local port to Redis; stopping it drops every connection like a dead Redis."""

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._writers.clear()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        redis_r, redis_w = await asyncio.open_connection(REDIS_HOST, REDIS_PORT)
        self._writers.update((client_w, redis_w))
        await asyncio.gather(self._pipe(client_r, redis_w), self._pipe(redis_r, client_w))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


class SilentServer:
    """Accepts connections and never answers: a hung Redis."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._swallow, "127.0.0.1", 0)
        return f"redis://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/0"

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    async def _swallow(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        while await reader.read(65536):
            pass


def count_redis_commands(coordination: Coordination) -> list[str]:
    """Record every command the adapters send (or try to send) through their connection."""
    assert coordination.pipe is not None
    sent: list[str] = []
    original: Callable[..., Awaitable[Any]] = coordination.pipe.call

    def recording(*args: Any) -> Awaitable[Any]:
        sent.append(str(args[0]))
        return original(*args)

    coordination.pipe.call = recording  # type: ignore[method-assign]
    return sent


async def use_every_port(coordination: Coordination) -> tuple[object, ...]:
    """One call of each kind, as a message handler would make them."""
    lock = await coordination.locks.acquire("lock:buy:62811", 30_000)
    assert lock is not None
    await coordination.cache.set("produk:list", "list", 300)
    await coordination.cache.delete("produk:list")
    gate = await coordination.gatekeeper.admit(rate_key="ratelimit:62811:menu", limit=3, window_seconds=60,
                                               lock_key="lock:deposit:62811", lock_ttl_ms=30_000,
                                               peek="user:profile:62811")
    assert gate.lock is not None
    return (
        await coordination.cache.get("produk:list"),
        await coordination.rate_limiter.hit("ratelimit:62811:buy", 3, 60),
        await coordination.locks.release(lock),
        (gate.rate, gate.peeked, await coordination.locks.release(gate.lock)),
    )


# Failing open: a miss, allowed, a lock (released), and the gatekeeper's allowed + lock + miss.
FAILED_OPEN = (None, ALLOWED, True, (ALLOWED, None, True))




async def guarded(scenario: Callable[[], Awaitable[None]]) -> None:
    await asyncio.wait_for(scenario(), HANG_GUARD_SECONDS)


async def test_a_closed_port_fails_open_and_after_the_breaker_opens_is_never_called() -> None:
    clock = FakeClock()
    coordination = build_coordination(CLOSED_PORT_URL, "tokowa-test:", clock=clock)
    sent = count_redis_commands(coordination)
    try:
        assert await use_every_port(coordination) == FAILED_OPEN
        assert coordination.stats.redis_errors == 3
        assert coordination.stats.breaker_open is True
        attempts = len(sent)

        for _ in range(100):
            assert await use_every_port(coordination) == FAILED_OPEN

        assert coordination.stats.redis_errors == 3
        assert len(sent) == attempts
        assert coordination.stats.breaker_open is True
        assert coordination.stats.lock_failed_open == 2 * 101
        assert coordination.stats.rate_limited == 0
        assert await coordination.ready() is False
    finally:
        await coordination.aclose()


async def test_a_failed_trial_after_the_cool_down_opens_the_breaker_again() -> None:
    clock = FakeClock()
    coordination = build_coordination(CLOSED_PORT_URL, "", clock=clock)
    stats = coordination.stats
    try:
        for _ in range(3):
            assert await coordination.cache.get("settings") is None
        assert (stats.redis_errors, stats.breaker_open) == (3, True)

        clock.t += 4.9
        assert await coordination.cache.get("settings") is None
        assert stats.redis_errors == 3

        clock.t += 0.2
        assert await coordination.cache.get("settings") is None  # the one trial call
        assert await coordination.cache.get("settings") is None
        assert (stats.redis_errors, stats.breaker_open) == (4, True)
    finally:
        await coordination.aclose()


async def test_a_hung_redis_times_out_fails_open_and_lets_one_trial_through() -> None:
    server = SilentServer()
    url = await server.start()
    clock = FakeClock()
    coordination = build_coordination(url, "", clock=clock)  # the default 0.1 s timeout
    stats = coordination.stats

    async def scenario() -> None:
        assert await use_every_port(coordination) == FAILED_OPEN
        assert (stats.redis_errors, stats.breaker_open) == (3, True)

        clock.t += 5
        reads = await asyncio.gather(*(coordination.cache.get("settings") for _ in range(10)))
        assert reads == [None] * 10
        assert (stats.redis_errors, stats.breaker_open) == (4, True)

    try:
        await guarded(scenario)
    finally:
        await coordination.aclose()
        await server.stop()


async def test_redis_dropping_mid_run_fails_open_then_recovers_after_the_cool_down(
    redis_prefix: str,
) -> None:
    proxy = TcpProxy()
    await proxy.start()
    clock = FakeClock()
    coordination = build_coordination(
        f"redis://127.0.0.1:{proxy.port}/0", redis_prefix, timeout=1.0, clock=clock
    )
    cache, locks, stats = coordination.cache, coordination.locks, coordination.stats

    async def scenario() -> None:
        await cache.set("produk:list", "list", 300)
        held = await locks.acquire("lock:buy:62811", 30_000)
        assert held is not None and await locks.acquire("lock:buy:62811", 30_000) is None

        await proxy.stop()
        assert await cache.get("produk:list") is None
        assert await coordination.rate_limiter.hit("ratelimit:62811:buy", 0, 60) == ALLOWED
        granted_while_down = await locks.acquire("lock:buy:62811", 30_000)
        assert granted_while_down is not None
        assert stats.breaker_open is True
        errors_during_outage = stats.redis_errors

        await proxy.start()
        clock.t += 1
        assert await cache.get("produk:list") is None  # still cooling down: Redis skipped
        assert stats.redis_errors == errors_during_outage

        clock.t += 5
        assert await cache.get("produk:list") == "list"
        assert stats.breaker_open is False
        assert await locks.acquire("lock:buy:62811", 30_000) is None  # still held in Redis
        assert await locks.release(granted_while_down) is True
        assert await locks.acquire("lock:buy:62811", 30_000) is None  # ...and not freed by it
        assert await locks.release(held) is True
        assert await coordination.ready() is True
        assert stats.redis_errors == errors_during_outage

    try:
        await guarded(scenario)
    finally:
        await coordination.aclose()
        await proxy.stop()


async def test_a_killed_connection_costs_at_most_one_fail_open(
    redis_client: Redis, redis_prefix: str
) -> None:
    coordination = build_coordination(
        f"redis://{REDIS_HOST}:{REDIS_PORT}/0", redis_prefix, timeout=1.0
    )
    assert coordination.pipe is not None
    try:
        await coordination.cache.set("produk:list", "list", 300)
        connection_id = await coordination.pipe.call("CLIENT", "ID")  # the adapters' connection
        assert await redis_client.client_kill_filter(_id=str(connection_id)) == 1

        reads = [await coordination.cache.get("produk:list") for _ in range(2)]

        assert reads[-1] == "list"
        assert coordination.stats.redis_errors <= 1
        assert coordination.stats.breaker_open is False
    finally:
        await coordination.aclose()


async def test_with_redis_down_a_conversation_lives_in_this_process() -> None:
    coordination = build_coordination(CLOSED_PORT_URL, "tokowa-test:", clock=FakeClock())
    try:
        sessions = coordination.sessions
        await guarded(lambda: sessions.save("6281200000002", '{"picks": [".produk NF1"]}', 600))
        assert await sessions.load("6281200000002", 600) == '{"picks": [".produk NF1"]}'
        await sessions.drop("6281200000002")
        assert await sessions.load("6281200000002", 600) is None
    finally:
        await coordination.aclose()


async def test_the_gatekeepers_finish_fails_open_and_still_tries_to_forget_with_a_failed_open_lock() -> None:
    clock = FakeClock()
    coordination = build_coordination(CLOSED_PORT_URL, "", clock=clock)
    sent = count_redis_commands(coordination)
    gate = coordination.gatekeeper
    try:
        admitted = await gate.admit(rate_key=None, limit=3, window_seconds=60, lock_key="lock:buy:62811",
                                    lock_ttl_ms=30_000, peek=None)
        assert admitted.lock is not None  # failed open: a lock nobody else can see
        tried = len(sent)
        assert await gate.finish(admitted.lock) is True  # nothing in Redis to release: no call
        assert len(sent) == tried
        # Caches to forget are still tried (Redis may be back); a failure is swallowed.
        assert await gate.finish(admitted.lock, ["user:balance:62811"]) is True
        assert len(sent) > tried and coordination.stats.redis_errors == 2
    finally:
        await coordination.aclose()


@pytest.fixture
def hold_the_loop_after_each_send(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Once called, every Redis command sent holds the event loop for three times the 0.1 s
    timeout (as a burst of other messages' Python would) before anything may read its reply."""
    send = Connection.send_packed_command

    async def send_then_hold(self: Connection, *args: Any, **kwargs: Any) -> None:
        await send(self, *args, **kwargs)
        time.sleep(0.3)  # a local Redis answers meanwhile; the reply waits unread in the socket

    return lambda: monkeypatch.setattr(Connection, "send_packed_command", send_then_hold)


async def test_a_busy_event_loop_is_not_a_slow_redis(
    redis_prefix: str, hold_the_loop_after_each_send: Callable[[], None],
) -> None:
    coordination = build_coordination(f"redis://{REDIS_HOST}:{REDIS_PORT}/0", redis_prefix)  # 0.1 s
    stats = coordination.stats

    async def scenario() -> None:
        await coordination.cache.set("produk:list", "list", 300)  # connected
        hold_the_loop_after_each_send()
        for _ in range(3):
            assert await coordination.cache.get("produk:list") == "list"
        assert (stats.redis_errors, stats.breaker_open) == (0, False)

    try:
        await guarded(scenario)
    finally:
        await coordination.aclose()


async def test_a_hung_redis_still_fails_open_when_the_event_loop_is_busy(
    hold_the_loop_after_each_send: Callable[[], None],
) -> None:
    hold_the_loop_after_each_send()
    server = SilentServer()
    url = await server.start()
    coordination = build_coordination(url, "", clock=FakeClock())
    stats = coordination.stats

    async def scenario() -> None:
        for _ in range(3):
            assert await coordination.cache.get("settings") is None
        assert (stats.redis_errors, stats.breaker_open) == (3, True)

    try:
        await guarded(scenario)
    finally:
        await coordination.aclose()
        await server.stop()


async def test_a_loop_busy_before_the_command_is_written_is_not_a_slow_redis(redis_prefix: str) -> None:
    coordination = build_coordination(f"redis://{REDIS_HOST}:{REDIS_PORT}/0", redis_prefix)  # 0.1 s
    stats = coordination.stats

    async def other_messages() -> None:
        time.sleep(0.3)  # runs after the read below was queued, before its write goes out

    async def scenario() -> None:
        await coordination.cache.set("produk:list", "list", 300)  # connected
        for _ in range(3):
            read, _ = await asyncio.gather(coordination.cache.get("produk:list"), other_messages())
            assert read == "list"
        assert (stats.redis_errors, stats.breaker_open) == (0, False)

    try:
        await guarded(scenario)
    finally:
        await coordination.aclose()


async def test_a_lock_whose_release_never_reached_redis_does_not_keep_its_customer_waiting(
    redis_client: Redis, redis_prefix: str,
) -> None:
    # Redis drops out between a command's admit and its finish: the lock stays in Redis for its
    # 30 s TTL. The customer's next message (here) must not be told "busy" by it.
    proxy = TcpProxy()
    await proxy.start()
    coordination = build_coordination(f"redis://127.0.0.1:{proxy.port}/0", redis_prefix, timeout=1.0,
                                      clock=FakeClock())
    gate = coordination.gatekeeper

    async def admit(user: str) -> Any:
        return await gate.admit(rate_key=None, limit=3, window_seconds=60, lock_key=f"lock:buy:{user}",
                                lock_ttl_ms=30_000, peek=None)

    async def scenario() -> None:
        first = await admit("62811")
        other = await admit("62822")  # another customer's lock, held while Redis drops out
        assert first.lock is not None and other.lock is not None
        await proxy.stop()
        assert await gate.finish(first.lock) is False  # not released: still in Redis
        await proxy.start()
        assert await redis_client.get(f"{redis_prefix}lock:buy:62811") == first.lock.token

        again = await admit("62811")
        assert again.lock is not None and again.lock.token != first.lock.token
        assert (await admit("62822")).lock is None  # a lock still held stays held
        assert await gate.finish(again.lock) is True and await gate.finish(other.lock) is True

    try:
        await guarded(scenario)
    finally:
        await coordination.aclose()
        await proxy.stop()
