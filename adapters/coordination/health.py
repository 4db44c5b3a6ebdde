"""The circuit breaker every Redis adapter calls through: short timeouts, then skip Redis.

Closed: each call runs with a timeout. After `failure_threshold` consecutive failures the
breaker opens and calls are refused without touching the network. Once `cooldown_seconds`
have passed one trial call is let through (half-open): success closes the breaker, failure
opens it for another cool-down.

The timeout measures Redis, not this process: a timer that fires late (the event loop was busy
running other messages' Python) does not end the call yet, since Redis's reply may be sitting
unread in the socket; the deadline moves on by that lag, up to `max_stretch` times the timeout
in all. So a hung Redis still fails in `timeout` on an idle loop (and in at most `max_stretch`
times it on a saturated one), while a busy loop alone never counts as a Redis failure.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

from redis.exceptions import ResponseError

from adapters.coordination.stats import CoordinationStats

T = TypeVar("T")

logger = logging.getLogger(__name__)


class RedisUnavailable(Exception):
    """Redis failed or was skipped; the adapter answers its fail-open value instead."""


class RedisHealth:
    """Shared by the Redis cache, lock manager and rate limiter of one client."""

    def __init__(
        self,
        stats: CoordinationStats | None = None,
        *,
        timeout: float = 0.1,
        failure_threshold: int = 3,
        cooldown_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        max_stretch: float = 10.0,
    ) -> None:
        self.stats = stats or CoordinationStats()
        self.timeout = timeout
        self._threshold = failure_threshold
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False
        self._latest = timeout * max_stretch

    async def call(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Run one Redis operation; raises RedisUnavailable instead of any failure."""
        is_trial = self._admit()
        if is_trial is None:
            raise RedisUnavailable(what)
        try:
            async with _LagTolerantTimeout(self.timeout, self._latest):
                result = await operation()
        except ResponseError as exc:
            # Redis answered, so it is reachable: an error reply does not trip the breaker.
            self.stats.redis_errors += 1
            self._succeeded()
            logger.warning("redis %s got an error reply (%s); failing open", what, type(exc).__name__)
            raise RedisUnavailable(what) from exc
        except Exception as exc:
            self._failed(what, exc)
            raise RedisUnavailable(what) from exc
        finally:
            if is_trial:
                self._trial_in_flight = False
        self._succeeded()
        return result

    def _admit(self) -> bool | None:
        """None: skip Redis. False: a normal call. True: the half-open trial call."""
        if self._opened_at is None:
            return False
        if self._trial_in_flight or self._clock() - self._opened_at < self._cooldown:
            return None
        self._trial_in_flight = True
        return True

    def _succeeded(self) -> None:
        self._failures = 0
        if self._opened_at is not None:
            self._opened_at = None
            self.stats.breaker_open = False
            logger.info("redis is reachable again; circuit breaker closed")

    def _failed(self, what: str, exc: Exception) -> None:
        self._failures += 1
        self.stats.redis_errors += 1
        logger.warning("redis %s failed (%s); failing open", what, type(exc).__name__)
        if self._opened_at is not None or self._failures >= self._threshold:
            if self._opened_at is None:
                logger.error(
                    "redis failed %d times in a row; skipping it for %.1f s",
                    self._failures,
                    self._cooldown,
                )
            self._opened_at = self._clock()
            self.stats.breaker_open = True


class _LagTolerantTimeout:
    """`asyncio.timeout(timeout)`, except that it expires later by however late the loop runs
    its timer.

    A timer running more than a tenth of the timeout late means the loop was busy with other
    work: the reply may have arrived meanwhile, unread. The deadline then moves on by the lag
    (never beyond `latest` after the start), so the loop gets to read it first."""

    __slots__ = ("_timeout", "_latest", "_inner", "_loop", "_due", "_end", "_handle")

    def __init__(self, timeout: float, latest: float) -> None:
        self._timeout, self._latest = timeout, max(latest, timeout)
        self._inner = asyncio.timeout(None)

    async def __aenter__(self) -> None:
        await self._inner.__aenter__()
        self._loop = asyncio.get_running_loop()
        now = self._loop.time()
        self._due, self._end = now + self._timeout, now + self._latest
        self._handle = self._loop.call_at(self._due, self._check)

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        self._handle.cancel()
        await self._inner.__aexit__(kind, error, traceback)

    def _check(self) -> None:
        now = self._loop.time()
        lag = now - self._due
        if lag > self._timeout / 10 and now < self._end:
            self._due = min(now + lag, self._end)
            self._handle = self._loop.call_at(self._due, self._check)
        else:
            self._inner.reschedule(now)  # the asyncio.Timeout cancels the call, as on expiry
