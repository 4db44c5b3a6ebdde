"""Cache, locks and rate limits on Redis, failing open through RedisHealth.

Every command goes through one RedisPipe (pipe.py): the commands of concurrent messages share one
connection and one write. Replies are raw (decoded to str, no redis-py response callbacks).

The application names keys without a prefix (`ratelimit:{user}:{command}`,
`lock:{operation}:{user}`, `produk:list`, ...); each adapter prepends the configured one
(TOKOWA_REDIS_PREFIX) so several shops can share a Redis. Values are never logged.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.coordination.health import RedisHealth, RedisUnavailable
from adapters.coordination.memory import MemorySessionStore
from adapters.coordination.pipe import PipedScript, RedisPipe
from adapters.coordination.stats import lock_token, rate_decision
from application.ports import Admission, Lock, RateDecision

FAILED_OPEN_TOKEN_PREFIX = "failed-open:"
"""Marks a Lock granted without Redis; real tokens are hex, so they never start with it."""

# SessionStore.merge: the stored JSON object (none or unreadable: an empty one) with the given
# fields written over it, and the TTL renewed, in one round trip.
_MERGE_SCRIPT = """
local state = {}
local current = redis.call('GET', KEYS[1])
if current then
    local ok, decoded = pcall(cjson.decode, current)
    if ok and type(decoded) == 'table' then state = decoded end
end
for key, value in pairs(cjson.decode(ARGV[1])) do state[key] = value end
redis.call('SET', KEYS[1], cjson.encode(state), 'EX', ARGV[2])
return 1
"""

# Compare-and-delete, atomic, so a holder whose lock expired cannot free its successor's.
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


# The Gatekeeper's step (the rate limiter uses its first part alone): [rate-limit hit: INCR and,
# only when the key is new, EXPIRE, so the window is fixed at its first hit; a key left without a
# TTL would block forever, so it gets one too] [SET NX PX when the hit is allowed, after deleting the
# lock if it still holds `stale`: this process's own token whose release never reached Redis]
# [GET]. KEYS holds the keys asked for, in that order; ARGV: rate? window limit lock? token ttl peek? [stale]
# Returns {hits (0: none counted), lock (1 taken, 0 not asked or refused by the limit, -1 held), value,
# milliseconds left in a window that refused the hit (-1 otherwise)}.
# One hit taken back: DECR keeps the window's TTL; a window already gone stays gone.
_FORGIVE_SCRIPT = """
local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
if hits > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""

_ADMIT_SCRIPT = """
local k, hits, locked, value, left = 1, 0, 0, false, -1
if ARGV[1] == '1' then
    hits = redis.call('INCR', KEYS[k])
    if hits == 1 or redis.call('PTTL', KEYS[k]) < 0 then
        redis.call('EXPIRE', KEYS[k], ARGV[2])
    end
    if hits > tonumber(ARGV[3]) then left = redis.call('PTTL', KEYS[k]) end
    k = k + 1
end
if ARGV[4] == '1' then
    if hits <= tonumber(ARGV[3]) then
        if ARGV[8] and ARGV[8] ~= '' and redis.call('GET', KEYS[k]) == ARGV[8] then redis.call('DEL', KEYS[k]) end
        if redis.call('SET', KEYS[k], ARGV[5], 'NX', 'PX', ARGV[6]) then locked = 1 else locked = -1 end
    end
    k = k + 1
end
if ARGV[7] == '1' then
    value = redis.call('GET', KEYS[k])
end
return {hits, locked, value, left}
"""


# The Gatekeeper's step after the command: the lock's compare-and-delete (ARGV[1], its token, is
# '' for no lock; then KEYS holds only the keys to forget) and a DEL of the cache keys after it.
# Returns 1 when the lock was released.
_FINISH_SCRIPT = """
local first, released = 1, 0
if ARGV[1] ~= '' then
    if redis.call('GET', KEYS[1]) == ARGV[1] then released = redis.call('DEL', KEYS[1]) end
    first = 2
end
if #KEYS >= first then redis.call('DEL', unpack(KEYS, first)) end
return released
"""


