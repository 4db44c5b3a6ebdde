"""Buying: with saldo at once, or with a payment link or QRIS code that reserves the stock."""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from application.errors import DuplicateOrderId, PaymentProviderUnavailable, StorageUnavailable
from application.ports import (
    Clock, LineItem, PaymentGateway, PaymentLink, PaymentRequest, QueuedMessage, UnitOfWork, UnitOfWorkFactory,
)
from application.services import Notifier, ShopReads, ShopSettingsReader
from application.use_cases.seller import MANUAL_ORDER_ALERT, manual_order_alert
from application.use_cases.stock import release_stock, take_for_sale
from domain.errors import (
    InsufficientBalance, InvalidQuantity, MessageTooOld, PaymentUnavailable, PendingOrderExists, ProductNotFound,
    RepeatPurchase,
)
from domain.money import Rupiah
from domain.order import Order, OrderKind, OrderStatus, PaymentChannel, PaymentMethod, earlier_order_ids, new_order_id
from domain.product import Product, Tier
from domain.settings import ShopSettings


log = logging.getLogger("tokowa.shopping")


class MethodChoice(str, enum.Enum):
    AUTO = "auto"
    SALDO = "saldo"
    LINK = "link"
    QRIS = "qris"


def channel_for(choice: MethodChoice, shop: ShopSettings) -> PaymentChannel:
    """The Midtrans channel of a choice: the named one, else the shop's `payment_method`."""
    if choice is MethodChoice.QRIS or (choice is MethodChoice.AUTO and shop.payment_method == "qris"):
        return PaymentChannel.QRIS
    return PaymentChannel.LINK


@dataclass(frozen=True)
class BuyCommand:
    user_id: str
    code: str
    qty: int = 1
    method: MethodChoice = MethodChoice.AUTO
    request_id: str | None = None
    rerun: bool = False  # the same request may have run before (a worker died): look for its order
    tier: Tier | None = None  # the customer's tier when the caller has just read it (else read here)
    confirmed: bool = False  # the customer said yes to buying again what they bought a moment ago
    too_late: bool = False  # create nothing: return an earlier run's order, else raise MessageTooOld


@dataclass(frozen=True)
class Purchase:
    order: Order
    product: Product
    items: list[str]
    balance: Rupiah | None = None
    link: PaymentLink | None = None
    low_stock: bool = False


@dataclass(frozen=True)
class Quote:
    product: Product
    qty: int
    total: Rupiah
    by_saldo: bool
    balance_after: Rupiah


