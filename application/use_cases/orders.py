"""A customer's own orders: history, status, cancel and resend."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import PaymentProviderUnavailable
from application.ports import Clock, OrderRepository, PaymentGateway, UnitOfWorkFactory
from application.services import ShopReads
from application.use_cases.payments import RecheckPolicy
from application.use_cases.stock import release_stock
from domain.errors import AwaitingSeller, IllegalTransition, NoPendingOrder, NothingToResend, OrderNotFound
from domain.order import Order, OrderKind, OrderStatus
from domain.product import Product


class History:
    """The customer's last 10 orders and top-ups, newest first."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, user_id: str) -> list[Order]:
        async with self._uow_factory() as uow:
            return await uow.orders.recent_of(user_id, 10)


class OrderStatusQuery:
    """One of the customer's own orders, never cached; another user's order reads as not found."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, user_id: str, order_id: str) -> Order:
        async with self._uow_factory() as uow:
            order = await uow.orders.get(order_id.upper())
        if order is None or order.user_id != user_id:
            raise OrderNotFound(order_id=order_id)
        return order


class Cancel:
    """Cancel the customer's PENDING order (the given one, or their only pending one).

    - Reserved stock returns at once, in the same transaction as the status change.
    - The payment is cancelled at the provider too, after the commit; if the customer paid in
      the meantime, the late-payment rule of the payment notification takes over.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, gateway: PaymentGateway, reads: ShopReads, clock: Clock) -> None:
        self._uow_factory, self._gateway, self._reads, self._clock = uow_factory, gateway, reads, clock

    async def __call__(self, user_id: str, order_id: str | None = None) -> Order:
        async with self._uow_factory() as uow:
            order = await self._find(uow.orders, user_id, order_id)
            if order.status is not OrderStatus.PENDING:
                raise IllegalTransition(order_id=order.id, current=order.status.value, target="CANCELLED")
            order.move_to(OrderStatus.CANCELLED, self._clock.now())
            # A payment may still be under way at Midtrans: the order is asked about again.
            order.recheck_at = RecheckPolicy().next_check(order, self._clock.now())
            await release_stock(uow, order)
            await uow.orders.save(order)
            await uow.commit()
        if order.product_code:
            await self._reads.forget_products(order.product_code)
        if self._gateway.available:
            try:
                await self._gateway.cancel(order.id)
            except PaymentProviderUnavailable:
                pass  # the local cancel stands; a payment that still arrives is a late payment
        return order

    @staticmethod
    async def _find(repo: OrderRepository, user_id: str, order_id: str | None) -> Order:
        if order_id is None:
            pending = await repo.pending_of(user_id)
            if pending is None:
                raise NoPendingOrder(user_id=user_id)
            order_id = pending.id
        order = await repo.get(order_id.upper(), for_update=True)
        if order is None or order.user_id != user_id:
            raise OrderNotFound(order_id=order_id)
        return order


@dataclass(frozen=True)
class Delivery:
    order: Order
    product: Product | None
    items: list[str]


class Resend:
    """Send the goods of a paid purchase again: the same items, never new ones."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, user_id: str, order_id: str | None = None) -> Delivery:
        async with self._uow_factory() as uow:
            if order_id is None:
                order = await uow.orders.last_paid_purchase_of(user_id)
                if order is None:
                    raise NothingToResend(user_id=user_id)
            else:
                found = await uow.orders.get(order_id.upper())
                if found is None or found.user_id != user_id:
                    raise OrderNotFound(order_id=order_id)
                order = found
            if order.status is not OrderStatus.PAID or order.kind is not OrderKind.PURCHASE:
                raise NothingToResend(order_id=order.id)
            if order.waits_for_seller:
                raise AwaitingSeller(order_id=order.id)
            product = await uow.products.get(order.product_code or "")
            items = await uow.products.items_of_order(order.id)
        return Delivery(order, product, items)
