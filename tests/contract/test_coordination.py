"""One contract per coordination port, run against the in-process and the Redis adapters.

Time: the memory adapters read an injected clock that the test advances; for Redis the
harness moves time forward by shortening every key's remaining TTL (and deleting keys
whose TTL runs out), which is what the same wait would do on the server.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from adapters.coordination import Coordination, MemoryRateLimiter, build_coordination
from application.ports import Admission, Lock, RateDecision

ALLOWED = RateDecision(allowed=True, warn=False)
REFUSED_WITH_WARNING = RateDecision(allowed=False, warn=True)
REFUSED_SILENTLY = RateDecision(allowed=False, warn=False)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@dataclass
class Harness:
    kind: str
    coordination: Coordination
    advance: Callable[[float], Awaitable[None]]


async def _shift_redis_ttls(client: Redis, prefix: str, seconds: float) -> None:
    elapsed_ms = int(seconds * 1000)
    async for key in client.scan_iter(match=prefix + "*"):
        remaining = await client.pttl(key)
        if remaining < 0:
            continue
        if remaining <= elapsed_ms:
            await client.delete(key)
        else:
            await client.pexpire(key, remaining - elapsed_ms)


@pytest.fixture
async def memory_harness() -> Harness:
    clock = FakeClock()

    async def advance_clock(seconds: float) -> None:
        clock.t += seconds

    return Harness("memory", build_coordination(None, clock=clock), advance_clock)


@pytest.fixture
async def redis_harness(
    redis_client: Redis, redis_prefix: str, redis_url: str
) -> AsyncIterator[Harness]:
    # A generous timeout: the contract is about behaviour, not about a busy test machine.
    coordination = build_coordination(redis_url, redis_prefix, timeout=2.0)

    async def advance_ttls(seconds: float) -> None:
        await _shift_redis_ttls(redis_client, redis_prefix, seconds)

    yield Harness("redis", coordination, advance_ttls)
    await coordination.aclose()
    assert coordination.stats.redis_errors == 0, "a Redis call failed open during the contract"


@pytest.fixture(params=["memory", "redis"])
def harness(request: pytest.FixtureRequest) -> Harness:
    """Only the chosen adapter set's fixtures run, so the memory half needs no Redis."""
    chosen: Harness = request.getfixturevalue(f"{request.param}_harness")
    return chosen


def unique(name: str) -> str:
    return f"{name}:{secrets.token_hex(4)}"


# --- Cache -------------------------------------------------------------------------------


async def test_cache_returns_what_was_set_and_misses_unknown_keys(harness: Harness) -> None:
    cache, stats = harness.coordination.cache, harness.coordination.stats
    await cache.set("produk:list", "1. Netflix 1 bulan — Rp 25.000\n2. Spotify 🎵", 300)

    assert await cache.get("produk:list") == "1. Netflix 1 bulan — Rp 25.000\n2. Spotify 🎵"
    assert await cache.get("produk:detail:NF1") is None
    assert (stats.cache_hits, stats.cache_misses) == (1, 1)


async def test_cache_set_replaces_the_value(harness: Harness) -> None:
    cache = harness.coordination.cache
    await cache.set("user:balance:62811", "10000", 60)
    await cache.set("user:balance:62811", "5000", 60)

    assert await cache.get("user:balance:62811") == "5000"


async def test_cache_delete_removes_every_given_key(harness: Harness) -> None:
    cache = harness.coordination.cache
    await cache.set("produk:list", "list", 300)
    await cache.set("produk:detail:NF1", "detail", 300)
    await cache.set("settings", "{}", 600)

    await cache.delete("produk:list", "produk:detail:NF1", "produk:detail:never-set")
    await cache.delete()

    assert await cache.get("produk:list") is None
    assert await cache.get("produk:detail:NF1") is None
    assert await cache.get("settings") == "{}"


async def test_cache_entry_expires_after_its_ttl(harness: Harness) -> None:
    cache = harness.coordination.cache
    await cache.set("user:balance:62811", "10000", 60)

    await harness.advance(59)
    assert await cache.get("user:balance:62811") == "10000"
    await harness.advance(2)
    assert await cache.get("user:balance:62811") is None


async def test_cache_set_with_a_non_positive_ttl_leaves_nothing_cached(harness: Harness) -> None:
    cache = harness.coordination.cache
    await cache.set("settings", "old", 600)

    await cache.set("settings", "new", 0)

    assert await cache.get("settings") is None


