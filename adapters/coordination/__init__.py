"""Coordination adapters: cache, locks and rate limits, in-process or on Redis.

Everything here fails open: when Redis is slow or down the shop keeps selling, with
caches reading as misses, locks granted locally and rate limits allowing.
"""

from adapters.coordination.factory import Coordination, build_coordination
from adapters.coordination.health import RedisHealth
from adapters.coordination.memory import MemoryCache, MemoryLockManager, MemoryRateLimiter
from adapters.coordination.redis_store import RedisCache, RedisLockManager, RedisRateLimiter
from adapters.coordination.stats import CoordinationStats

__all__ = [
    "Coordination",
    "CoordinationStats",
    "MemoryCache",
    "MemoryLockManager",
    "MemoryRateLimiter",
    "RedisCache",
    "RedisHealth",
    "RedisLockManager",
    "RedisRateLimiter",
    "build_coordination",
]
