"""Retention: message records and payment notifications have a lifetime; orders, the ledger,
stock items and alerts are kept. One instance of the cluster prunes per round, in small
batches (one short transaction each), oldest first."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from application.ports import Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("tokowa.retention")

JOB = "retention"


@dataclass(frozen=True)
class RetentionPolicy:
    inbox_days: int = 14
    outbox_days: int = 14
    payment_events_days: int = 400
    batch: int = 500  # rows per transaction
    max_batches: int = 200  # per table and round: a backlog is worked off over several rounds
    round: timedelta = timedelta(hours=1)  # at most one round per this period in the whole cluster

    def __post_init__(self) -> None:
        for name in ("inbox_days", "outbox_days", "payment_events_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"retention {name} must be 1 or more")


@dataclass(frozen=True)
class Pruned:
    inbox: int
    outbox: int
    payment_events: int


class PruneOldRecords:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, policy: RetentionPolicy | None = None) -> None:
        self._uow_factory, self._clock, self.policy = uow_factory, clock, policy or RetentionPolicy()

    async def __call__(self) -> Pruned | None:
        """One round, when this instance claims it (None when another one has this round)."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            claimed = await uow.housekeeping.claim_job(JOB, now, now + self.policy.round)
            await uow.commit()
        if not claimed:
            return None
        return await self.prune()

    async def prune(self) -> Pruned:
        """Prune now, whoever else does (each batch deletes what it finds; rows are never
        deleted twice)."""
        now, policy = self._clock.now(), self.policy
        inbox = await self._batches(lambda uow, n: uow.housekeeping.prune_inbox(
            now - timedelta(days=policy.inbox_days), n))
        outbox = await self._batches(lambda uow, n: uow.housekeeping.prune_outbox(
            now - timedelta(days=policy.outbox_days), n))
        events = await self._batches(lambda uow, n: uow.housekeeping.prune_payment_events(
            now - timedelta(days=policy.payment_events_days), n))
        pruned = Pruned(inbox, outbox, events)
        if inbox or outbox or events:
            log.info("old records pruned", extra={"inbox": inbox, "outbox": outbox, "payment_events": events})
        return pruned

    async def _batches(self, step: Callable[[UnitOfWork, int], Awaitable[int]]) -> int:
        total = 0
        for _ in range(self.policy.max_batches):
            async with self._uow_factory() as uow:
                deleted: int = await step(uow, self.policy.batch)
                await uow.commit()
            total += deleted
            if deleted < self.policy.batch:
                break
        return total
