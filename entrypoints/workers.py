"""Background work every instance runs: processing messages a dead worker left unfinished,
sending what the outbox still holds, expiring stale orders. Each step claims its rows in the
database, so any number of instances can run them at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from application.use_cases.jobs import WORKER_ID, OncePerRound

from entrypoints.container import Application

log = logging.getLogger("tokowa.workers")


async def deliver_leftovers(container: Application) -> int:
    """Unfinished inbox messages, then every due outbox message; returns how many were handled."""
    handled = await container.pipeline().recover()
    while (sent := await container.outbox().drain()) > 0:
        handled += sent
    return handled


async def repeat(job: Callable[[], Awaitable[object]], interval: float, name: str) -> None:
    """Run `job` every `interval` seconds until cancelled; a failing round is logged, not fatal."""
    while True:
        try:
            await job()
        except Exception:
            log.exception("periodic job failed", extra={"job": name})
        await asyncio.sleep(interval)


def cluster_jobs(container: Application, interval: float, doctor_interval: float, holder: str = WORKER_ID
                 ) -> list[tuple[Callable[[], Awaitable[object]], float, str]]:
    """The jobs whose round runs on one worker of all instances (a lease row per job): reminders
    of manual orders, the transport's health, and the consistency check. `holder`: this
    worker's name in the lease rows (one per process by default)."""
    uow, clock = container.adapters.unit_of_work, container.adapters.clock()
    doctor = container.doctor()

    def once(name: str, job: Callable[[], Awaitable[object]], every: float) -> Callable[[], Awaitable[object]]:
        return OncePerRound(name, job, uow, clock, timedelta(seconds=every), holder)

    return [
        (once("reminders", container.remind_waiting(), interval), interval, "reminders"),
        (once("transport", container.watch_transport(), interval), interval, "transport"),
        (once("doctor", lambda: doctor(only_new=True), doctor_interval), doctor_interval, "doctor"),
    ]