class RedisCache:
    """GET / SET EX / DEL; a failure reads as a miss and drops writes."""

    def __init__(self, pipe: RedisPipe, health: RedisHealth, prefix: str = "") -> None:
        self._pipe = pipe
        self._health = health
        self._prefix = prefix

    async def get(self, key: str) -> str | None:
        name = self._prefix + key
        try:
            value = await self._health.call("cache.get", lambda: self._pipe.call("GET", name))
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
                "cache.set", lambda: self._pipe.call("SET", name, value, "EX", ttl_seconds)
            )
        except RedisUnavailable:
            pass

    async def delete(self, *keys: str) -> None:
        if not keys:
            return
        names = [self._prefix + key for key in keys]
        try:
            await self._health.call("cache.delete", lambda: self._pipe.call("DEL", *names))
        except RedisUnavailable:
            pass


class RedisSessionStore:
    """Conversation states under `session:{user}` (GETEX renews the TTL on each read). While
    Redis fails, states live in this process instead (a customer may be asked again after
    Redis comes back; nothing else is lost)."""

    def __init__(self, pipe: RedisPipe, health: RedisHealth, prefix: str = "",
                 fallback: MemorySessionStore | None = None) -> None:
        self._pipe, self._health, self._prefix = pipe, health, prefix
        self._fallback = fallback or MemorySessionStore()
        self._merge_script = PipedScript(_MERGE_SCRIPT)

    async def load(self, user_id: str, ttl_seconds: int) -> str | None:
        name = f"{self._prefix}session:{user_id}"
        try:
            value: object = await self._health.call("session.load", lambda: self._pipe.call("GETEX", name, "EX", ttl_seconds))
        except RedisUnavailable:
            value = None
        if value is None:
            return await self._fallback.load(user_id, ttl_seconds)  # kept here while Redis was down
        return value.decode() if isinstance(value, bytes) else str(value)

    async def save(self, user_id: str, state: str, ttl_seconds: int) -> None:
        name = f"{self._prefix}session:{user_id}"
        try:
            await self._health.call("session.save", lambda: self._pipe.call("SET", name, state, "EX", ttl_seconds))
        except RedisUnavailable:
            await self._fallback.save(user_id, state, ttl_seconds)
            return
        await self._fallback.drop(user_id)

    async def merge(self, user_id: str, fields: str, ttl_seconds: int) -> None:
        name = f"{self._prefix}session:{user_id}"
        try:
            await self._health.call("session.merge",
                                    lambda: self._merge_script(self._pipe, [name], [fields, ttl_seconds]))
        except RedisUnavailable:
            await self._fallback.merge(user_id, fields, ttl_seconds)
            return
        await self._fallback.drop(user_id)

    async def drop(self, user_id: str) -> None:
        await self._fallback.drop(user_id)
        try:
            await self._health.call("session.drop", lambda: self._pipe.call("DEL", f"{self._prefix}session:{user_id}"))
        except RedisUnavailable:
            pass


class RedisLockManager:
    """SET NX PX with a random token; release is an atomic compare-and-delete."""

    def __init__(self, pipe: RedisPipe, health: RedisHealth, prefix: str = "") -> None:
        self._pipe = pipe
        self._health = health
        self._prefix = prefix
        self._release_script = PipedScript(_RELEASE_SCRIPT)

    async def acquire(self, key: str, ttl_ms: int) -> Lock | None:
        name = self._prefix + key
        token = lock_token()
        try:
            acquired = await self._health.call(
                "lock.acquire", lambda: self._pipe.call("SET", name, token, "NX", "PX", ttl_ms)
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
                "lock.release", lambda: self._release_script(self._pipe, [name], [lock.token])
            )
        except RedisUnavailable:
            return False  # the lock's TTL frees it
        return bool(deleted == 1)


