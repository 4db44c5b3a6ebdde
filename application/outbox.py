"""Sending what the outbox holds: right after the commit that queued it, and again later for
whatever could not go out (the transport was down, or the process died before sending).

A message is marked sent only after the transport accepted it, so it is sent twice only when
the process dies between those two steps. Several instances may drain at once: claiming leases
each message to one of them, and the lease is renewed while a send is in progress (a transport
retrying with backoff may take longer than the lease), so no other instance sends it meanwhile.

WhatsApp refuses a free-form message to a number that has not written for 24 hours (Cloud API
131047), either in the send's answer or later in a status webhook. Retrying is useless then: the
message is held (no retries, never given up or pruned) until that number writes again, when the
pipeline releases it. A customer's held message raises `alert.customer_unreachable` (sent to the
admins); an admin's, `alert.admins_unreachable` (dashboard and API only: WhatsApp cannot reach
them). An admin's alert reported refused later goes again as the alert template when there is one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from application.chat.catalog import text
from application.errors import MessengerUnavailable, RecipientOutsideWindow, StorageUnavailable
from application.leases import Sleep, kept_leased_lazily
from application.ports import Alert, Clock, Messenger, Outgoing, QueuedMessage, UnitOfWork, UnitOfWorkFactory
from application.replies import Reply
from domain.money import Rupiah

log = logging.getLogger("tokowa.outbox")

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 15
CUSTOMER_UNREACHABLE = "alert.customer_unreachable"
ADMINS_UNREACHABLE = "alert.admins_unreachable"


async def _indonesian() -> str:
    return "id"


@dataclass(frozen=True)
class WindowRules:
    """What to do with a message WhatsApp refused outside the 24-hour window: who the admins
    are, whether an approved alert template exists (WHATSAPP_ALERT_TEMPLATE), and the shop's
    language for the alert's text."""

    admins: frozenset[str] = frozenset()
    template: bool = False
    language: Callable[[], Awaitable[str]] = field(default=_indonesian, compare=False)


