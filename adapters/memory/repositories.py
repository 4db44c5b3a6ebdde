"""The in-memory repositories: each works on the copy its unit of work holds, and raises the
same domain errors for the rules a database would enforce."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from application.errors import DuplicateOrderId
from application.ports import (
    Accepted, ClaimedMessage, DeadLetter, IncomingMessage, Outgoing, QueuedMessage, RecentOrder, StoredText,
)
from application.replies import Reply
from domain.customer import Customer
from domain.errors import (
    DuplicateLedgerReference,
    DuplicateProductCode,
    OutOfStock,
    PendingOrderExists,
)
from domain.money import ZERO, Rupiah
from domain.order import Order, OrderKind, OrderStatus
from domain.product import Product, refused_items
from domain.wallet import LedgerEntry, Wallet

from adapters.memory.records import MemoryData, StoredItem, StoredMessage, StoredOutgoing

SENT_IDS_KEPT = 1000  # sent messages remembered by their transport id (each unit of work copies them)


class _Repo:
    def __init__(self, data: MemoryData) -> None:
        self.data = data


class MemoryProductRepository(_Repo):
    async def get(self, code: str, *, for_update: bool = False) -> Product | None:
        found = self.data.products.get(code.upper())
        return copy.deepcopy(found) if found else None

    async def list_active(self) -> list[Product]:
        return [copy.deepcopy(p) for p in sorted(self.data.products.values(), key=lambda p: p.code) if p.active]

    async def list_inactive(self) -> list[Product]:
        return [copy.deepcopy(p) for p in sorted(self.data.products.values(), key=lambda p: p.code) if not p.active]

    async def count(self) -> int:
        return len(self.data.products)

    async def add(self, product: Product) -> None:
        if product.code in self.data.products:
            raise DuplicateProductCode(code=product.code)
        self.data.products[product.code] = copy.deepcopy(product)

    async def save(self, product: Product) -> None:
        self.data.products[product.code] = copy.deepcopy(product)

    async def add_items(self, code: str, contents: list[str], now: datetime) -> None:
        existing = {i.content for i in self.data.items if i.product_code == code}
        clashes = [(number, c, "in_stock") for number, c in enumerate(contents, start=1) if c in existing]
        if clashes:
            raise refused_items(clashes)
        for content in contents:
            self.data.items.append(StoredItem(self.data.next_item_id, code, content))
            self.data.next_item_id += 1
        product = self.data.products.get(code)
        if product is not None:
            product.uses_items = True
        self._sync_stock(code)

    async def stored_among(self, code: str, contents: list[str]) -> set[str]:
        existing = {i.content for i in self.data.items if i.product_code == code.upper()}
        return {content for content in contents if content in existing}

    async def take(self, code: str, qty: int) -> Product | None:
        found = self.data.products.get(code.upper())
        if found is None or not found.active or found.uses_items or found.stock < qty:
            return None
        found.stock -= qty
        return copy.deepcopy(found)

    async def take_items(self, code: str, qty: int, order_id: str) -> list[str]:
        free = [i for i in self.data.items if i.product_code == code and i.order_id is None][:qty]
        if len(free) < qty:
            raise OutOfStock(code=code, asked=qty, left=len(free))
        for item in free:
            item.order_id = order_id
        self._sync_stock(code)
        return [i.content for i in free]

    async def release_items(self, order_id: str) -> int:
        held = [i for i in self.data.items if i.order_id == order_id]
        for item in held:
            item.order_id = None
        for code in {i.product_code for i in held}:
            self._sync_stock(code)
        return len(held)

    async def items_of_order(self, order_id: str) -> list[str]:
        return [i.content for i in self.data.items if i.order_id == order_id]

    async def free_item_counts(self) -> dict[str, int]:
        counts = {i.product_code: 0 for i in self.data.items}
        for item in self.data.items:
            if item.order_id is None:
                counts[item.product_code] += 1
        return counts

    def _sync_stock(self, code: str) -> None:
        product = self.data.products.get(code)
        if product is not None:
            product.stock = sum(1 for i in self.data.items if i.product_code == code and i.order_id is None)


class MemoryCustomerRepository(_Repo):
    async def get(self, user_id: str) -> Customer | None:
        found = self.data.customers.get(user_id)
        return copy.deepcopy(found) if found else None

    async def ensure(self, user_id: str, now: datetime) -> bool:
        if user_id in self.data.customers:
            return False
        self.data.customers[user_id] = Customer(user_id=user_id, created_at=now)
        self.data.balances[user_id] = ZERO
        return True

    async def save(self, customer: Customer) -> None:
        self.data.customers[customer.user_id] = copy.deepcopy(customer)
        self.data.balances.setdefault(customer.user_id, ZERO)


class MemoryWalletRepository(_Repo):
    async def get(self, user_id: str, *, for_update: bool = False) -> Wallet:
        return Wallet(user_id=user_id, balance=self.data.balances.get(user_id, ZERO))

    async def get_for_purchase(self, user_id: str, code: str) -> tuple[Wallet, Product | None]:
        return await self.get(user_id, for_update=True), await MemoryProductRepository(self.data).get(code)

    async def save(self, wallet: Wallet) -> None:
        if wallet.user_id not in self.data.customers:
            raise KeyError(f"no customer {wallet.user_id}")
        taken = {(e.reason, e.reference) for e in self.data.ledger if e.reference is not None}
        for entry in wallet.new_entries:
            if entry.reference is not None and (entry.reason, entry.reference) in taken:
                raise DuplicateLedgerReference(reason=entry.reason, reference=entry.reference)
        self.data.ledger.extend(wallet.new_entries)
        self.data.balances[wallet.user_id] = wallet.balance
        wallet.new_entries.clear()

    async def ledger(self, user_id: str, limit: int = 50) -> list[LedgerEntry]:
        return [e for e in reversed(self.data.ledger) if e.user_id == user_id][:limit]

    async def ledger_sum(self, user_id: str) -> Rupiah:
        return Rupiah(sum(e.delta.value for e in self.data.ledger if e.user_id == user_id))

    async def off_ledger(self, limit: int = 100) -> list[tuple[str, Rupiah, Rupiah]]:
        sums: dict[str, int] = {}
        for entry in self.data.ledger:
            sums[entry.user_id] = sums.get(entry.user_id, 0) + entry.delta.value
        off = [(user_id, self.data.balances.get(user_id, ZERO), Rupiah(sums.get(user_id, 0)))
               for user_id in sorted(self.data.customers)
               if self.data.balances.get(user_id, ZERO).value != sums.get(user_id, 0)]
        return off[:limit]


class MemoryOrderRepository(_Repo):
    async def add(self, order: Order) -> None:
        if order.id in self.data.orders:
            raise DuplicateOrderId(order.id)
        self._check_pending(order)
        self.data.orders[order.id] = replace(order)

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        found = self.data.orders.get(order_id)
        return replace(found) if found else None

    async def save(self, order: Order) -> None:
        self._check_pending(order)
        self.data.orders[order.id] = replace(order)

    async def pending_of(self, user_id: str) -> Order | None:
        return next((replace(o) for o in self._of(user_id) if o.status is OrderStatus.PENDING), None)

    async def recent_of(self, user_id: str, limit: int = 10) -> list[Order]:
        return self._of(user_id)[:limit]

    async def recent_brief_of(self, user_id: str, limit: int) -> list[RecentOrder]:
        newest = [o for o in self._newest() if o.user_id == user_id][:limit]
        return [RecentOrder(o.id, o.kind, o.product_code, o.qty, o.status, o.created_at) for o in newest]

    async def last_paid_purchase_of(self, user_id: str) -> Order | None:
        paid = [o for o in self._of(user_id) if o.status is OrderStatus.PAID and o.kind is OrderKind.PURCHASE]
        # the most recently paid (a link order may be paid after a later saldo order)
        return max(paid, key=lambda o: (o.paid_at or o.created_at, o.created_at, o.id), default=None)

    async def recent(self, status: OrderStatus | None = None, limit: int = 20) -> list[Order]:
        rows = [o for o in self._newest() if status is None or o.status is status]
        return [replace(o) for o in rows[:limit]]

    async def pending_expiring_before(self, cutoff: datetime, limit: int = 100) -> list[Order]:
        rows = [
            o for o in self.data.orders.values()
            if o.status is OrderStatus.PENDING and o.expires_at is not None and o.expires_at < cutoff
        ]
        return [replace(o) for o in sorted(rows, key=lambda o: o.created_at)[:limit]]

    async def paid_between(self, start: datetime, end: datetime) -> list[Order]:
        return [
            replace(o) for o in self._newest()
            if o.status in (OrderStatus.PAID, OrderStatus.REFUNDED) and o.paid_at is not None
            and start <= o.paid_at < end
        ]

    async def due_for_recheck(self, now: datetime, limit: int = 20) -> list[Order]:
        rows = [o for o in self.data.orders.values() if o.recheck_at is not None and o.recheck_at <= now]
        return [replace(o) for o in sorted(rows, key=lambda o: (o.recheck_at or now, o.id))[:limit]]

    async def waiting_for_seller(self, limit: int = 50) -> list[Order]:
        rows = [o for o in self.data.orders.values() if o.waits_for_seller]
        return [replace(o) for o in sorted(rows, key=lambda o: (o.paid_at or o.created_at, o.id))[:limit]]

    async def reminders_due(self, now: datetime, limit: int = 50) -> list[Order]:
        rows = [o for o in self.data.orders.values()
                if o.waits_for_seller and o.remind_at is not None and o.remind_at <= now]
        return [replace(o) for o in sorted(rows, key=lambda o: (o.remind_at or now, o.id))[:limit]]

    def _newest(self) -> list[Order]:
        return sorted(self.data.orders.values(), key=lambda o: (o.created_at, o.id), reverse=True)

    def _of(self, user_id: str) -> list[Order]:
        return [replace(o) for o in self._newest() if o.user_id == user_id]

    def _check_pending(self, order: Order) -> None:
        if order.status is not OrderStatus.PENDING:
            return
        for other in self.data.orders.values():
            if other.user_id == order.user_id and other.status is OrderStatus.PENDING and other.id != order.id:
                raise PendingOrderExists(order_id=other.id)


class MemorySettingsRepository(_Repo):
    async def all(self) -> dict[str, str]:
        return dict(self.data.settings)

    async def put(self, key: str, value: str) -> None:
        self.data.settings[key] = value


class MemoryInboxRepository(_Repo):
    async def accept(self, message: IncomingMessage, now: datetime, lease_until: datetime) -> Accepted:
        if not await self.record(message, now, lease_until):
            return Accepted(first=False, held=False)
        held = any(o.held_at is not None and o.message.to == message.sender for o in self.data.outbox.values())
        return Accepted(first=True, held=held)

    async def accept_all(self, arrivals: Sequence[tuple[IncomingMessage, datetime, datetime]]) -> list[Accepted]:
        return [await self.accept(message, now, lease_until) for message, now, lease_until in arrivals]

    async def record(self, message: IncomingMessage, now: datetime, lease_until: datetime) -> bool:
        if message.message_id in self.data.inbox:
            return False
        self.data.inbox[message.message_id] = StoredMessage(message, now, lease_until)
        customer = self.data.customers.setdefault(message.sender, Customer(user_id=message.sender, created_at=now))
        self.data.balances.setdefault(message.sender, ZERO)
        if message.business_user_id:
            customer.business_user_id = message.business_user_id
        return True

    async def claim_stale(self, now: datetime, lease_until: datetime, limit: int = 50) -> list[ClaimedMessage]:
        stale = sorted((m for m in self.data.inbox.values() if not m.finished and m.lease_until <= now),
                       key=lambda m: m.received_at)[:limit]
        for stored in stale:
            stored.lease_until = lease_until
            stored.attempts += 1
        return [ClaimedMessage(m.message, m.attempts) for m in stale]

    async def renew(self, message_id: str, lease_until: datetime) -> bool:
        stored = self.data.inbox.get(message_id)
        if stored is None or stored.finished:
            return False
        stored.lease_until = lease_until
        return True

    async def finish(self, message_id: str, now: datetime) -> None:
        if message_id in self.data.inbox:
            self.data.inbox[message_id].finished = True

    async def dead_letter(self, message_id: str, now: datetime) -> bool:
        stored = self.data.inbox.get(message_id)
        if stored is None or stored.finished:
            return False
        stored.finished, stored.dead_at, stored.attempts = True, now, stored.attempts - 1
        return True

    async def dead_letters(self, limit: int = 50) -> list[DeadLetter]:
        dead = sorted((m for m in self.data.inbox.values() if m.dead_at is not None),
                      key=lambda m: (m.dead_at, m.message.message_id), reverse=True)[:limit]
        return [DeadLetter(m.message.message_id, m.message.sender, m.message.text, m.received_at, m.message.sent_at,
                           m.attempts, m.dead_at) for m in dead if m.dead_at is not None]

    async def mark_applied(self, message_id: str, now: datetime) -> bool:
        stored = self.data.inbox.get(message_id)
        if stored is None:
            return True
        if stored.applied_at is not None:
            return False
        stored.applied_at = now
        return True


class MemoryOutboxRepository(_Repo):
    async def add_all(self, messages: Sequence[Outgoing]) -> list[int]:
        return [await self.add(m.to, m.reply, m.now, m.lease_until, finishes=m.finishes) for m in messages]

    async def add(self, to: str, reply: Reply, now: datetime, lease_until: datetime, *,
                  finishes: str | None = None) -> int:
        if finishes is not None and finishes in self.data.inbox:
            self.data.inbox[finishes].finished = True
        message_id = self.data.next_outbox_id
        self.data.next_outbox_id += 1
        self.data.outbox[message_id] = StoredOutgoing(QueuedMessage(message_id, to, reply, 0), now, lease_until)
        return message_id

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int = 50) -> list[QueuedMessage]:
        due = [o for o in self.data.outbox.values() if o.held_at is None and o.lease_until <= now][:limit]
        for stored in due:
            stored.lease_until = lease_until
        return [o.message for o in due]

    async def get(self, message_id: int) -> QueuedMessage | None:
        stored = self.data.outbox.get(message_id)
        return stored.message if stored is not None else None

    async def renew(self, message_id: int, lease_until: datetime) -> bool:
        stored = self.data.outbox.get(message_id)
        if stored is None:
            return False
        stored.lease_until = lease_until
        return True

    async def mark_sent(self, message_ids: list[int], now: datetime,
                        provider_ids: dict[int, str] | None = None) -> None:
        for message_id in message_ids:
            stored = self.data.outbox.get(message_id)
            provider_id = (provider_ids or {}).get(message_id)
            if stored is not None and provider_id is not None:
                self.data.sent_ids[provider_id] = stored
                while len(self.data.sent_ids) > SENT_IDS_KEPT:
                    del self.data.sent_ids[next(iter(self.data.sent_ids))]
            self._finish(message_id)

    async def hold(self, message_id: int, now: datetime) -> None:
        stored = self.data.outbox.get(message_id)
        if stored is None:  # sent already (a refusal reported later): back in the outbox
            stored = self.data.refused.pop(message_id, None)
            if stored is None:
                return
            self.data.outbox[message_id] = stored
        stored.held_at = now

    async def retry(self, message_id: int, until: datetime) -> None:
        stored = self.data.outbox.get(message_id) or self.data.refused.pop(message_id, None)
        if stored is None:
            return
        self.data.outbox[message_id] = stored
        stored.held_at, stored.lease_until = None, until
        stored.message = replace(stored.message, attempts=stored.message.attempts + 1)

    async def release_held(self, to: str, lease_until: datetime) -> list[QueuedMessage]:
        held = sorted((o for o in self.data.outbox.values() if o.held_at is not None and o.message.to == to),
                      key=lambda o: o.message.id)
        for stored in held:
            stored.held_at, stored.lease_until = None, lease_until
            stored.message = replace(stored.message, attempts=0)
        return [o.message for o in held]

    async def take_refused(self, provider_id: str) -> QueuedMessage | None:
        stored = self.data.sent_ids.pop(provider_id, None)
        if stored is None:
            return None
        self.data.refused[stored.message.id] = stored
        while len(self.data.refused) > SENT_IDS_KEPT:
            del self.data.refused[next(iter(self.data.refused))]
        return stored.message

    async def postpone(self, message_id: int, until: datetime) -> None:
        stored = self.data.outbox.get(message_id)
        if stored is not None:
            stored.lease_until = until
            stored.message = replace(stored.message, attempts=stored.message.attempts + 1)

    async def give_up(self, message_id: int, now: datetime) -> None:
        self._finish(message_id)

    async def pending_count(self) -> int:
        return sum(1 for o in self.data.outbox.values() if o.held_at is None)

    async def recipient_wrote_since_queued(self, message_id: int) -> bool:
        stored = self.data.outbox.get(message_id) or self.data.refused.get(message_id)
        if stored is None:
            return False
        return any(m.message.sender == stored.message.to and m.received_at > stored.created_at
                   for m in self.data.inbox.values())

    async def held_count(self, to: str | None = None) -> int:
        return sum(1 for o in self.data.outbox.values() if o.held_at is not None and to in (None, o.message.to))

    def _finish(self, message_id: int) -> None:
        # Sent messages are not kept: the memory store is copied on every unit of work.
        self.data.outbox.pop(message_id, None)


class MemoryPaymentEventRepository(_Repo):
    async def record(self, order_id: str, event_key: str, raw: str, now: datetime) -> bool:
        if event_key in self.data.payment_events:
            return False
        self.data.payment_events[event_key] = raw
        self.data.payment_event_times[event_key] = now
        return True


class MemoryHousekeepingRepository(_Repo):
    """Sent and given-up outgoing messages are not kept in memory, so there is none to prune."""

    async def claim_job(self, name: str, now: datetime, until: datetime) -> bool:
        held = self.data.job_leases.get(name)
        if held is not None and held > now:
            return False
        self.data.job_leases[name] = until
        return True

    async def prune_inbox(self, received_before: datetime, limit: int) -> int:
        old = sorted((m for m in self.data.inbox.values() if m.finished and m.received_at < received_before),
                     key=lambda m: m.received_at)[:limit]
        for stored in old:
            del self.data.inbox[stored.message.message_id]
        return len(old)

    async def prune_outbox(self, created_before: datetime, limit: int) -> int:
        return 0

    async def prune_payment_events(self, received_before: datetime, limit: int) -> int:
        old = sorted((k for k, t in self.data.payment_event_times.items() if t < received_before),
                     key=lambda k: self.data.payment_event_times[k])[:limit]
        for key in old:
            self.data.payment_events.pop(key, None)
            del self.data.payment_event_times[key]
        return len(old)

    async def messages_of(self, user_id: str, limit: int = 1000) -> list[StoredText]:
        found = [StoredText("in", m.received_at, m.message.text) for m in self.data.inbox.values()
                 if m.message.sender == user_id and m.message.text is not None]
        found += [StoredText("out", o.created_at, o.message.reply.text, o.message.reply) for o in self.data.outbox.values()
                  if o.message.to == user_id]
        return sorted(found, key=lambda m: m.at)[:limit]

    async def forget_customer(self, user_id: str, pseudonym: str) -> None:
        customer = self.data.customers.pop(user_id, None)
        if customer is None:
            return
        self.data.customers[pseudonym] = Customer(user_id=pseudonym, tier=customer.tier, created_at=customer.created_at)
        self.data.balances[pseudonym] = self.data.balances.pop(user_id, ZERO)
        self.data.ledger = [replace(e, user_id=pseudonym) if e.user_id == user_id else e for e in self.data.ledger]
        order_ids = {o.id for o in self.data.orders.values() if o.user_id == user_id}
        for order_id in order_ids:
            self.data.orders[order_id] = replace(self.data.orders[order_id], user_id=pseudonym)
        for item in self.data.items:
            if item.order_id in order_ids:
                item.content = ""
        for message_id in [k for k, m in self.data.inbox.items() if m.message.sender == user_id]:
            del self.data.inbox[message_id]
        for outgoing_id in [k for k, o in self.data.outbox.items() if o.message.to == user_id]:
            del self.data.outbox[outgoing_id]
        for provider_id in [k for k, o in self.data.sent_ids.items() if o.message.to == user_id]:
            del self.data.sent_ids[provider_id]
        for key, raw in self.data.payment_events.items():
            self.data.payment_events[key] = raw.replace(user_id, pseudonym)
        for alert_id, alert in self.data.alerts.items():
            self.data.alerts[alert_id] = replace(alert, subject=alert.subject.replace(user_id, pseudonym),
                                                 params={k: v.replace(user_id, pseudonym) for k, v in alert.params.items()})