# --- Locks -------------------------------------------------------------------------------


async def test_a_held_lock_refuses_a_second_acquire(harness: Harness) -> None:
    locks, stats = harness.coordination.locks, harness.coordination.stats
    key = unique("lock:buy:62811")

    first = await locks.acquire(key, 30_000)
    second = await locks.acquire(key, 30_000)
    other_user = await locks.acquire(unique("lock:buy:62822"), 30_000)

    assert first is not None and first.key == key
    assert second is None
    assert other_user is not None
    assert (stats.lock_acquired, stats.lock_contended, stats.lock_failed_open) == (2, 1, 0)


async def test_release_frees_the_lock_once(harness: Harness) -> None:
    locks = harness.coordination.locks
    key = unique("lock:buy:62811")
    lock = await locks.acquire(key, 30_000)
    assert lock is not None

    assert await locks.release(lock) is True
    assert await locks.release(lock) is False
    assert await locks.acquire(key, 30_000) is not None


async def test_release_with_a_wrong_token_is_refused_and_the_lock_stays(harness: Harness) -> None:
    locks = harness.coordination.locks
    key = unique("lock:buy:62811")
    lock = await locks.acquire(key, 30_000)
    assert lock is not None

    assert await locks.release(Lock(key=key, token="0" * 32)) is False
    assert await locks.acquire(key, 30_000) is None
    assert await locks.release(lock) is True


async def test_an_expired_lock_can_be_taken_and_its_old_holder_cannot_free_it(
    harness: Harness,
) -> None:
    locks = harness.coordination.locks
    key = unique("lock:buy:62811")
    stale = await locks.acquire(key, 200)
    assert stale is not None

    await harness.advance(0.3)
    current = await locks.acquire(key, 30_000)
    assert current is not None

    assert await locks.release(stale) is False
    assert await locks.acquire(key, 30_000) is None
    assert await locks.release(current) is True


# --- Rate limits -------------------------------------------------------------------------


async def test_hits_over_the_limit_are_refused_and_warned_about_once(harness: Harness) -> None:
    limiter, stats = harness.coordination.rate_limiter, harness.coordination.stats
    key = unique("ratelimit:62811:buy")

    decisions = [await limiter.hit(key, 3, 60) for _ in range(6)]

    assert decisions == [ALLOWED] * 3 + [REFUSED_WITH_WARNING] + [REFUSED_SILENTLY] * 2
    assert stats.rate_limited == 3


async def test_each_key_has_its_own_counter(harness: Harness) -> None:
    limiter = harness.coordination.rate_limiter
    buy, menu = unique("ratelimit:62811:buy"), unique("ratelimit:62811:menu")

    assert await limiter.hit(buy, 1, 60) == ALLOWED
    assert await limiter.hit(buy, 1, 60) == REFUSED_WITH_WARNING
    assert await limiter.hit(menu, 1, 60) == ALLOWED


async def test_the_window_is_fixed_from_its_first_hit_then_resets(harness: Harness) -> None:
    limiter = harness.coordination.rate_limiter
    key = unique("ratelimit:62811:buy")
    assert await limiter.hit(key, 2, 60) == ALLOWED

    await harness.advance(30)
    assert await limiter.hit(key, 2, 60) == ALLOWED
    refused = await limiter.hit(key, 2, 60)
    assert refused == REFUSED_WITH_WARNING and refused.retry_after in (29, 30, 31)  # when to try again

    await harness.advance(31)  # 61 s after the first hit: later hits did not extend it
    assert await limiter.hit(key, 2, 60) == ALLOWED
    assert await limiter.hit(key, 2, 60) == ALLOWED
    assert await limiter.hit(key, 2, 60) == REFUSED_WITH_WARNING


async def test_a_forgiven_hit_no_longer_counts_and_the_window_keeps_its_end(harness: Harness) -> None:
    limiter = harness.coordination.rate_limiter
    key = unique("ratelimit:62811:buy")
    await limiter.forgive(key)  # nothing counted yet: stays at zero
    assert await limiter.hit(key, 2, 60) == ALLOWED
    assert await limiter.hit(key, 2, 60) == ALLOWED
    await limiter.forgive(key)  # the second attempt was a typo
    await harness.advance(30)
    assert await limiter.hit(key, 2, 60) == ALLOWED
    assert await limiter.hit(key, 2, 60) == REFUSED_WITH_WARNING
    await harness.advance(31)  # the window still ends 60 s after its first hit
    assert await limiter.hit(key, 2, 60) == ALLOWED


