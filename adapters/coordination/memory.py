"""In-process cache, locks and rate limits that behave like the Redis ones.

Used when no Redis is configured (one process) and as the verified fakes in tests.
No method awaits while it touches its dictionary, so each one is atomic on the event loop.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from adapters.coordination.stats import CoordinationStats, lock_token, rate_decision
from application.ports import Admission, Cache, Lock, LockManager, RateDecision, RateLimiter

V = TypeVar("V")

_MIN_SWEEP_SIZE = 1024


class _ExpiringStore(Generic[V]):
    """A dict whose entries vanish at their deadline.

    Expired entries are dropped when read and, so that keys nobody reads again do not pile
    up, in a full sweep whenever the dict has doubled since the last one (amortised
    constant cost per write).
    """

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._data: dict[str, tuple[V, float]] = {}
        self._sweep_at = _MIN_SWEEP_SIZE

    def get(self, key: str) -> V | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] <= self._now():
            del self._data[key]
            return None
        return entry[0]

    def put(self, key: str, value: V, ttl_seconds: float) -> None:
        self._data[key] = (value, self._now() + ttl_seconds)
        if len(self._data) >= self._sweep_at:
            self._sweep()

    def pop(self, key: str) -> None:
        self._data.pop(key, None)

    def remaining_ms(self, key: str) -> int | None:
        entry = self._data.get(key)
        return None if entry is None else int((entry[1] - self._now()) * 1000)

    def __len__(self) -> int:
        return len(self._data)

    def _sweep(self) -> None:
        now = self._now()
        self._data = {k: e for k, e in self._data.items() if e[1] > now}
        self._sweep_at = max(_MIN_SWEEP_SIZE, 2 * len(self._data))


class MemoryCache:
    """A string cache with TTLs, held in this process."""

    def __init__(
        self, stats: CoordinationStats | None = None, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.stats = stats or CoordinationStats()
        self._store: _ExpiringStore[str] = _ExpiringStore(now)

    async def get(self, key: str) -> str | None:
        value = self._store.get(key)
        if value is None:
            self.stats.cache_misses += 1
        else:
            self.stats.cache_hits += 1
        return value

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        if ttl_seconds <= 0:
            self._store.pop(key)
            return
        self._store.put(key, value, ttl_seconds)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._store.pop(key)


class MemorySessionStore:
    """Conversation states with a TTL, held in this process."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._store: _ExpiringStore[str] = _ExpiringStore(now)

    async def load(self, user_id: str, ttl_seconds: int) -> str | None:
        state = self._store.get(_session_key(user_id))
        if state is not None:
            self._store.put(_session_key(user_id), state, ttl_seconds)
        return state

    async def save(self, user_id: str, state: str, ttl_seconds: int) -> None:
        self._store.put(_session_key(user_id), state, ttl_seconds)

    async def merge(self, user_id: str, fields: str, ttl_seconds: int) -> None:
        self._store.put(_session_key(user_id), merged(self._store.get(_session_key(user_id)), fields), ttl_seconds)

    async def drop(self, user_id: str) -> None:
        self._store.pop(_session_key(user_id))


def merged(state: str | None, fields: str) -> str:
    """`state` (a JSON object; unreadable or none: an empty one) with the fields of `fields` over it."""
    try:
        current = json.loads(state) if state else {}
    except ValueError:
        current = {}
    if not isinstance(current, dict):
        current = {}
    current.update(json.loads(fields))
    return json.dumps(current)


def _session_key(user_id: str) -> str:
    return f"session:{user_id}"


class MemoryLockManager:
    """Locks with a TTL, released only by the holder of their token."""

    def __init__(
        self, stats: CoordinationStats | None = None, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.stats = stats or CoordinationStats()
        self._held: _ExpiringStore[str] = _ExpiringStore(now)

    async def acquire(self, key: str, ttl_ms: int) -> Lock | None:
        if self._held.get(key) is not None:
            self.stats.lock_contended += 1
            return None
        token = lock_token()
        self._held.put(key, token, ttl_ms / 1000)
        self.stats.lock_acquired += 1
        return Lock(key=key, token=token)

    async def release(self, lock: Lock) -> bool:
        if self._held.get(lock.key) != lock.token:
            return False
        self._held.pop(lock.key)
        return True


class MemoryRateLimiter:
    """Fixed-window hit counters: a window opens at its first hit and lasts window_seconds."""

    def __init__(
        self, stats: CoordinationStats | None = None, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.stats = stats or CoordinationStats()
        self._windows: _ExpiringStore[list[int]] = _ExpiringStore(now)

    async def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        counter = self._windows.get(key)
        if counter is None:
            counter = [0]
            self._windows.put(key, counter, window_seconds)
        counter[0] += 1
        return rate_decision(counter[0], limit, self.stats, self._windows.remaining_ms(key))

    async def forgive(self, key: str) -> None:
        counter = self._windows.get(key)
        if counter is not None and counter[0] > 0:
            counter[0] -= 1


ALLOWED = RateDecision(allowed=True, warn=False)


class ComposedGatekeeper:
    """The Gatekeeper over separate cache, lock and rate-limit ports (in process, where each
    call is as cheap as one step)."""

    def __init__(self, rate_limiter: RateLimiter, locks: LockManager, cache: Cache) -> None:
        self._limiter, self._locks, self._cache = rate_limiter, locks, cache

    async def admit(self, *, rate_key: str | None, limit: int, window_seconds: int, lock_key: str | None,
                    lock_ttl_ms: int, peek: str | None) -> Admission:
        rate = await self._limiter.hit(rate_key, limit, window_seconds) if rate_key is not None else ALLOWED
        lock = await self._locks.acquire(lock_key, lock_ttl_ms) if lock_key is not None and rate.allowed else None
        peeked = await self._cache.get(peek) if peek is not None else None
        return Admission(rate, lock, peeked)

    async def finish(self, lock: Lock | None, forget: Sequence[str] = ()) -> bool:
        if forget:
            await self._cache.delete(*forget)
        return await self._locks.release(lock) if lock is not None else False
