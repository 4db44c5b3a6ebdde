"""The adapters' shared Redis connection (adapters/coordination/pipe.py), on the real Redis.

The commands of concurrent messages go out together; a caller that gives up never shifts the
replies of the others; a connection Redis drops fails what was pending on it and the next call
gets a new one; a script Redis does not know (restart, SCRIPT FLUSH) still runs.
A BLPOP on a key nobody pushes to holds the connection's replies back for as long as a test
needs, so nothing here depends on timing.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError

from adapters.coordination import Coordination, build_coordination
from adapters.coordination.health import RedisUnavailable
from adapters.coordination.pipe import PipedScript, RedisPipe

HANG_GUARD_SECONDS = 20  # only so a broken pipe fails the test instead of hanging it


@pytest.fixture
async def coordination(redis_url: str, redis_prefix: str) -> AsyncIterator[Coordination]:
    built = build_coordination(redis_url, redis_prefix, timeout=2.0)
    yield built
    await built.aclose()


def pipe_of(coordination: Coordination) -> RedisPipe:
    assert coordination.pipe is not None
    return coordination.pipe


async def until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.001)
    await asyncio.wait_for(poll(), HANG_GUARD_SECONDS)


@pytest.fixture
def writes_to_redis(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every write of commands to a Redis socket by redis-py's connections: the commands in it."""
    writes: list[int] = []
    send = Connection.send_packed_command

    async def counted(self: Connection, command: Any, check_health: bool = True) -> None:
        chunks = [command] if isinstance(command, (bytes, str)) else list(command)
        writes.append(sum(bytes(chunk).count(b"\r\n*") for chunk in chunks) + 1)  # every command starts with *
        await send(self, chunks, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counted)
    return writes


async def test_the_commands_of_concurrent_callers_go_out_in_one_write(
    coordination: Coordination, redis_client: Redis, redis_prefix: str, writes_to_redis: list[int],
) -> None:
    for n in range(50):
        await redis_client.set(f"{redis_prefix}produk:{n}", f"value {n}")
    await coordination.cache.get("produk:0")  # connected (the handshake is written apart)
    writes_to_redis.clear()

    reads = await asyncio.wait_for(
        asyncio.gather(*(coordination.cache.get(f"produk:{n}") for n in range(50))), HANG_GUARD_SECONDS)

    assert reads == [f"value {n}" for n in range(50)]
    assert writes_to_redis == [50]


async def test_a_caller_that_gave_up_leaves_the_next_callers_reply_its_own(
    redis_url: str, redis_client: Redis, redis_prefix: str,
) -> None:
    coordination = build_coordination(redis_url, redis_prefix, timeout=0.2)
    pipe, health = pipe_of(coordination), coordination.health
    assert health is not None
    held = f"{redis_prefix}held"
    try:
        await coordination.cache.set("produk:list", "list", 300)
        # Its reply comes only once something is pushed: the deadline gives up on it first.
        with pytest.raises(RedisUnavailable):
            await health.call("blpop", lambda: pipe.call("BLPOP", held, 0))
        later = asyncio.ensure_future(coordination.cache.get("produk:list"))  # queued behind it
        await until(lambda: pipe.writes >= 3)
        await redis_client.rpush(held, "late")  # the given-up BLPOP's reply, then the GET's

        assert await asyncio.wait_for(later, HANG_GUARD_SECONDS) == "list"
        assert await coordination.cache.get("produk:list") == "list"
        assert coordination.stats.redis_errors == 1
        assert coordination.stats.breaker_open is False
    finally:
        await coordination.aclose()


async def test_a_killed_connection_fails_what_was_pending_and_the_next_call_reconnects(
    coordination: Coordination, redis_client: Redis, redis_prefix: str,
) -> None:
    pipe = pipe_of(coordination)
    await coordination.cache.set("produk:list", "list", 300)
    connection_id = await pipe.call("CLIENT", "ID")
    pending = [asyncio.ensure_future(pipe.call("BLPOP", f"{redis_prefix}held", 0)),
               asyncio.ensure_future(coordination.cache.get("produk:list"))]
    await until(lambda: pipe.writes >= 3)

    assert await redis_client.client_kill_filter(_id=str(connection_id)) == 1

    blocked, read = await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), HANG_GUARD_SECONDS)
    assert isinstance(blocked, RedisConnectionError)
    assert read is None  # failed open: a miss
    assert await coordination.cache.get("produk:list") == "list"
    assert await pipe.call("CLIENT", "ID") != connection_id
    assert coordination.stats.redis_errors == 1


async def test_a_script_redis_does_not_know_is_run_and_known_from_then_on(
    coordination: Coordination, redis_prefix: str,
) -> None:
    pipe = pipe_of(coordination)
    sent: list[str] = []
    call: Callable[..., Awaitable[Any]] = pipe.call

    def recording(*args: Any) -> Awaitable[Any]:
        sent.append(str(args[0]))
        return call(*args)

    pipe.call = recording  # type: ignore[method-assign]
    # A body no one has loaded (as after a restart or SCRIPT FLUSH, without flushing the shared Redis).
    script = PipedScript(f"-- {secrets.token_hex(8)}\nreturn redis.call('INCR', KEYS[1])")
    key = f"{redis_prefix}counter"

    assert await script(pipe, [key]) == 1
    assert sent == ["EVALSHA", "EVAL"]
    assert await script(pipe, [key]) == 2
    assert sent == ["EVALSHA", "EVAL", "EVALSHA"]


async def test_the_gatekeeper_works_when_its_script_is_unknown(coordination: Coordination) -> None:
    gatekeeper: Any = coordination.gatekeeper
    gatekeeper._script.sha = "0" * 40  # never loaded: every EVALSHA answers NOSCRIPT

    admitted = await coordination.gatekeeper.admit(rate_key="ratelimit:62811:buy", limit=3, window_seconds=60,
                                                   lock_key="lock:buy:62811", lock_ttl_ms=30_000, peek=None)

    assert admitted.lock is not None and not admitted.lock.token.startswith("failed-open:")
    assert coordination.stats.redis_errors == 0
    assert await coordination.gatekeeper.finish(admitted.lock) is True


async def test_a_closed_pipe_refuses_calls_and_the_adapters_fail_open(coordination: Coordination) -> None:
    await coordination.cache.set("produk:list", "list", 300)
    await coordination.aclose()

    assert await coordination.cache.get("produk:list") is None
    assert coordination.stats.redis_errors == 1
