"""Holding a lease while the work it covers is still running.

A leased row (an inbox message being processed, an outbox message being sent) is taken up by
another worker once its lease runs out, because its worker is presumed dead. A worker that is
merely slow (a payment provider taking its time, a send retried with backoff) must not lose it:
`kept_leased` renews the lease every third of its length until the work ends (`kept_leased_lazily`,
for work that is nearly always short, without a task per piece of work).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

from application.errors import StorageUnavailable

log = logging.getLogger("tokowa.leases")

Sleep = Callable[[float], Awaitable[None]]


@asynccontextmanager
async def kept_leased(renew: Callable[[], Awaitable[bool]], lease: timedelta, *,
                      sleep: Sleep = asyncio.sleep) -> AsyncIterator[None]:
    """Run the enclosed block while `renew()` is called every `lease / 3`; it stops when the
    block ends (however it ends) or when `renew()` answers False (nothing left to hold)."""
    every = lease.total_seconds() / 3

    async def beat() -> None:
        while True:
            await sleep(every)
            try:
                if not await renew():
                    return
            except StorageUnavailable:
                log.warning("a lease could not be renewed; another worker may take the work up")
            except Exception:  # never let keeping the lease break the work it covers
                log.exception("renewing a lease failed")

    task = asyncio.get_running_loop().create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the block itself is being cancelled: let that go on


def kept_leased_lazily(renew: Callable[[], Awaitable[bool]], lease: timedelta, *,
                       sleep: Sleep = asyncio.sleep) -> AbstractAsyncContextManager[None]:
    """`kept_leased` for work that nearly always ends long before the first renewal is due (a
    reply's send: milliseconds against a lease of a minute). With the real clock (`sleep` is
    `asyncio.sleep`) a timer stands in for the renewing task until then: no task is created, run
    and cancelled per piece of work, only when the work outlasts a third of the lease. With any
    other `sleep` (tests driving the beats) it is `kept_leased` itself."""
    if sleep is not asyncio.sleep:
        return kept_leased(renew, lease, sleep=sleep)
    return _LazilyKept(renew, lease.total_seconds() / 3)


class _LazilyKept:
    def __init__(self, renew: Callable[[], Awaitable[bool]], every: float) -> None:
        self._renew, self._every = renew, every
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._every, self._start, loop)

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._task = loop.create_task(self._beat())

    async def _beat(self) -> None:
        while True:  # as kept_leased's beat, its first wait done by the timer
            try:
                if not await self._renew():
                    return
            except StorageUnavailable:
                log.warning("a lease could not be renewed; another worker may take the work up")
            except Exception:  # never let keeping the lease break the work it covers
                log.exception("renewing a lease failed")
            await asyncio.sleep(self._every)

    async def __aexit__(self, *_: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        task = self._task
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the block itself is being cancelled: let that go on