# --- The gatekeeper: rate limit, lock and one cache read in one step -------------------------


async def admit(harness: Harness, rate: str | None, lock: str | None, peek: str | None, limit: int = 2) -> Admission:
    return await harness.coordination.gatekeeper.admit(
        rate_key=rate, limit=limit, window_seconds=60, lock_key=lock, lock_ttl_ms=30_000, peek=peek)


async def test_the_gatekeeper_counts_locks_and_reads_in_one_step(harness: Harness) -> None:
    c = harness.coordination
    rate, lock, profile = unique("ratelimit:62811:buy"), unique("lock:buy:62811"), unique("user:profile:62811")
    await c.cache.set(profile, "gold|en", 60)

    first = await admit(harness, rate, lock, profile)
    assert first.rate == ALLOWED and first.lock is not None and first.lock.key == lock and first.peeked == "gold|en"
    assert await c.locks.acquire(lock, 1000) is None  # the ordinary lock port sees it held

    busy = await admit(harness, rate, lock, profile)
    assert busy.rate == ALLOWED and busy.lock is None  # counted, but the lock is held

    assert await c.locks.release(first.lock) is True
    refused = await admit(harness, rate, lock, None)  # third hit of a limit of 2
    assert refused.rate == REFUSED_WITH_WARNING and refused.lock is None and refused.peeked is None
    assert await c.locks.acquire(lock, 1000) is not None  # a refused hit takes no lock
    assert c.stats.rate_limited == 1 and c.stats.lock_contended >= 1


async def test_the_gatekeeper_without_a_limit_or_lock_only_reads(harness: Harness) -> None:
    c = harness.coordination
    profile = unique("user:profile:62811")
    nothing = await admit(harness, None, None, profile, limit=0)  # a limit of 0 applies to no hit
    assert nothing.rate == ALLOWED and nothing.lock is None and nothing.peeked is None
    admin = await admit(harness, None, unique("lock:buy:admin"), None, limit=0)
    assert admin.rate == ALLOWED and admin.lock is not None
    assert await c.locks.release(admin.lock) is True


async def test_the_gatekeeper_finishes_by_releasing_its_lock_and_forgetting_keys_in_one_step(
        harness: Harness) -> None:
    c = harness.coordination
    lock, balance, product = unique("lock:buy:62811"), unique("user:balance:62811"), unique("produk:detail:VC")
    for key in (balance, product):
        await c.cache.set(key, "cached", 60)
    gate = await admit(harness, None, lock, None)
    assert gate.lock is not None

    assert await c.gatekeeper.finish(gate.lock, [balance, product]) is True
    assert [await c.cache.get(balance), await c.cache.get(product)] == [None, None]
    assert await c.gatekeeper.finish(gate.lock) is False  # released once
    assert await c.locks.acquire(lock, 1000) is not None  # free for the next message


async def test_finishing_with_a_lock_taken_over_forgets_the_keys_but_frees_nobody_elses_lock(
        harness: Harness) -> None:
    c = harness.coordination
    lock, balance = unique("lock:buy:62811"), unique("user:balance:62811")
    stale = (await admit(harness, None, lock, None)).lock
    assert stale is not None
    await harness.advance(30.1)  # the lock's TTL ran out and another message took it
    current = await c.locks.acquire(lock, 30_000)
    assert current is not None
    await c.cache.set(balance, "cached", 60)

    assert await c.gatekeeper.finish(stale, [balance]) is False
    assert await c.cache.get(balance) is None
    assert await c.locks.acquire(lock, 1000) is None  # still the other holder's
    assert await c.gatekeeper.finish(None, []) is False  # nothing to do
    assert await c.gatekeeper.finish(current) is True


async def test_finishing_without_a_lock_only_forgets(harness: Harness) -> None:
    c = harness.coordination
    balance = unique("user:balance:62811")
    await c.cache.set(balance, "cached", 60)
    assert await c.gatekeeper.finish(None, [balance]) is False
    assert await c.cache.get(balance) is None


# --- Redis only --------------------------------------------------------------------------