class RedisRateLimiter:
    """Fixed-window counters in one round trip (the gatekeeper's script, counting only); a failure allows."""

    def __init__(self, pipe: RedisPipe, health: RedisHealth, prefix: str = "") -> None:
        self._pipe = pipe
        self._health = health
        self._prefix = prefix
        self._hit_script = PipedScript(_ADMIT_SCRIPT)
        self._forgive_script = PipedScript(_FORGIVE_SCRIPT)

    async def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        name = self._prefix + key
        try:
            count = await self._health.call(
                "ratelimit.hit", lambda: self._hit_script(self._pipe, [name], ["1", window_seconds, limit, "0", "", "0", "0"])
            )
        except RedisUnavailable:
            return RateDecision(allowed=True, warn=False)
        return rate_decision(int(count[0]), limit, self._health.stats, int(count[3]))

    async def forgive(self, key: str) -> None:
        name = self._prefix + key
        try:
            await self._health.call("ratelimit.forgive", lambda: self._forgive_script(self._pipe, [name]))
        except RedisUnavailable:
            pass


_UNRELEASED_KEPT = 10_000


class RedisGatekeeper:
    """Rate-limit hit, per-user lock and one cache read in one Lua call (one round trip)."""

    def __init__(self, pipe: RedisPipe, health: RedisHealth, prefix: str = "") -> None:
        self._pipe = pipe
        self._health = health
        self._prefix = prefix
        self._script = PipedScript(_ADMIT_SCRIPT)
        self._finish_script = PipedScript(_FINISH_SCRIPT)
        # Locks this process finished with but could not release (Redis did not answer the finish):
        # key -> token. The next admit of the same key releases it first, so the customer is not
        # told "busy" for the rest of its TTL by a lock nobody holds any more.
        self._unreleased: dict[str, str] = {}

    async def finish(self, lock: Lock | None, forget: Sequence[str] = ()) -> bool:
        # A lock granted without Redis (failed open) has nothing to release there.
        live = lock if lock is not None and not lock.token.startswith(FAILED_OPEN_TOKEN_PREFIX) else None
        if live is None and not forget:
            return lock is not None
        keys = ([self._prefix + live.key] if live is not None else []) + [self._prefix + key for key in forget]
        token = live.token if live is not None else ""
        try:
            released = await self._health.call("finish", lambda: self._finish_script(self._pipe, keys, [token]))
        except RedisUnavailable:
            # A live lock is left to its TTL (or to this key's next admit here); the cached values
            # run out with theirs.
            if live is not None:
                self._remember_unreleased(live)
            return live is None and lock is not None
        return bool(released == 1) if live is not None else lock is not None

    async def admit(self, *, rate_key: str | None, limit: int, window_seconds: int, lock_key: str | None,
                    lock_ttl_ms: int, peek: str | None) -> Admission:
        asked = [(key, self._prefix + key) for key in (rate_key, lock_key, peek) if key is not None]
        token = lock_token()
        stale = self._unreleased.pop(lock_key, "") if lock_key is not None and self._unreleased else ""
        flags = ["1" if rate_key is not None else "0", str(window_seconds), str(limit),
                 "1" if lock_key is not None else "0", token, str(lock_ttl_ms), "1" if peek is not None else "0"]
        if stale:
            flags.append(stale)
        stats = self._health.stats
        try:
            hits, locked, value, left = await self._health.call(
                "admit", lambda: self._script(self._pipe, [name for _, name in asked], flags))
        except RedisUnavailable:
            if stale and lock_key is not None:
                self._remember_unreleased(Lock(lock_key, stale))
            if peek is not None:
                stats.cache_misses += 1
            if lock_key is None:
                return Admission(RateDecision(allowed=True, warn=False), None, None)
            stats.lock_failed_open += 1
            return Admission(RateDecision(allowed=True, warn=False), Lock(lock_key, FAILED_OPEN_TOKEN_PREFIX + token), None)
        rate = (rate_decision(int(hits), limit, stats, int(left)) if rate_key is not None
                else RateDecision(allowed=True, warn=False))
        lock = None
        if lock_key is not None and rate.allowed:
            if int(locked) == 1:
                stats.lock_acquired += 1
                lock = Lock(lock_key, token)
            else:
                stats.lock_contended += 1
        if peek is not None:
            if value is None:
                stats.cache_misses += 1
            else:
                stats.cache_hits += 1
        return Admission(rate, lock, None if value is None else str(value))

    def _remember_unreleased(self, lock: Lock) -> None:
        if len(self._unreleased) >= _UNRELEASED_KEPT:
            del self._unreleased[next(iter(self._unreleased))]  # the oldest: its TTL frees it anyway
        self._unreleased[lock.key] = lock.token
