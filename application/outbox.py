"""Sending what the outbox holds: right after the commit that queued it, and again later for
whatever could not go out (the transport was down, or the process died before sending).

A message is marked sent only after the transport accepted it, so it is sent twice only when
the process dies between those two steps. Several instances may drain at once: claiming leases
each message to one of them, and the lease is renewed while a send is in progress (a transport
retrying with backoff may take longer than the lease), so no other instance sends it meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from application.errors import MessengerUnavailable, StorageUnavailable
from application.leases import Sleep, kept_leased
from application.ports import Clock, Messenger, QueuedMessage, UnitOfWork, UnitOfWorkFactory
from application.replies import Reply

log = logging.getLogger("tokowa.outbox")

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 15


def retry_delay(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at 30 minutes: about five hours of retries in all."""
    return timedelta(seconds=min(5 * 2**attempts, 1800))


class OutboxSender:
    def __init__(self, uow_factory: UnitOfWorkFactory, messenger: Messenger, clock: Clock,
                 lease: timedelta = LEASE, sleep: Sleep = asyncio.sleep) -> None:
        self._uow_factory, self._messenger, self._clock, self._lease = uow_factory, messenger, clock, lease
        self._sleep = sleep
        self._sent: list[int] = []
        self._marking = False

    async def queue(self, uow: UnitOfWork, to: str, reply: Reply, *, finishes: str | None = None) -> QueuedMessage:
        """Add a message inside the caller's unit of work, leased to this process (`finishes`:
        the inbox message it answers, marked finished with it)."""
        now = self._clock.now()
        message_id = await uow.outbox.add(to, reply, now, now + self._lease, finishes=finishes)
        return QueuedMessage(message_id, to, reply, 0)

    async def deliver(self, messages: list[QueuedMessage]) -> None:
        """Send messages queued by a unit of work that has committed (or claimed by `drain`),
        keeping the lease of those not yet tried while the others are sent."""
        if not messages:  # nothing to send: no lease keeper to start and stop (a turn of the loop)
            return
        untried = {message.id for message in messages}
        async with kept_leased(lambda: self._renew(untried), self._lease, sleep=self._sleep):
            for message in messages:
                await self._send(message, untried)

    async def send_once(self, to: str, reply: Reply) -> None:
        """Bypass the outbox (the database is down): one try, raises MessengerUnavailable."""
        await self._messenger.send(to, reply)

    async def drain(self, limit: int = 50) -> int:
        """Send what is due (left over or postponed); returns how many were tried."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            due = await uow.outbox.claim_due(now, now + self._lease, limit)
            await uow.commit()
        await self.deliver(due)
        return len(due)

    async def _send(self, message: QueuedMessage, untried: set[int]) -> None:
        try:
            await self._messenger.send(message.to, message.reply)
        except MessengerUnavailable:
            untried.discard(message.id)
            await self._failed(message)
            return
        untried.discard(message.id)
        await self._record_sent(message.id)

    async def _renew(self, message_ids: set[int]) -> bool:
        """Lease anew the messages still to be sent; False once none is left."""
        if not message_ids:
            return False
        lease_until = self._clock.now() + self._lease
        async with self._uow_factory() as uow:
            for message_id in sorted(message_ids):
                await uow.outbox.renew(message_id, lease_until)
            await uow.commit()
        return True

    async def _record_sent(self, message_id: int) -> None:
        """Mark sent, grouping under load: while one transaction marks messages sent, the ids
        of messages sent meanwhile wait and go together in the next one (the caller that started
        the marking waits for it; the others return at once)."""
        self._sent.append(message_id)
        if self._marking:
            return
        self._marking = True
        try:
            while self._sent:
                batch, self._sent = self._sent, []
                try:
                    async with self._uow_factory() as uow:
                        await uow.outbox.mark_sent(batch, self._clock.now())
                        await uow.commit()
                except StorageUnavailable:
                    log.error("sent messages not marked as sent; they may go out again", extra={"count": len(batch)})
        finally:
            self._marking = False

    async def _failed(self, message: QueuedMessage) -> None:
        now = self._clock.now()
        try:
            async with self._uow_factory() as uow:
                if message.attempts + 1 >= MAX_ATTEMPTS:
                    log.error("message given up after %d attempts", message.attempts + 1, extra={"outbox_id": message.id})
                    await uow.outbox.give_up(message.id, now)
                else:
                    await uow.outbox.postpone(message.id, now + retry_delay(message.attempts))
                await uow.commit()
        except StorageUnavailable:
            log.error("could not postpone a message; its lease will bring it back", extra={"outbox_id": message.id})