def retry_delay(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at 30 minutes: about five hours of retries in all."""
    return timedelta(seconds=min(5 * 2**attempts, 1800))


class OutboxSender:
    def __init__(self, uow_factory: UnitOfWorkFactory, messenger: Messenger, clock: Clock,
                 lease: timedelta = LEASE, sleep: Sleep = asyncio.sleep, window: WindowRules = WindowRules(),
                 single_statement_uow: UnitOfWorkFactory | None = None) -> None:
        self._uow_factory, self._messenger, self._clock, self._lease = uow_factory, messenger, clock, lease
        # Marking sent is one statement: on PostgreSQL without BEGIN/COMMIT (two round trips fewer).
        self._single = single_statement_uow or uow_factory
        self._sleep, self._window = sleep, window
        self._sent: list[tuple[int, str | None]] = []
        self._marking = False

    async def queue(self, uow: UnitOfWork, to: str, reply: Reply, *, finishes: str | None = None) -> QueuedMessage:
        """Add a message inside the caller's unit of work, leased to this process (`finishes`:
        the inbox message it answers, marked finished with it)."""
        now = self._clock.now()
        message_id = await uow.outbox.add(to, reply, now, now + self._lease, finishes=finishes)
        return QueuedMessage(message_id, to, reply, 0)

    async def queue_all(self, uow: UnitOfWork, replies: Sequence[tuple[str, Reply, str | None, datetime]]
                        ) -> list[QueuedMessage]:
        """`queue` for each (to, reply, finishes, when it was queued), in one step where the
        store can (replies of several messages queued together)."""
        ids = await uow.outbox.add_all([Outgoing(to, reply, now, now + self._lease, finishes)
                                        for to, reply, finishes, now in replies])
        return [QueuedMessage(message_id, to, reply, 0) for message_id, (to, reply, _, _) in zip(ids, replies, strict=True)]

    async def deliver(self, messages: list[QueuedMessage]) -> None:
        """Send messages queued by a unit of work that has committed (or claimed by `drain`),
        keeping the lease of those not yet tried while the others are sent."""
        if not messages:  # nothing to send: no lease keeper to start and stop (a turn of the loop)
            return
        untried = {message.id for message in messages}
        # Lazily: a send nearly always ends long before a third of the lease (no task per delivery).
        async with kept_leased_lazily(lambda: self._renew(untried), self._lease, sleep=self._sleep):
            for message in messages:
                await self._send(message, untried)

    async def queue_alert(self, uow: UnitOfWork, key: str, subject: str, params: dict[str, str], *,
                          admins: frozenset[str], language: Callable[[], Awaitable[str]],
                          owed: Rupiah | None = None) -> list[QueuedMessage]:
        """Record an admin alert inside `uow` and queue it to `admins`, unless the same alert (key
        and subject) is still open. `language` is asked only for a new alert."""
        alert_id = await uow.alerts.raise_(Alert(key, subject, params, self._clock.now(), owed))
        if alert_id is None:
            log.info("admin alert still open: %s", key, extra={"alert": key, "subject": subject})
            return []
        lang = await language()
        message = f"{text(key, lang, **params)}\n{text('alert.ack_hint', lang, alert_id=alert_id)}"
        log.error("admin alert: %s", key, extra={"alert": key, "subject": subject, "order_id": params.get("order_id")})
        return [await self.queue(uow, admin, Reply(message)) for admin in sorted(admins)]

    async def send_once(self, to: str, reply: Reply) -> None:
        """Bypass the outbox (the database is down): one try, raises MessengerUnavailable."""
        await self._messenger.send(to, reply)

    async def release_held(self, to: str, single: UnitOfWorkFactory | None = None) -> int:
        """`to` wrote: send now, oldest first, the messages held because WhatsApp refused them
        outside the 24-hour window, and close the alert about them; how many. `single`: a unit of
        work for one statement (nothing held, the usual case, costs that one statement)."""
        async with (single or self._uow_factory)() as uow:
            released = await uow.outbox.release_held(to, self._clock.now() + self._lease)
            await uow.commit()
        if not released:
            return 0
        log.info("sending %d held message(s) to a number that wrote again", len(released))
        await self.deliver(released)
        try:
            async with self._uow_factory() as uow:
                if await uow.outbox.held_count(to) == 0:  # none refused again: the alert is over
                    for kind in (CUSTOMER_UNREACHABLE, ADMINS_UNREACHABLE):
                        await uow.alerts.resolve(kind, to, self._clock.now())
                await uow.commit()
        except StorageUnavailable:
            log.error("the alert about held messages stays open")
        return len(released)

    async def refused_later(self, provider_id: str) -> list[QueuedMessage]:
        """A status webhook says WhatsApp refused outside the 24-hour window a message it had
        accepted (`provider_id`: its wamid). An admin's alert is queued again as the alert
        template (when there is one); any other message is held until its recipient writes.
        Returns what to send now (after this commit). A repeated report, or one about a message
        the outbox does not know, changes nothing. Raises StorageUnavailable."""
        language = await self._window.language()  # before the unit of work: it may read the database
        async with self._uow_factory() as uow:
            message = await uow.outbox.take_refused(provider_id)
            if message is None:
                log.info("a refusal reported for a message the outbox does not know (or handled already)")
                return []
            rules, now = self._window, self._clock.now()
            if message.to in rules.admins and rules.template and not message.reply.as_template:
                log.info("an admin's message refused outside the window is sent again as the alert template")
                queued = [await self.queue(uow, message.to, replace(message.reply, as_template=True))]
            elif message.attempts + 1 < MAX_ATTEMPTS and await uow.outbox.recipient_wrote_since_queued(message.id):
                # They wrote after it was queued (the report came late): the window is open, retry.
                await uow.outbox.retry(message.id, now + retry_delay(message.attempts))
                queued = []
            else:
                queued = await self._hold(uow, message, now, language)
            await uow.commit()
        return queued

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
            provider_id = await self._messenger.send(message.to, message.reply)
        except RecipientOutsideWindow:
            untried.discard(message.id)
            await self._refused_outside_window(message)
            return
        except MessengerUnavailable:
            untried.discard(message.id)
            await self._failed(message)
            return
        untried.discard(message.id)
        await self._record_sent(message.id, provider_id)

    async def _refused_outside_window(self, message: QueuedMessage) -> None:
        try:
            language = await self._window.language()  # before the unit of work: it may read the database
            async with self._uow_factory() as uow:
                if await uow.outbox.recipient_wrote_since_queued(message.id):
                    # They wrote while it was on its way (their message's release may have run
                    # before this refusal): the window is open again, so an ordinary retry.
                    wrote = True
                else:
                    wrote, queued = False, await self._hold(uow, message, self._clock.now(), language)
                    await uow.commit()
        except StorageUnavailable:
            log.error("could not hold a message refused outside the window; its lease will bring it back",
                      extra={"outbox_id": message.id})
            return
        if wrote:
            await self._failed(message)
            return
        await self.deliver(queued)

    async def _hold(self, uow: UnitOfWork, message: QueuedMessage, now: datetime,
                    language: str) -> list[QueuedMessage]:
        """Hold the message until its recipient writes again and raise the alert about it (one
        open per number); the admins' copies of a new alert, to send after the commit."""
        await uow.outbox.hold(message.id, now)
        rules = self._window
        if message.to in rules.admins:
            # WhatsApp cannot reach this admin: the dashboard and the admin API say so.
            if await uow.alerts.raise_(Alert(ADMINS_UNREACHABLE, message.to, {"number": message.to}, now)) is not None:
                log.error("admin alert: %s", ADMINS_UNREACHABLE, extra={"alert": ADMINS_UNREACHABLE})
            return []

        async def shop_language() -> str:
            return language

        return await self.queue_alert(uow, CUSTOMER_UNREACHABLE, message.to, {"number": message.to},
                                      admins=rules.admins, language=shop_language)

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

    async def _record_sent(self, message_id: int, provider_id: str | None = None) -> None:
        """Mark sent, grouping under load: while one transaction marks messages sent, the ids
        of messages sent meanwhile wait and go together in the next one (the caller that started
        the marking waits for it; the others return at once)."""
        self._sent.append((message_id, provider_id))
        if self._marking:
            return
        self._marking = True
        try:
            while self._sent:
                batch, self._sent = self._sent, []
                try:
                    async with self._single() as uow:
                        await uow.outbox.mark_sent([i for i, _ in batch], self._clock.now(),
                                                   {i: p for i, p in batch if p is not None} or None)
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
