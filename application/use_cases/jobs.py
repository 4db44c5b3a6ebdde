"""Cluster-wide periodic jobs: one round of a job runs on one worker of all instances.

Before a round, the worker claims the job's lease row (`uow.leases`) for a little less than the
job's interval; the others find it taken and skip the round. Correctness never rests on it
(each job re-reads its rows under lock, alerts are deduplicated by the database): it keeps
several workers from doing, and telling, the same round at once."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Generic, TypeVar

from application.ports import Clock, UnitOfWorkFactory

T = TypeVar("T")

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class OncePerRound(Generic[T]):
    def __init__(self, name: str, job: Callable[[], Awaitable[T]], uow_factory: UnitOfWorkFactory, clock: Clock,
                 interval: timedelta, holder: str = WORKER_ID) -> None:
        self._name, self._job, self._uow_factory, self._clock = name, job, uow_factory, clock
        # A little less than the interval, so that the next round is free for whoever comes first.
        self._hold, self._holder = interval * 0.9, holder

    async def __call__(self) -> T | None:
        """The job's result, or None when another worker has this round."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            mine = await uow.leases.claim(self._name, self._holder, now, now + self._hold)
            await uow.commit()
        return await self._job() if mine else None
