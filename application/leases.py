"""Holding a lease while the work it covers is still running.

A leased row (an inbox message being processed, an outbox message being sent) is taken up by
another worker once its lease runs out, because its worker is presumed dead. A worker that is
merely slow (a payment provider taking its time, a send retried with backoff) must not lose it:
`kept_leased` renews the lease every third of its length until the work ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
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