async def test_every_redis_key_carries_the_configured_prefix(
    redis_client: Redis, redis_prefix: str, redis_url: str
) -> None:
    coordination = build_coordination(redis_url, redis_prefix, timeout=2.0)
    product = unique("produk:detail")
    lock_key = unique("lock:buy:62811")
    rate_key = unique("ratelimit:62811:buy")
    try:
        await coordination.cache.set(product, "detail", 300)
        lock = await coordination.locks.acquire(lock_key, 30_000)
        await coordination.rate_limiter.hit(rate_key, 3, 60)

        keys = {key async for key in redis_client.scan_iter(match=redis_prefix + "*")}
        assert keys == {redis_prefix + product, redis_prefix + lock_key, redis_prefix + rate_key}
        assert await redis_client.exists(product, lock_key, rate_key) == 0
        assert await redis_client.get(redis_prefix + product) == "detail"
        assert lock is not None and await redis_client.get(redis_prefix + lock_key) == lock.token
        assert 0 < await redis_client.ttl(redis_prefix + rate_key) <= 60
    finally:
        await coordination.aclose()


async def test_a_redis_lock_really_expires_on_the_server(
    redis_prefix: str, redis_url: str
) -> None:
    coordination = build_coordination(redis_url, redis_prefix, timeout=2.0)
    key = unique("lock:buy:62811")
    try:
        assert await coordination.locks.acquire(key, 200) is not None
        assert await coordination.locks.acquire(key, 200) is None
        await asyncio.sleep(0.3)  # unavoidable: the server's own clock must pass PX 200
        assert await coordination.locks.acquire(key, 30_000) is not None
    finally:
        await coordination.aclose()


# --- In-process only ---------------------------------------------------------------------


async def test_the_in_process_limiter_forgets_expired_windows_of_one_time_visitors() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(now=clock)

    for visitor in range(10_000):
        await limiter.hit(f"ratelimit:{visitor}:menu", 20, 60)
        clock.t += 0.1  # a new visitor every 100 ms: about 600 windows alive at a time

    assert len(limiter._windows) < 2_000


# --- SessionStore ------------------------------------------------------------------------


async def test_a_session_is_kept_until_it_has_been_unused_for_its_ttl(harness: Harness) -> None:
    sessions, user = harness.coordination.sessions, unique("62812")
    assert await sessions.load(user, 600) is None
    await sessions.save(user, '{"picks": [".produk NF1"]}', 600)
    await harness.advance(500)
    assert await sessions.load(user, 600) == '{"picks": [".produk NF1"]}'  # used: 10 more minutes
    await harness.advance(500)
    assert await sessions.load(user, 600) == '{"picks": [".produk NF1"]}'
    await harness.advance(601)
    assert await sessions.load(user, 600) is None


async def test_a_session_is_one_customers_and_can_be_dropped(harness: Harness) -> None:
    sessions, alice, bob = harness.coordination.sessions, unique("62812"), unique("62813")
    await sessions.save(alice, "a", 600)
    await sessions.save(bob, "b", 600)
    await sessions.save(alice, "a2", 600)
    await sessions.drop(bob)
    assert (await sessions.load(alice, 600), await sessions.load(bob, 600)) == ("a2", None)


async def test_new_numbered_choices_keep_a_question_that_still_waits_for_its_answer(harness: Harness) -> None:
    sessions, user = harness.coordination.sessions, unique("62812")
    await sessions.merge(user, '{"picks": [".produk A"]}', 600)  # nothing stored yet: a new state
    assert json.loads(await sessions.load(user, 600) or "") == {"picks": [".produk A"]}
    await sessions.save(user, json.dumps({"picks": [], "ask": ".buy A 1", "ask_request": "wamid.1",
                                          "ask_until": 1764489600.5}), 600)
    await sessions.merge(user, '{"picks": [".produk B", ".produk C"]}', 600)
    assert json.loads(await sessions.load(user, 600) or "") == {
        "picks": [".produk B", ".produk C"], "ask": ".buy A 1", "ask_request": "wamid.1", "ask_until": 1764489600.5}
    await harness.advance(500)
    await sessions.merge(user, '{"picks": [".produk D"]}', 600)  # renewed: 10 more minutes
    await harness.advance(500)
    assert json.loads(await sessions.load(user, 600) or "")["picks"] == [".produk D"]
    await sessions.save(user, "not json", 600)  # an unreadable state is replaced, not kept
    await sessions.merge(user, '{"picks": [".produk E"]}', 600)
    assert json.loads(await sessions.load(user, 600) or "") == {"picks": [".produk E"]}
