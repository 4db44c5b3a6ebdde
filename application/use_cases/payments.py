"""Acting on what the payment provider says about an order, and expiring forgotten ones."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from application.chat import render
from application.errors import PaymentProviderUnavailable
from application.ports import (
    Clock, PaymentGateway, PaymentState, PaymentStatus, QueuedMessage, UnitOfWork, UnitOfWorkFactory,
)
from application.replies import Reply
from application.services import Notifier, ShopReads, ShopSettingsReader
from application.use_cases.stock import release_stock, take_stock
from domain.errors import OutOfStock
from domain.order import RELEASES_STOCK, Order, OrderKind, OrderStatus

log = logging.getLogger("tokowa.payments")

class Outcome(str, enum.Enum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    UNKNOWN_ORDER = "unknown_order"
    MISMATCH = "mismatch"
    LATE_CREDITED = "late_credited"


@dataclass
class _Effects:
    outcome: Outcome = Outcome.UNCHANGED
    messages: list[tuple[str, Reply]] = field(default_factory=list)
    alerts: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    touched_products: list[str] = field(default_factory=list)


class ApplyPaymentStatus:
    """Move an order forward to what the provider confirmed, exactly once.

    - The amount and currency must match the order; otherwise nothing changes, admins are told.
    - PAID: a purchase is delivered (its reserved items), a top-up credits the wallet (the
      ledger reference is the order id, so a second credit is impossible).
    - EXPIRED/CANCELLED/FAILED release the reserved stock.
    - Repeats and stale reorderings change nothing and send nothing.
    - Paid after EXPIRED/CANCELLED: PAID again if the stock can be taken again (a top-up
      always), else the amount goes to saldo; admins are told. A failure reported for a PAID
      order alerts admins and changes nothing.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, reads: ShopReads, settings: ShopSettingsReader,
                 notifier: Notifier, clock: Clock) -> None:
        self._uow_factory, self._reads, self._settings = uow_factory, reads, settings
        self._notifier, self._clock = notifier, clock

    async def __call__(self, status: PaymentStatus, *, trusted_amount: bool = False) -> Outcome:
        shop = await self._settings.get()
        effects = _Effects()
        async with self._uow_factory() as uow:
            order = await uow.orders.get(status.order_id, for_update=True)
            if order is None:
                effects.outcome = Outcome.UNKNOWN_ORDER
                effects.alerts.append(("alert.unknown_order", {"order_id": status.order_id}))
            elif not trusted_amount and (status.gross_amount != order.total or status.currency != "IDR"):
                effects.outcome = Outcome.MISMATCH
                # Told once per order and reported amount: the expiry job asks the provider again
                # every round while the order stays PENDING.
                mismatch = f"{order.id}:amount_mismatch:{status.gross_amount}:{status.currency}"
                if await uow.payments.record(order.id, mismatch, "", self._clock.now()):
                    effects.alerts.append(("alert.amount_mismatch", {
                        "order_id": order.id, "paid": status.gross_amount, "total": order.total}))
            elif status.state is not PaymentState.PENDING:
                customer = await uow.customers.get(order.user_id)
                lang = customer.language if customer is not None and customer.language else shop.language
                await _Transition(uow, order, effects, self._clock, lang, shop.shop_name).apply(status.state)
            queued = await self._queue(uow, effects)
            await uow.commit()
        await self._publish(effects, queued)
        return effects.outcome

    async def _queue(self, uow: UnitOfWork, effects: _Effects) -> list[QueuedMessage]:
        queued = []
        for user_id, reply in effects.messages:
            queued += await self._notifier.tell(uow, user_id, reply)
        for key, params in effects.alerts:
            queued += await self._notifier.queue_alert(uow, key, **params)
        return queued

    async def _publish(self, effects: _Effects, queued: list[QueuedMessage]) -> None:
        if effects.touched_products:
            await self._reads.forget_products(*effects.touched_products)
        for user_id, _ in effects.messages:
            await self._reads.forget_balance(user_id)
        await self._notifier.deliver(queued)


