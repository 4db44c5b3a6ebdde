"""Acting on what the payment provider says about an order, and expiring forgotten ones."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from application.chat import render
from application.errors import PaymentProviderUnavailable
from application.ports import (
    Clock, PaymentGateway, PaymentState, PaymentStatus, QueuedMessage, UnitOfWork, UnitOfWorkFactory,
)
from application.replies import Reply
from application.services import Notifier, ShopReads, ShopSettingsReader
from application.use_cases.seller import MANUAL_ORDER_ALERT, manual_order_alert
from application.use_cases.stock import release_stock, take_stock
from domain.errors import OutOfStock
from domain.money import ZERO, Rupiah
from domain.order import Order, OrderKind, OrderStatus, PaymentMethod
from domain.product import Fulfilment
from domain.settings import ShopSettings
from domain.payment_rules import WAITING, Action, ProviderStatus, Rule, rule_for

log = logging.getLogger("tokowa.payments")

class Outcome(str, enum.Enum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    UNKNOWN_ORDER = "unknown_order"
    MISMATCH = "mismatch"
    LATE_CREDITED = "late_credited"
    REVERSED = "reversed"


@dataclass(frozen=True)
class _AlertDue:
    key: str
    params: dict[str, object]
    about: str | None = None  # the alert's subject when it is not the order id
    owed: Rupiah | None = None  # money that needs an admin's action


@dataclass
class _Effects:
    outcome: Outcome = Outcome.UNCHANGED
    messages: list[tuple[str, Reply]] = field(default_factory=list)
    alerts: list[_AlertDue] = field(default_factory=list)
    touched_products: list[str] = field(default_factory=list)

    def alert(self, key: str, *, about: str | None = None, owed: Rupiah | None = None, **params: object) -> None:
        self.alerts.append(_AlertDue(key, params, about, owed))


class ApplyPaymentStatus:
    """Carry out what the payment table (`domain/payment_rules.py`) says for the provider's
    confirmed status and the order, exactly once, in one transaction under the order's row lock.

    Customer messages and admin alerts are queued in that same transaction. A repeat finds the
    order already moved and its cell says NOTHING: nothing changes, nothing is sent. Money for an
    order Tokowa does not know is recorded as an alert that needs an admin's action.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, reads: ShopReads, settings: ShopSettingsReader,
                 notifier: Notifier, clock: Clock, recheck: RecheckPolicy | None = None) -> None:
        self._uow_factory, self._reads, self._settings = uow_factory, reads, settings
        self._notifier, self._clock = notifier, clock
        self._recheck = recheck or RecheckPolicy()

    async def __call__(self, status: PaymentStatus, *, trusted_amount: bool = False, local: bool = False) -> Outcome:
        """`local`: Tokowa's own decision (expiry), not the provider's report: it applies only
        to an order still PENDING, so it can never reverse a payment another worker applied."""
        shop = await self._settings.get()
        effects = _Effects()
        async with self._uow_factory() as uow:
            order = await uow.orders.get(status.order_id, for_update=True)
            if order is None:
                effects.outcome = Outcome.UNKNOWN_ORDER
                effects.alert("alert.unknown_order", order_id=status.order_id, state=status.state.value,
                              amount=status.gross_amount,
                              owed=status.gross_amount if status.state.money_received else None)
            elif local and order.status is not OrderStatus.PENDING:
                log.info("local decision for a settled order dropped", extra={"order_id": order.id})
            else:
                amount_ok = trusted_amount or (status.gross_amount == order.total and status.currency == "IDR")
                rule = rule_for(status.state, order, amount_matches=amount_ok)
                customer = await uow.customers.get(order.user_id)
                lang = customer.language if customer is not None and customer.language else shop.language
                await _Transition(uow, order, status, effects, self._clock, lang, shop,
                                  self._recheck).apply(rule)
            queued = await self._queue(uow, effects)
            await uow.commit()
        await self._publish(effects, queued)
        return effects.outcome

    async def _queue(self, uow: UnitOfWork, effects: _Effects) -> list[QueuedMessage]:
        queued = []
        for user_id, reply in effects.messages:
            queued += await self._notifier.tell(uow, user_id, reply)
        for due in effects.alerts:
            queued += await self._notifier.queue_alert(uow, due.key, about=due.about, owed=due.owed, **due.params)
        return queued

    async def _publish(self, effects: _Effects, queued: list[QueuedMessage]) -> None:
        """After the commit: nothing here may turn the committed change into a failure."""
        try:
            if effects.touched_products:
                await self._reads.forget_products(*effects.touched_products)
            for user_id, _ in effects.messages:
                await self._reads.forget_balance(user_id)
        except Exception:  # caches expire by themselves; the change is committed
            log.exception("cache invalidation after a payment failed")
        await self._notifier.deliver(queued)


