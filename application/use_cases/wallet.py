"""Top-ups through a payment link or a QRIS code, and balance adjustments by admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.ports import Clock, LineItem, PaymentGateway, PaymentLink, PaymentRequest, UnitOfWorkFactory
from application.services import ShopReads, ShopSettingsReader
from application.use_cases.shopping import (
    MethodChoice, add_new_order, channel_for, refuse_second_pending, relink, request_payment_link,
)
from domain.errors import DepositOutOfRange, DomainError, DuplicateLedgerReference, MessageTooOld, PaymentUnavailable
from domain.money import Rupiah
from domain.order import Order, earlier_order_ids, new_order_id
from domain.phone import normalize_msisdn
from domain.wallet import LedgerEntry


@dataclass(frozen=True)
class DepositCommand:
    user_id: str
    amount: int
    request_id: str | None = None
    rerun: bool = False  # the same request may have run before (a worker died): look for its order
    method: MethodChoice = MethodChoice.AUTO  # link, qris, or the shop's payment_method
    too_late: bool = False  # create nothing: return an earlier run's order, else raise MessageTooOld


@dataclass(frozen=True)
class TopUp:
    order: Order
    link: PaymentLink


class Deposit:
    """Top up the wallet through a payment link or a QRIS code (named, else the shop's
    `payment_method`).

    - The amount lies within the shop's deposit_min..deposit_max.
    - A top-up is a PENDING order like a link purchase (one PENDING order per customer); the
      wallet is credited only when the payment is confirmed.
    - The same request (message id) twice makes one top-up order.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, settings: ShopSettingsReader,
                 gateway: PaymentGateway, clock: Clock) -> None:
        self._uow_factory, self._settings, self._gateway, self._clock = uow_factory, settings, gateway, clock

    async def __call__(self, cmd: DepositCommand) -> TopUp:
        shop = await self._settings.get()
        if not shop.deposit_min <= cmd.amount <= shop.deposit_max:
            raise DepositOutOfRange(min=shop.deposit_min, max=shop.deposit_max)
        if not self._gateway.available:
            raise PaymentUnavailable(reason="disabled")
        now = self._clock.now()
        amount = Rupiah.positive(cmd.amount)
        order = Order.topup(new_order_id(now, cmd.request_id), cmd.user_id, amount, now,
                            now + timedelta(minutes=shop.payment_expiry_minutes))
        order.channel = channel_for(cmd.method, shop)
        async with self._uow_factory() as uow:
            earlier = None
            for candidate in earlier_order_ids(now, cmd.request_id) if cmd.request_id and (cmd.rerun or cmd.too_late) else ():
                earlier = earlier or await uow.orders.get(candidate)
            if cmd.too_late and (earlier is None or earlier.user_id != cmd.user_id):
                raise MessageTooOld()
            if earlier is None or earlier.user_id != cmd.user_id:
                await uow.customers.ensure(cmd.user_id, now)
                await refuse_second_pending(uow, cmd.user_id)
                order = await add_new_order(uow, order, drawn=not cmd.request_id)
                await uow.commit()
        if earlier is not None and earlier.user_id == cmd.user_id:
            if earlier.payment_url or earlier.qr_string:
                return TopUp(earlier, PaymentLink(earlier.payment_url or "", qr_string=earlier.qr_string))
            order = earlier  # the first run died between committing the order and getting its link
            amount, now = order.total, order.created_at
        request = PaymentRequest(order.id, amount, (LineItem("TOPUP", "Top-up saldo", amount, 1),),
                                 cmd.user_id, now, shop.payment_expiry_minutes)
        link = await relink(order, lambda: request_payment_link(self._uow_factory, self._gateway, self._clock, order, request))
        return TopUp(order, link)


@dataclass(frozen=True)
class AdjustBalanceCommand:
    number: str
    amount: int
    credit: bool
    idempotency_key: str | None = None
    too_late: bool = False  # change nothing: return the entry an earlier run made, else raise MessageTooOld


@dataclass(frozen=True)
class BalanceAdjusted:
    user_id: str
    entry: LedgerEntry
    new_customer: bool
    repeated: bool = False


class AdjustBalance:
    """An admin adds to or takes from a customer's balance (`.addsaldo` / `.kurangsaldo`).

    - The number is normalised to the wa_id; a number that never chatted becomes a customer.
    - Taking more than the balance is refused, never clamped.
    - With an idempotency key, a repeated request changes nothing and returns the first entry.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, reads: ShopReads, clock: Clock) -> None:
        self._uow_factory, self._reads, self._clock = uow_factory, reads, clock

    async def __call__(self, cmd: AdjustBalanceCommand) -> BalanceAdjusted:
        user_id = normalize_msisdn(cmd.number)
        amount = Rupiah.positive(cmd.amount)
        reason = "admin_credit" if cmd.credit else "admin_debit"
        now = self._clock.now()
        if cmd.too_late:
            return await self._first(user_id, reason, cmd.idempotency_key, MessageTooOld())
        try:
            async with self._uow_factory() as uow:
                created = await uow.customers.ensure(user_id, now)
                wallet = await uow.wallets.get(user_id, for_update=True)
                change = wallet.credit if cmd.credit else wallet.debit
                entry = change(amount, reason, cmd.idempotency_key, now)
                await uow.wallets.save(wallet)
                await uow.commit()
        except DuplicateLedgerReference:
            return await self._first(user_id, reason, cmd.idempotency_key)
        await self._reads.forget_balance(user_id)
        return BalanceAdjusted(user_id, entry, created)

    async def _first(self, user_id: str, reason: str, key: str | None,
                     missing: DomainError | None = None) -> BalanceAdjusted:
        async with self._uow_factory() as uow:
            for entry in await uow.wallets.ledger(user_id, limit=1000) if key is not None else ():
                if entry.reason == reason and entry.reference == key:
                    return BalanceAdjusted(user_id, entry, False, repeated=True)
        raise missing or DuplicateLedgerReference(reason=reason, reference=key)
