"""Cache, locks and rate limits on Redis (redis.asyncio), failing open through RedisHealth.

The application names keys without a prefix (`ratelimit:{user}:{command}`,
`lock:{operation}:{user}`, `produk:list`, ...); each adapter prepends the configured one
(TOKOWA_REDIS_PREFIX) so several shops can share a Redis. Values are never logged.
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

from adapters.coordination.health import RedisHealth, RedisUnavailable
from adapters.coordination.stats import rate_decision
from application.ports import Lock, RateDecision

FAILED_OPEN_TOKEN_PREFIX = "failed-open:"
"""Marks a Lock granted without Redis; real tokens are hex, so they never start with it."""

# INCR and, only when the key is new, EXPIRE: the window is fixed at its first hit.
# A key left without a TTL (it cannot happen through this script) would block forever, so
# it gets one too.
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
"""

# Compare-and-delete, atomic, so a holder whose lock expired cannot free its successor's.
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisCache:
    """GET / SET EX / DEL; a failure reads as a miss and drops writes."""

    def __init__(self, client: Redis, health: RedisHealth, prefix: str = "") -> None:
        self._client = client
        self._health = health
        self._prefix = prefix

    async def get(self, key: str) -> str | None:
        name = self._prefix + key
        try:
            value = await self._health.call("cache.get", lambda: self._client.get(name))
        except RedisUnavailable:
            value = None
        if value is None:
            self._health.stats.cache_misses += 1
            return None
        self._health.stats.cache_hits += 1
        return value.decode() if isinstance(value, bytes) else str(value)

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        name = self._prefix + key
        if ttl_seconds <= 0:
            await self.delete(key)
            return
        try:
            await self._health.call(
                "cache.set", lambda: self._client.set(name, value, ex=ttl_seconds)
            )
        except RedisUnavailable:
            pass

    async def delete(self, *keys: str) -> None:
        if not keys:
            return
        names = [self._prefix + key for key in keys]
        try:
            await self._health.call("cache.delete", lambda: self._client.delete(*names))
        except RedisUnavailable:
            pass


class RedisLockManager:
    """SET NX PX with a random token; release is an atomic compare-and-delete."""

    def __init__(self, client: Redis, health: RedisHealth, prefix: str = "") -> None:
        self._client = client
        self._health = health
        self._prefix = prefix
        self._release_script = client.register_script(_RELEASE_SCRIPT)

    async def acquire(self, key: str, ttl_ms: int) -> Lock | None:
        name = self._prefix + key
        token = secrets.token_hex(16)
        try:
            acquired = await self._health.call(
                "lock.acquire", lambda: self._client.set(name, token, nx=True, px=ttl_ms)
            )
        except RedisUnavailable:
            self._health.stats.lock_failed_open += 1
            return Lock(key=key, token=FAILED_OPEN_TOKEN_PREFIX + token)
        if not acquired:
            self._health.stats.lock_contended += 1
            return None
        self._health.stats.lock_acquired += 1
        return Lock(key=key, token=token)

    async def release(self, lock: Lock) -> bool:
        if lock.token.startswith(FAILED_OPEN_TOKEN_PREFIX):
            return True
        name = self._prefix + lock.key
        try:
            deleted = await self._health.call(
                "lock.release", lambda: self._release_script(keys=[name], args=[lock.token])
            )
        except RedisUnavailable:
            return False  # the lock's TTL frees it
        return bool(deleted == 1)


class RedisRateLimiter:
    """Fixed-window counters in one round trip (a Lua INCR + EXPIRE); a failure allows."""

    def __init__(self, client: Redis, health: RedisHealth, prefix: str = "") -> None:
        self._client = client
        self._health = health
        self._prefix = prefix
        self._hit_script = client.register_script(_HIT_SCRIPT)

    async def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        name = self._prefix + key
        try:
            count = await self._health.call(
                "ratelimit.hit", lambda: self._hit_script(keys=[name], args=[window_seconds])
            )
        except RedisUnavailable:
            return RateDecision(allowed=True, warn=False)
        return rate_decision(int(count), limit, self._health.stats)