@dataclass(frozen=True)
class RecheckPolicy:
    """How long and how often a given-up link order is asked about again: a payment whose
    notification never came (or that Midtrans stopped retrying) is still found. The delay grows
    with the order's age, from `first` to `longest`; after `window` it stops."""

    window: timedelta = timedelta(days=7)
    first: timedelta = timedelta(minutes=10)
    longest: timedelta = timedelta(hours=6)

    def next_check(self, order: Order, now: datetime) -> datetime | None:
        if order.method is not PaymentMethod.MIDTRANS or order.paid_at is not None:
            return None
        if order.status not in (OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.FAILED):
            return None
        age = now - order.created_at
        if age >= self.window:
            return None
        return now + min(max(age / 4, self.first), self.longest)


class _Transition:
    """One cell of the payment table carried out for a known order, inside its unit of work."""

    def __init__(self, uow: UnitOfWork, order: Order, status: PaymentStatus, effects: _Effects, clock: Clock,
                 lang: str, settings: ShopSettings, recheck: RecheckPolicy) -> None:
        self.uow, self.order, self.status, self.effects = uow, order, status, effects
        self.now, self.lang, self.shop, self.recheck = clock.now(), lang, settings.shop_name, recheck
        self.settings = settings

    async def apply(self, rule: Rule) -> None:
        order = self.order
        if rule.action is Action.NOTHING:
            log.info("payment event changes nothing", extra={
                "order_id": order.id, "status": order.status.value, "provider_status": self.status.state.value})
            return
        if rule.action is Action.REVIEW:
            self.effects.alert("alert.payment_review", order_id=order.id)
            return
        if rule.action is Action.RECORD:
            amount = self.status.reversed_amount
            self.effects.alert("alert.payment_needs_action", order_id=order.id, state=self.status.state.value,
                               amount=amount if amount is not None else "?",
                               about=f"{order.id}:{self.status.state.value}:{amount}", owed=amount or ZERO)
            return
        if rule.action is Action.FULFIL:
            order.move_to(OrderStatus.PAID, self.now)
            await self._deliver()
        elif rule.action is Action.GIVE_UP:
            assert rule.target is not None
            order.move_to(rule.target, self.now)
            await self._give_up(rule.target)
        elif rule.action is Action.LATE_PAYMENT:
            await self._late_payment()
        elif rule.action is Action.CREDIT_MISMATCH:
            await self._credit_mismatch()
        elif not await self._reverse(rule):
            return
        order.recheck_at = self.recheck.next_check(order, self.now)
        await self.uow.orders.save(order)
        if self.effects.outcome is Outcome.UNCHANGED:
            self.effects.outcome = Outcome.CHANGED

    async def _deliver(self) -> None:
        order = self.order
        if order.kind is OrderKind.TOPUP:
            wallet = await self.uow.wallets.get(order.user_id, for_update=True)
            wallet.credit(order.total, "topup", order.id, self.now)
            await self.uow.wallets.save(wallet)
            self.effects.messages.append((order.user_id, render.topup_paid(order, wallet.balance, self.lang)))
            return
        if order.fulfilment is Fulfilment.MANUAL:
            # Paid, and now the seller's turn: the buyer is told it is on its way, every admin gets it.
            order.await_seller(self.now + timedelta(minutes=self.settings.manual_reminder_minutes))
            product = await self.uow.products.get(order.product_code or "")
            self.effects.messages.append((order.user_id, render.waiting_seller(order, product, self.lang)))
            self.effects.alert(MANUAL_ORDER_ALERT, **manual_order_alert(order))
            return
        product = await self.uow.products.get(order.product_code or "")
        items = await self.uow.products.items_of_order(order.id)
        self.effects.messages.append((order.user_id, render.delivery(order, product, items, self.lang, self.shop)))

    async def _give_up(self, target: OrderStatus) -> None:
        order = self.order
        await release_stock(self.uow, order)
        self._touch()
        if target is not OrderStatus.CANCELLED:
            key = "order.failed" if target is OrderStatus.FAILED else "order.expired"
            self.effects.messages.append((order.user_id, Reply(render.text(key, self.lang, order_id=order.id))))

    async def _late_payment(self) -> None:
        order = self.order
        if order.kind is OrderKind.PURCHASE:
            # Locks in the order every use case takes them: wallet (it may be credited) before product.
            await self.uow.wallets.get(order.user_id, for_update=True)
            try:
                product = await self.uow.products.get(order.product_code or "", for_update=True)
                if product is None:
                    raise OutOfStock(code=order.product_code, asked=order.qty, left=0)
                threshold = self.settings.low_stock_threshold
                was_low = product.is_low(threshold)
                await take_stock(self.uow, product, order.qty, order.id)
                self._touch()
                if product.is_low(threshold) and not was_low:
                    self.effects.alert("alert.low_stock", about=product.code, code=product.code, name=product.name,
                                       stock=product.stock)
            except OutOfStock:
                await self._credit_instead(order.total, "late_payment")
                self.effects.outcome = Outcome.LATE_CREDITED
                self.effects.messages.append((order.user_id, Reply(render.text(
                    "late.credited", self.lang, order_id=order.id, amount=order.total, balance=self._balance))))
                self.effects.alert("alert.late_credited", order_id=order.id, amount=order.total, user=order.user_id)
                return
        order.settle_late(self.now)
        await self._deliver()
        self.effects.alert("alert.late_paid", order_id=order.id)

    async def _credit_mismatch(self) -> None:
        """A payment in another amount (or currency) than the order's: never delivered against.
        Rupiah received go to saldo; anything else waits for an admin. The order is given up."""
        order, status = self.order, self.status
        was_pending = order.status is OrderStatus.PENDING
        self.effects.outcome = Outcome.MISMATCH
        if status.currency != "IDR" or status.gross_amount.value <= 0:
            if was_pending:
                order.move_to(OrderStatus.FAILED, self.now)
                await self._give_up(OrderStatus.FAILED)
            self.effects.alert("alert.payment_needs_action", order_id=order.id, state=status.state.value,
                               amount=f"{status.gross_amount.value} {status.currency}",
                               owed=status.gross_amount)
            return
        await self._credit_instead(status.gross_amount, "payment_mismatch")
        if was_pending:
            await release_stock(self.uow, order)
            self._touch()
        self.effects.messages.append((order.user_id, Reply(render.text(
            "payment.mismatch_credited", self.lang, order_id=order.id, amount=status.gross_amount,
            total=order.total, balance=self._balance))))
        self.effects.alert("alert.amount_mismatch", order_id=order.id, paid=status.gross_amount, total=order.total)

    async def _credit_instead(self, amount: Rupiah, reason: str) -> None:
        order = self.order
        await self.uow.customers.ensure(order.user_id, self.now)
        wallet = await self.uow.wallets.get(order.user_id, for_update=True)
        wallet.credit(amount, reason, order.id, self.now)
        await self.uow.wallets.save(wallet)
        order.credit_instead(amount, self.now)
        self._balance = wallet.balance

    async def _reverse(self, rule: Rule) -> bool:
        """Money taken back by the provider: a saldo credit is taken back up to the balance (the
        rest is a shortfall admins see); delivered goods cannot be, so admins are told."""
        order, status = self.order, self.status
        kind = status.state.reversal or "cancel"
        if rule.partial and status.reversed_amount is None:
            self.effects.alert("alert.payment_needs_action", order_id=order.id, state=status.state.value, amount="?",
                               about=f"{order.id}:{status.state.value}", owed=ZERO)
            return False
        cumulative = status.reversed_amount if status.reversed_amount is not None else order.money_in
        if not rule.partial:
            cumulative = max(cumulative, order.money_in)  # a full reversal takes back everything
        delta = order.reverse(cumulative, kind, self.now)
        if delta.value == 0:
            log.info("reversal already applied", extra={"order_id": order.id})
            return False
        self.effects.outcome = Outcome.REVERSED
        if rule.action is Action.FLAG_DELIVERED:
            self.effects.alert("alert.reversed_after_delivery", order_id=order.id, amount=delta, kind=kind,
                               user=order.user_id, about=f"{order.id}:{order.reversed_amount.value}", owed=delta)
            key = "order.refunded" if kind == "refund" else "order.reversed"
            self.effects.messages.append((order.user_id, Reply(render.text(key, self.lang, order_id=order.id, amount=delta))))
            return True
        wallet = await self.uow.wallets.get(order.user_id, for_update=True)
        taken = min(delta, wallet.balance)
        if taken.value > 0:
            wallet.debit(taken, "reversal", f"{order.id}:{order.reversed_amount.value}", self.now)
            await self.uow.wallets.save(wallet)
        short = delta - taken
        if short.value > 0:
            order.record_shortfall(short)
        self.effects.messages.append((order.user_id, Reply(render.text(
            "order.reversed_credit", self.lang, order_id=order.id, amount=delta, taken=taken, balance=wallet.balance))))
        self.effects.alert("alert.reversed_credit", order_id=order.id, amount=delta, taken=taken, short=short,
                           kind=kind, user=order.user_id, about=f"{order.id}:{order.reversed_amount.value}",
                           owed=short if short.value > 0 else None)
        return True

    _balance: Rupiah = ZERO

    def _touch(self) -> None:
        if self.order.product_code:
            self.effects.touched_products.append(self.order.product_code)


