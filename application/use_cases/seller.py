"""The seller's side of an order: delivering manual orders by hand, what still waits, reminders,
and customers who ask for a person (`.admin`) and the admins' answers (`.balas`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from application.chat import render
from application.ports import Clock, RateLimiter, UnitOfWorkFactory
from application.replies import Reply
from application.services import Notifier, ShopSettingsReader
from domain.errors import EmptyMessage, OrderNotFound, ReplyToAdmin
from domain.order import Order
from domain.phone import normalize_msisdn

log = logging.getLogger("tokowa.seller")

REMIND_EVERY = timedelta(hours=2)
FORWARDS_PER_HOUR = 3
MESSAGE_MAX = 3000


MANUAL_ORDER_ALERT = "alert.manual_order"


def manual_order_alert(order: Order) -> dict[str, Any]:
    """What every admin gets when a manual order is paid: the order, the product, the quantity,
    the buyer's full number (and, from the catalog text, the ready `.kirim` command)."""
    return {"order_id": order.id, "qty": order.qty, "name": order.product_name, "code": order.product_code,
            "user": order.user_id}


class DeliverByHand:
    """`.kirim ORDER_ID` + text (and `POST /api/v1/orders/{id}/deliver`): the seller's delivery
    reaches the buyer, is recorded on the order (encrypted) and marks it delivered, once."""

    def __init__(self, uow_factory: UnitOfWorkFactory, notifier: Notifier, settings: ShopSettingsReader,
                 clock: Clock) -> None:
        self._uow_factory, self._notifier, self._settings, self._clock = uow_factory, notifier, settings, clock

    async def __call__(self, order_id: str, note: str) -> Order:
        note = note.strip()
        if not note or len(note) > MESSAGE_MAX:
            raise EmptyMessage(order_id=order_id)
        shop = await self._settings.get()
        now = self._clock.now()
        async with self._uow_factory() as uow:
            order = await uow.orders.get(order_id.strip().upper(), for_update=True)
            if order is None:
                raise OrderNotFound(order_id=order_id)
            order.deliver_by_hand(note, now)
            await uow.orders.save(order)
            customer = await uow.customers.get(order.user_id)
            lang = customer.language if customer is not None and customer.language else shop.language
            product = await uow.products.get(order.product_code or "")
            reply = render.delivery(order, product, [], lang, shop.shop_name)
            queued = await self._notifier.tell(uow, order.user_id, reply)
            await uow.alerts.resolve(MANUAL_ORDER_ALERT, order.id, now)
            await uow.commit()
        await self._notifier.deliver(queued)
        return order


class WaitingOrders:
    """Paid orders waiting for the seller, oldest first (`.pesanan perlu`, the admin API)."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, limit: int = 50) -> list[Order]:
        async with self._uow_factory() as uow:
            return await uow.orders.waiting_for_seller(limit)


class RemindWaitingOrders:
    """The periodic job: every manual order still waiting when its reminder is due is brought up
    to the admins again, then every two hours. Each order under its row lock, so of several
    workers exactly one reminds."""

    def __init__(self, uow_factory: UnitOfWorkFactory, notifier: Notifier, clock: Clock) -> None:
        self._uow_factory, self._notifier, self._clock = uow_factory, notifier, clock

    async def __call__(self) -> int:
        now = self._clock.now()
        async with self._uow_factory() as uow:
            due = await uow.orders.reminders_due(now)
        reminded = 0
        for candidate in due:
            async with self._uow_factory() as uow:
                order = await uow.orders.get(candidate.id, for_update=True)
                if order is None or not order.waits_for_seller or order.remind_at is None or order.remind_at > now:
                    continue  # another worker reminded, or the seller delivered meanwhile
                order.remind_at = now + REMIND_EVERY
                await uow.orders.save(order)
                queued = await self._notifier.tell_admins(
                    uow, "reminder.manual_order", order_id=order.id, qty=order.qty, name=order.product_name,
                    user=order.user_id, paid=render.when(order.paid_at or order.created_at))
                await uow.commit()
            await self._notifier.deliver(queued)
            reminded += 1
        return reminded


@dataclass(frozen=True)
class Forwarded:
    sent: bool  # False: over the hourly limit
    warn: bool  # the first refusal of the hour (the customer is told once)


class ContactAdmin:
    """`.admin PESAN` (and "hubungi admin", "cs"): the customer's text, with their number, to
    every admin; at most 3 an hour per customer. Admins' own messages are not forwarded."""

    def __init__(self, uow_factory: UnitOfWorkFactory, notifier: Notifier, limiter: RateLimiter) -> None:
        self._uow_factory, self._notifier, self._limiter = uow_factory, notifier, limiter

    async def __call__(self, user_id: str, message: str) -> Forwarded:
        message = message.strip()[:MESSAGE_MAX]
        if not message:
            raise EmptyMessage(user_id=user_id)
        if user_id in self._notifier.admins:
            raise ReplyToAdmin(number=user_id)
        decision = await self._limiter.hit(f"forward:{user_id}", FORWARDS_PER_HOUR, 3600)
        if not decision.allowed:
            return Forwarded(False, decision.warn)
        async with self._uow_factory() as uow:
            queued = await self._notifier.tell_admins(uow, "support.forwarded", user=user_id, text=message)
            await uow.commit()
        await self._notifier.deliver(queued)
        return Forwarded(True, False)


class ReplyToCustomer:
    """`.balas NOMOR PESAN`: the admin's answer reaches the customer as a message from the shop."""

    def __init__(self, uow_factory: UnitOfWorkFactory, notifier: Notifier, settings: ShopSettingsReader) -> None:
        self._uow_factory, self._notifier, self._settings = uow_factory, notifier, settings

    async def __call__(self, number: str, message: str) -> str:
        user_id = normalize_msisdn(number)
        message = message.strip()[:MESSAGE_MAX]
        if not message:
            raise EmptyMessage(number=number)
        if user_id in self._notifier.admins:
            raise ReplyToAdmin(number=user_id)
        shop = await self._settings.get()
        async with self._uow_factory() as uow:
            customer = await uow.customers.get(user_id)
            lang = customer.language if customer is not None and customer.language else shop.language
            reply = Reply(render.text("support.reply", lang, shop=shop.shop_name, text=message))
            queued = await self._notifier.tell(uow, user_id, reply)
            await uow.commit()
        await self._notifier.deliver(queued)
        return user_id