class Buy:
    """Buy a product.

    - Quantity 1..max_qty; the unit price is the customer's tier price, captured now.
    - Method: an explicit `saldo` must be covered by the balance (refused, never turned into
      a link); `link` always makes a payment link and `qris` a QRIS code; by default saldo when
      the balance covers the total, else the shop's `payment_method` (when Midtrans is on).
    - Saldo: debit, take stock and a PAID order in one transaction; the goods come at once.
    - Link or QRIS: stock reserved and the PENDING order written before the provider is called;
      a failed call releases the stock (the order becomes FAILED) and asks to retry.
    - The same request (message id) twice buys once: the second run returns the first's order.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, reads: ShopReads, settings: ShopSettingsReader,
                 gateway: PaymentGateway, notifier: Notifier, clock: Clock) -> None:
        self._uow_factory, self._reads, self._settings = uow_factory, reads, settings
        self._gateway, self._notifier, self._clock = gateway, notifier, clock

    async def __call__(self, cmd: BuyCommand) -> Purchase:
        shop = await self._settings.get()
        if not 1 <= cmd.qty <= shop.max_qty:
            raise InvalidQuantity(qty=cmd.qty, max=shop.max_qty)
        tier = cmd.tier if cmd.tier is not None else await self._reads.tier(cmd.user_id)
        now = self._clock.now()
        queued: list[QueuedMessage] = []
        for attempt in range(2):
            try:
                async with self._uow_factory() as uow:
                    order_id = new_order_id(now, cmd.request_id)
                    earlier = None
                    for candidate in (earlier_order_ids(now, cmd.request_id)
                                      if cmd.request_id and (cmd.rerun or cmd.too_late) else ()):
                        earlier = earlier or await self._earlier_run(uow, candidate, cmd.user_id)
                    if earlier is None and cmd.too_late:
                        raise MessageTooOld()
                    if earlier is None:
                        purchase, was_low = await self._sell(uow, cmd, tier, shop, order_id)
                        product = purchase.product
                        low = product.is_low(shop.low_stock_threshold) and not was_low
                        if low:  # told in the sale's own transaction: nothing after the commit can fail it
                            queued = await self._notifier.queue_alert(
                                uow, "alert.low_stock", about=product.code, code=product.code, name=product.name,
                                stock=product.stock)
                        if purchase.order.waits_for_seller:  # paid from saldo: the seller's turn, told at once
                            queued += await self._notifier.queue_alert(uow, MANUAL_ORDER_ALERT,
                                                                       **manual_order_alert(purchase.order))
                        await uow.commit()
                break
            except DuplicateOrderId:
                # The same request ran at the same moment elsewhere (two taps on "ya") and its order
                # was committed first: look again, and answer with that order.
                if attempt or not cmd.request_id:
                    raise
                cmd = replace(cmd, rerun=True)
        if earlier is not None:
            if earlier.link is None or earlier.link.url or earlier.link.qr_string:
                return earlier
            # The first run died between committing the order and getting its link.
            return replace(earlier, link=await relink(earlier.order, lambda: self._request_link(earlier.order, earlier.product)))
        # Committed: from here on nothing may turn the sale into a failure for the customer.
        order = purchase.order
        paid = order.method is PaymentMethod.SALDO
        # Paid with saldo and nothing to send now: the chat pipeline may drop these caches with
        # its lock's release (one Redis round trip for both), still before the reply is queued.
        await self._reads.forget_products(product.code, balance_of=cmd.user_id if paid else None,
                                          soon=paid and not queued)
        await self._notifier.deliver(queued)
        if paid:
            return replace(purchase, low_stock=low)
        return replace(purchase, link=await self._request_link(order, product), low_stock=low)

    async def quote(self, cmd: BuyCommand) -> Quote:
        """What `cmd` would do now, changing nothing: the customer's price, how it would be
        paid and the saldo after (refused with the same errors the purchase would give)."""
        shop = await self._settings.get()
        if not 1 <= cmd.qty <= shop.max_qty:
            raise InvalidQuantity(qty=cmd.qty, max=shop.max_qty)
        tier = cmd.tier if cmd.tier is not None else await self._reads.tier(cmd.user_id)
        async with self._uow_factory() as uow:
            wallet = await uow.wallets.get(cmd.user_id)
            offer = await uow.products.get(cmd.code)
        if offer is None or not offer.active:
            raise ProductNotFound(code=cmd.code)
        offer.take(cmd.qty)
        total = offer.price_for(tier) * cmd.qty
        method = self._choose(cmd.method, wallet.covers(total), total, wallet.balance)
        by_saldo = method is PaymentMethod.SALDO
        return Quote(offer, cmd.qty, total, by_saldo, wallet.balance - total if by_saldo else wallet.balance)

    async def _sell(self, uow: UnitOfWork, cmd: BuyCommand, tier: Tier, shop: ShopSettings,
                    order_id: str) -> tuple[Purchase, bool]:
        """Locks in one order everywhere (wallet, then product) and the busy product row last,
        so its lock is held only while the stock is taken and the transaction commits."""
        now = self._clock.now()
        wallet, offer = await uow.wallets.get_for_purchase(cmd.user_id, cmd.code)
        if offer is None or not offer.active:
            raise ProductNotFound(code=cmd.code)
        offer.take(cmd.qty)  # refuse early on what the row says now; the locked re-read below decides
        unit_price = offer.price_for(tier)
        total = unit_price * cmd.qty
        method = self._choose(cmd.method, wallet.covers(total), total, wallet.balance)
        expires = now + timedelta(minutes=shop.payment_expiry_minutes)
        order = Order.purchase(order_id, cmd.user_id, offer.code, offer.name, cmd.qty, unit_price, method, now,
                               None if method is PaymentMethod.SALDO else expires, offer.fulfilment)
        order.await_seller(now + timedelta(minutes=shop.manual_reminder_minutes))
        if method is PaymentMethod.MIDTRANS:
            order.channel = channel_for(cmd.method, shop)
            # The customer row is needed for a later credit; a saldo purchase had a balance, so a row.
            await uow.customers.ensure(cmd.user_id, now)
            await refuse_second_pending(uow, cmd.user_id)  # names the waiting order: pay it or cancel it
        if not cmd.confirmed:
            await refuse_repeat(uow, cmd.user_id, offer.code, cmd.qty, now)
        if not cmd.request_id:  # an id drawn at random that clashes is drawn again: that needs the answer at once
            order = await add_new_order(uow, order, drawn=True)
        # Nothing below reads the writes' answers before the stock is taken: on PostgreSQL the order
        # and the ledger entry go with the stock take, one round trip, and fail with the same errors.
        async with uow.batched():
            if cmd.request_id:
                order = await add_new_order(uow, order, drawn=False)
            if method is PaymentMethod.SALDO:
                wallet.debit(order.total, "purchase", order.id, now)
                await uow.wallets.save(wallet)
            product, items, was_low = await take_for_sale(uow, offer, cmd.qty, order.id, shop.low_stock_threshold)
        balance = wallet.balance if method is PaymentMethod.SALDO else None
        return Purchase(order, product, items, balance=balance), was_low

    @staticmethod
    async def _earlier_run(uow: UnitOfWork, order_id: str, user_id: str) -> Purchase | None:
        order = await uow.orders.get(order_id)
        if order is None or order.user_id != user_id:
            return None
        product = await uow.products.get(order.product_code or "")
        items = await uow.products.items_of_order(order.id)
        wallet = await uow.wallets.get(user_id)
        assert product is not None
        if order.method is PaymentMethod.SALDO:
            return Purchase(order, product, items, balance=wallet.balance)
        return Purchase(order, product, [], link=PaymentLink(order.payment_url or "", qr_string=order.qr_string))

    def _choose(self, choice: MethodChoice, covered: bool, total: Rupiah, balance: Rupiah) -> PaymentMethod:
        if choice is MethodChoice.SALDO or (choice is MethodChoice.AUTO and (covered or not self._gateway.available)):
            if not covered:
                raise InsufficientBalance(balance=balance.value, needed=total.value, offer=True)
            return PaymentMethod.SALDO
        if not self._gateway.available:
            raise PaymentUnavailable(reason="disabled")
        return PaymentMethod.MIDTRANS

    async def _request_link(self, order: Order, product: Product) -> PaymentLink:
        shop = await self._settings.get()
        item = LineItem(product.code, product.name, order.unit_price, order.qty)
        request = PaymentRequest(order.id, order.total, (item,), order.user_id, order.created_at, shop.payment_expiry_minutes)
        return await request_payment_link(self._uow_factory, self._gateway, self._clock, order, request)


_REDRAWS = 3


async def add_new_order(uow: UnitOfWork, order: Order, *, drawn: bool) -> Order:
    """Store a new order and return it as stored. An id drawn at random (`drawn`) that another
    order has already is drawn again; a derived id is kept, since a re-run must find it."""
    for _ in range(_REDRAWS):
        try:
            await uow.orders.add(order)
            return order
        except DuplicateOrderId:
            if not drawn:
                raise
            order = replace(order, id=new_order_id(order.created_at))
    await uow.orders.add(order)
    return order


REPEAT_WINDOW = timedelta(seconds=60)


async def refuse_repeat(uow: UnitOfWork, user_id: str, code: str, qty: int, now: datetime) -> None:
    """A double tap: the same product and quantity bought (or its link given) in the last
    minute is not bought again without a yes. The wallet row is locked by then, so two taps
    at once are decided one after the other."""
    for order in await uow.orders.recent_brief_of(user_id, 3):
        if (order.kind is OrderKind.PURCHASE and order.product_code == code and order.qty == qty
                and order.status in (OrderStatus.PAID, OrderStatus.PENDING) and now - order.created_at < REPEAT_WINDOW):
            raise RepeatPurchase(order_id=order.id, code=code, qty=qty)


async def refuse_second_pending(uow: UnitOfWork, user_id: str) -> None:
    """Name the order in the way; the database's unique index is what really guarantees it."""
    pending = await uow.orders.pending_of(user_id)
    if pending is not None:
        raise PendingOrderExists(order_id=pending.id)