class ExpireStaleOrders:
    """The periodic job: PENDING orders past their expiry plus the grace period, then given-up
    link orders due for another look.

    - Expiry never guesses: the provider is asked first. What it confirms is applied (a payment
      whose notification never came is delivered); an order it does not know, or still waiting
      there, expires locally and its stock returns. When the provider cannot be asked (status
      API unreachable) the order stays PENDING and is tried again next round. Without a payment
      provider configured nobody can have paid, and the order expires.
    - Given-up link orders (EXPIRED, CANCELLED, FAILED) are asked about again for 7 days, at a
      bounded rate (`recheck_limit` per round, each order less often as it ages): a payment
      Midtrans stopped notifying about is still found and goes through the payment table.
    - Each order in its own unit of work, under its row lock, so several instances can run it.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, gateway: PaymentGateway, settings: ShopSettingsReader,
                 apply: ApplyPaymentStatus, clock: Clock, recheck: RecheckPolicy | None = None,
                 recheck_limit: int = 20) -> None:
        self._uow_factory, self._gateway, self._settings, self._apply, self._clock = uow_factory, gateway, settings, apply, clock
        self._recheck, self._recheck_limit = recheck or RecheckPolicy(), recheck_limit

    async def __call__(self) -> int:
        shop = await self._settings.get()
        now = self._clock.now()
        cutoff = now - timedelta(minutes=shop.expiry_grace_minutes)
        async with self._uow_factory() as uow:
            stale = await uow.orders.pending_expiring_before(cutoff)
            due = await uow.orders.due_for_recheck(now, self._recheck_limit) if self._gateway.available else []
        changed = 0
        for order in stale:
            try:
                changed += await self._settle(order) is not Outcome.UNCHANGED
            except Exception:  # one bad order must not hold up the others
                log.exception("expiring a stale order failed", extra={"order_id": order.id})
        for order in due:
            try:
                changed += await self._look_again(order) is not Outcome.UNCHANGED
            except Exception:
                log.exception("re-checking an order failed", extra={"order_id": order.id})
        return changed

    async def _settle(self, order: Order) -> Outcome:
        if not self._gateway.available:
            return await self._expire(order)
        try:
            status = await self._gateway.status(order.id)
        except PaymentProviderUnavailable:
            log.warning("order not expired: its payment status could not be confirmed", extra={"order_id": order.id})
            return Outcome.UNCHANGED
        if status is None or status.state in WAITING or status.state is ProviderStatus.CAPTURE_CHALLENGE:
            return await self._expire(order)
        outcome = await self._apply(status)
        if outcome is Outcome.UNCHANGED:
            return await self._expire(order)  # e.g. a partial refund of a payment never seen: still expires
        return outcome

    async def _expire(self, order: Order) -> Outcome:
        return await self._apply(PaymentStatus(order.id, ProviderStatus.EXPIRE, order.total), trusted_amount=True,
                                 local=True)

    async def _look_again(self, order: Order) -> Outcome:
        try:
            status = await self._gateway.status(order.id)
        except PaymentProviderUnavailable:
            return Outcome.UNCHANGED  # its recheck time stays: next round
        outcome = Outcome.UNCHANGED
        if status is not None and status.state not in WAITING:
            outcome = await self._apply(status)
        async with self._uow_factory() as uow:
            current = await uow.orders.get(order.id, for_update=True)
            if current is not None and current.recheck_at is not None and current.recheck_at <= self._clock.now():
                current.recheck_at = self._recheck.next_check(current, self._clock.now())
                await uow.orders.save(current)
                await uow.commit()
        return outcome