class _Transition:
    """The body of ApplyPaymentStatus for one known order, inside its unit of work."""

    def __init__(self, uow: UnitOfWork, order: Order, effects: _Effects, clock: Clock, lang: str, shop: str) -> None:
        self.uow, self.order, self.effects, self.now, self.lang, self.shop = uow, order, effects, clock.now(), lang, shop

    async def apply(self, target: OrderStatus) -> None:
        order = self.order
        if target is OrderStatus.PAID and order.can_settle_late():
            await self._late_payment()
        elif order.status is OrderStatus.PAID and target in RELEASES_STOCK:
            if target is OrderStatus.FAILED:
                self.effects.alerts.append(("alert.deny_after_paid", {"order_id": order.id, "state": target.value}))
            log.warning("stale %s for a PAID order ignored", target.value, extra={"order_id": order.id})
        elif order.status is target or (order.is_terminal and target is not OrderStatus.REFUNDED):
            log.info("payment event changes nothing", extra={"order_id": order.id, "status": order.status.value})
        elif order.status is not OrderStatus.PAID and target is OrderStatus.REFUNDED:
            # Not PENDING only: a late payment credited to saldo leaves the order EXPIRED/CANCELLED,
            # and a refund of it must not crash into IllegalTransition (the provider would retry forever).
            log.error("refund for an order that is not PAID ignored", extra={"order_id": order.id, "status": order.status.value})
        else:
            order.move_to(target, self.now)
            await self._effects_of(target)
            await self.uow.orders.save(order)
            self.effects.outcome = Outcome.CHANGED

    async def _effects_of(self, target: OrderStatus) -> None:
        order = self.order
        if target is OrderStatus.PAID:
            await self._deliver()
        elif target in RELEASES_STOCK:
            await release_stock(self.uow, order)
            self._touch()
            key = "order.failed" if target is OrderStatus.FAILED else "order.expired"
            if target is not OrderStatus.CANCELLED:
                self.effects.messages.append((order.user_id, Reply(render.text(key, self.lang, order_id=order.id))))
        elif target is OrderStatus.REFUNDED:
            self.effects.messages.append((order.user_id, Reply(render.text("order.refunded", self.lang, order_id=order.id))))

    async def _deliver(self) -> None:
        order = self.order
        if order.kind is OrderKind.TOPUP:
            wallet = await self.uow.wallets.get(order.user_id, for_update=True)
            wallet.credit(order.total, "topup", order.id, self.now)
            await self.uow.wallets.save(wallet)
            self.effects.messages.append((order.user_id, render.topup_paid(order, wallet.balance, self.lang)))
            return
        product = await self.uow.products.get(order.product_code or "")
        items = await self.uow.products.items_of_order(order.id)
        self.effects.messages.append((order.user_id, render.delivery(order, product, items, self.lang, self.shop)))

    async def _late_payment(self) -> None:
        order = self.order
        if order.kind is OrderKind.PURCHASE:
            # Locks in the order every use case takes them: wallet (it may be credited) before product.
            await self.uow.wallets.get(order.user_id, for_update=True)
            try:
                product = await self.uow.products.get(order.product_code or "", for_update=True)
                if product is None:
                    raise OutOfStock(code=order.product_code, asked=order.qty, left=0)
                await take_stock(self.uow, product, order.qty, order.id)
                self._touch()
            except OutOfStock:
                await self._credit_instead()
                return
        order.settle_late(self.now)
        await self._effects_of(OrderStatus.PAID)
        await self.uow.orders.save(order)
        self.effects.outcome = Outcome.CHANGED
        self.effects.alerts.append(("alert.late_paid", {"order_id": order.id}))

    async def _credit_instead(self) -> None:
        order = self.order
        wallet = await self.uow.wallets.get(order.user_id, for_update=True)
        wallet.credit(order.total, "late_payment", order.id, self.now)
        await self.uow.wallets.save(wallet)
        order.credit_late(self.now)
        await self.uow.orders.save(order)
        self.effects.outcome = Outcome.LATE_CREDITED
        self.effects.messages.append((order.user_id, Reply(render.text(
            "late.credited", self.lang, order_id=order.id, amount=order.total, balance=wallet.balance))))
        self.effects.alerts.append(("alert.late_credited", {"order_id": order.id, "amount": order.total, "user": order.user_id}))

    def _touch(self) -> None:
        if self.order.product_code:
            self.effects.touched_products.append(self.order.product_code)


class ExpireStaleOrders:
    """The periodic job: PENDING orders past their expiry plus the grace period.

    - Before giving up on an order, ask the provider: a payment whose notification never came
      is applied as PAID; otherwise the order expires and its stock returns.
    - Each order in its own unit of work, under its row lock, so several instances can run it.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, gateway: PaymentGateway, settings: ShopSettingsReader,
                 apply: ApplyPaymentStatus, clock: Clock) -> None:
        self._uow_factory, self._gateway, self._settings, self._apply, self._clock = uow_factory, gateway, settings, apply, clock

    async def __call__(self) -> int:
        shop = await self._settings.get()
        cutoff = self._clock.now() - timedelta(minutes=shop.expiry_grace_minutes)
        async with self._uow_factory() as uow:
            stale = await uow.orders.pending_expiring_before(cutoff)
        changed = 0
        for order in stale:
            try:
                changed += await self._settle(order) is not Outcome.UNCHANGED
            except Exception:  # one bad order must not hold up the others
                log.exception("expiring a stale order failed", extra={"order_id": order.id})
        return changed

    async def _settle(self, order: Order) -> Outcome:
        status = await self._ask_provider(order)
        if status is not None and status.state in (PaymentState.PAID, PaymentState.FAILED, PaymentState.CANCELLED):
            return await self._apply(status)
        return await self._apply(PaymentStatus(order.id, PaymentState.EXPIRED, order.total), trusted_amount=True)

    async def _ask_provider(self, order: Order) -> PaymentStatus | None:
        if not self._gateway.available:
            return None
        try:
            return await self._gateway.status(order.id)
        except PaymentProviderUnavailable:
            return None
