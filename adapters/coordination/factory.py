"""Builds the coordination adapters for the composition root: Redis or in-process."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from adapters.coordination.health import RedisHealth, RedisUnavailable
from adapters.coordination.pipe import RedisPipe
from adapters.coordination.memory import (
    ComposedGatekeeper, MemoryCache, MemoryLockManager, MemoryRateLimiter, MemorySessionStore,
)
from adapters.coordination.redis_store import (
    RedisCache, RedisGatekeeper, RedisLockManager, RedisRateLimiter, RedisSessionStore,
)
from adapters.coordination.stats import CoordinationStats
from application.ports import Cache, Gatekeeper, LockManager, RateLimiter, SessionStore


@dataclass(frozen=True)
class Coordination:
    """The coordination ports (the gatekeeper combining the other three) plus what the app needs to watch and close them."""

    cache: Cache
    locks: LockManager
    rate_limiter: RateLimiter
    gatekeeper: Gatekeeper
    stats: CoordinationStats
    sessions: SessionStore
    health: RedisHealth | None = None
    client: Redis | None = None
    """redis-py's client for anything outside the adapters (its pool connects only when used)."""
    pipe: RedisPipe | None = None
    """The adapters' one shared connection (pipe.py)."""

    async def ready(self) -> bool | None:
        """None without Redis; else whether a PING on the adapters' connection answers (False
        while the breaker is open)."""
        if self.pipe is None or self.health is None:
            return None
        pipe = self.pipe
        try:
            return bool(await self.health.call("ping", lambda: pipe.call("PING")))
        except RedisUnavailable:
            return False

    async def aclose(self) -> None:
        """Close the Redis connections, if any."""
        if self.pipe is not None:
            await self.pipe.aclose()
        if self.client is not None:
            await self.client.aclose()


def build_coordination(
    redis_url: str | None,
    prefix: str = "",
    timeout: float = 0.1,
    stats: CoordinationStats | None = None,
    *,
    failure_threshold: int = 3,
    cooldown_seconds: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
) -> Coordination:
    """In-process adapters when `redis_url` is None, else Redis ones sharing one breaker.

    No connection is made here: the client connects on first use, so a Redis that is down
    at start-up only makes the adapters fail open.
    """
    stats = stats or CoordinationStats()
    if redis_url is None:
        cache, locks, limiter = MemoryCache(stats, clock), MemoryLockManager(stats, clock), MemoryRateLimiter(stats, clock)
        return Coordination(cache=cache, locks=locks, rate_limiter=limiter,
                            gatekeeper=ComposedGatekeeper(limiter, locks, cache), stats=stats,
                            sessions=MemorySessionStore(clock))
    # No retries inside redis-py: the breaker decides, and a retry would double the wait.
    # No socket timeouts inside redis-py either: every command runs under RedisHealth's deadline,
    # which lets the loop read what has arrived before failing a call; redis-py's would not (a
    # busy loop read as a slow Redis), and on Python 3.11 its send timeout costs a task per
    # command. The adapters do not use the client's pool: their commands share one connection
    # made with the client's settings (RedisPipe), where the commands of concurrent messages go
    # out in one write. A command the deadline gives up on stays in that connection's queue and
    # its reply is read and dropped, so no reply is ever taken for the next command's.
    client = Redis.from_url(
        redis_url,
        decode_responses=True,
        socket_timeout=None,
        socket_connect_timeout=None,
        retry=Retry(NoBackoff(), 0),
    )
    pipe = RedisPipe(client.connection_pool.make_connection)
    health = RedisHealth(
        stats,
        timeout=timeout,
        failure_threshold=failure_threshold,
        cooldown_seconds=cooldown_seconds,
        clock=clock,
        on_open=pipe.reset,  # a Redis that stopped answering: its connection is not waited on again
    )
    return Coordination(
        cache=RedisCache(pipe, health, prefix),
        locks=RedisLockManager(pipe, health, prefix),
        rate_limiter=RedisRateLimiter(pipe, health, prefix),
        gatekeeper=RedisGatekeeper(pipe, health, prefix),
        stats=stats,
        sessions=RedisSessionStore(pipe, health, prefix, MemorySessionStore(clock)),
        health=health,
        client=client,
        pipe=pipe,
    )
