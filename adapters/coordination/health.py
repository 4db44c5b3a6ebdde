"""The circuit breaker every Redis adapter calls through: short timeouts, then skip Redis.

Closed: each call runs with a timeout. After `failure_threshold` consecutive failures the
breaker opens and calls are refused without touching the network. Once `cooldown_seconds`
have passed one trial call is let through (half-open): success closes the breaker, failure
opens it for another cool-down.

The timeout measures Redis, not this process: when it runs out, the event loop first gets to
read what has arrived (it may have been busy running other messages' Python until then, with
Redis's reply unread in the socket); only a call still waiting after that fails. So a busy loop
alone never counts as a Redis failure, and a hung Redis still fails in about `timeout`.

A call given up at the deadline leaves its command on the shared connection (pipe.py): its reply
is read and dropped there, so the next command's reply stays its own. Each time the breaker opens
it calls `on_open` (the factory passes the pipe's reset): the connection that stopped answering is
dropped with everything pending on it, and the trial call after the cool-down opens a new one.
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
        on_open: Callable[[], None] | None = None,
    ) -> None:
        self.stats = stats or CoordinationStats()
        self._on_open = on_open
        self.timeout = timeout
        self._threshold = failure_threshold
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    async def call(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Run one Redis operation; raises RedisUnavailable instead of any failure."""
        is_trial = self._admit()
        if is_trial is None:
            raise RedisUnavailable(what)
        try:
            async with _PollingTimeout(self.timeout):
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
            if self._on_open is not None:
                self._on_open()


class _PollingTimeout:
    """`asyncio.timeout(timeout)`, except that on expiry the loop first gets to poll its
    sockets (twice: one turn reads what arrived, the next resumes the calls it woke up).

    At the deadline the loop may just have come back from other work (a burst of messages'
    Python): Redis's reply can be sitting unread in the socket. A call still waiting after
    those turns really has no answer.

    When the deadline's timer itself runs late (the loop was busy past it), the command may only
    just have been written: the adapters' commands go out in one write a turn after they are
    queued (pipe.py), and that turn may be the one that ran late. Redis then gets another
    `LATE_GRACE` of the timeout before the polls, so a busy loop does not fail a call it delayed."""

    __slots__ = ("_timeout", "_inner", "_loop", "_polls", "_handle", "_due")

    POLLS = 2
    LATE_GRACE = 0.25
    LATE = 0.001  # seconds past the deadline: an idle loop's timers run well within it

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._inner = asyncio.timeout(None)

    async def __aenter__(self) -> None:
        await self._inner.__aenter__()
        self._loop = asyncio.get_running_loop()
        self._polls = self.POLLS
        self._due = self._loop.time() + self._timeout
        self._handle = self._loop.call_later(self._timeout, self._check)

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        self._handle.cancel()
        await self._inner.__aexit__(kind, error, traceback)

    def _check(self) -> None:
        if self._due and self._loop.time() - self._due > self.LATE:
            self._due = 0.0  # once
            self._handle = self._loop.call_later(self._timeout * self.LATE_GRACE, self._check)
        elif self._polls:
            # A timer due now runs in the loop's next turn after the I/O callbacks of its poll.
            self._polls -= 1
            self._handle = self._loop.call_later(0, self._check)
        else:
            self._inner.reschedule(self._loop.time())  # the asyncio.Timeout cancels the call, as on expiry
