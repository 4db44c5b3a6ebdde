"""Builds the coordination adapters for the composition root: Redis or in-process."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from adapters.coordination.health import RedisHealth, RedisUnavailable
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

    async def ready(self) -> bool | None:
        """None without Redis; else whether a PING answers (False while the breaker is open)."""
        if self.client is None or self.health is None:
            return None
        client = self.client
        try:
            return bool(await self.health.call("ping", lambda: client.ping()))
        except RedisUnavailable:
            return False

    async def aclose(self) -> None:
        """Close the Redis connections, if any."""
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
    # command. A command that deadline cancels mid-read closes its connection (redis-py does on
    # any interruption), so no reply is ever left unread for the next command on it.
    client = Redis.from_url(
        redis_url,
        decode_responses=True,
        socket_timeout=None,
        socket_connect_timeout=None,
        retry=Retry(NoBackoff(), 0),
    )
    health = RedisHealth(
        stats,
        timeout=timeout,
        failure_threshold=failure_threshold,
        cooldown_seconds=cooldown_seconds,
        clock=clock,
    )
    return Coordination(
        cache=RedisCache(client, health, prefix),
        locks=RedisLockManager(client, health, prefix),
        rate_limiter=RedisRateLimiter(client, health, prefix),
        gatekeeper=RedisGatekeeper(client, health, prefix),
        stats=stats,
        sessions=RedisSessionStore(client, health, prefix, MemorySessionStore(clock)),
        health=health,
        client=client,
    )