async def relink(order: Order, request: Callable[[], Awaitable[PaymentLink]]) -> PaymentLink:
    """The link of an order whose first run died before the provider gave one: ask again while
    it is PENDING; a FAILED one (the provider refused it) reads as the provider being down."""
    if order.status is not OrderStatus.PENDING:
        raise PaymentUnavailable(reason="provider", channel=order.channel.value)
    return await request()


async def request_payment_link(uow_factory: UnitOfWorkFactory, gateway: PaymentGateway, clock: Clock,
                               order: Order, request: PaymentRequest) -> PaymentLink:
    """Ask the provider for a link (or a QRIS charge, by the order's channel) for a PENDING order
    already committed; on failure the order becomes FAILED and its stock returns, so the
    customer can simply try again."""
    qris = order.channel is PaymentChannel.QRIS
    try:
        link = await (gateway.charge_qris(request) if qris else gateway.create(request))
    except PaymentProviderUnavailable:
        async with uow_factory() as uow:
            current = await uow.orders.get(order.id, for_update=True)
            if current is not None and current.status is OrderStatus.PENDING:
                current.move_to(OrderStatus.FAILED, clock.now())
                await release_stock(uow, current)
                await uow.orders.save(current)
                await uow.commit()
        raise PaymentUnavailable(reason="provider", channel=order.channel.value) from None
    try:
        async with uow_factory() as uow:
            current = await uow.orders.get(order.id, for_update=True)
            if current is not None:
                current.payment_url, current.qr_string = link.url or None, link.qr_string
                await uow.orders.save(current)
                await uow.commit()
    except StorageUnavailable:
        # The order is committed and the provider made its link: the customer gets it now. A
        # re-run of the message (or `.status`) asks the provider again for the stored order.
        log.error("payment link not saved on its order", extra={"order_id": order.id})
    order.payment_url, order.qr_string = link.url or None, link.qr_string
    return link
