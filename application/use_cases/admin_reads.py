"""Read-only queries of the admin API and the dashboard (no business rule changes anything here)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from application.ports import Clock, DeadLetter, StoredText, UnitOfWorkFactory
from application.services import ShopSettingsReader
from domain.errors import DomainError, InvalidPhoneNumber, InvalidProductCode, OrderNotFound, ProductNotFound
from domain.money import ZERO, Rupiah
from domain.order import JAKARTA, Order, OrderKind, OrderStatus
from domain.phone import normalize_msisdn
from domain.product import Product, product_code
from domain.settings import ShopSettings
from domain.wallet import LedgerEntry, Wallet


class CustomerNotFound(DomainError):
    """No customer with that number."""


class ShopQueries:
    """Products, orders and wallets as an admin looks them up."""

    def __init__(self, uow_factory: UnitOfWorkFactory, settings: ShopSettingsReader, clock: Clock) -> None:
        self._uow_factory, self._settings, self._clock = uow_factory, settings, clock

    async def product(self, code: str) -> Product:
        """Any product with the code, active or not; a malformed code is simply not found."""
        try:
            code = product_code(code)
        except InvalidProductCode:
            raise ProductNotFound(code=code) from None
        async with self._uow_factory() as uow:
            product = await uow.products.get(code)
        if product is None:
            raise ProductNotFound(code=code)
        return product

    async def products(self, *, active: bool = True) -> list[Product]:
        """Products on sale, by code; `active=False`: the deactivated ones."""
        async with self._uow_factory() as uow:
            return await (uow.products.list_active() if active else uow.products.list_inactive())

    async def low_stock(self) -> list[Product]:
        """Active products at or below their low-stock threshold (own `minstok` or the shop's)."""
        threshold = (await self._settings.get()).low_stock_threshold
        return [p for p in await self.products() if p.is_low(threshold)]

    async def shop_settings(self) -> ShopSettings:
        return await self._settings.get()

    async def order(self, order_id: str) -> Order:
        async with self._uow_factory() as uow:
            order = await uow.orders.get(order_id.strip().upper())
        if order is None:
            raise OrderNotFound(order_id=order_id)
        return order

    async def conversation(self, number: str, limit: int = 200) -> list[StoredText]:
        """The latest `limit` messages the shop still keeps from and to a number (both ways,
        oldest first; retention deletes old ones): the simulator chat's history."""
        async with self._uow_factory() as uow:
            kept = await uow.housekeeping.messages_of(_number(number), limit=100_000)
        return kept[-limit:]

    async def orders(self, status: OrderStatus | None, user: str | None, limit: int) -> list[Order]:
        """Newest first; with a user, the status filter applies to that user's latest orders."""
        async with self._uow_factory() as uow:
            if user is None:
                return await uow.orders.recent(status, limit)
            found = await uow.orders.recent_of(_number(user), max(limit, 200))
        return [o for o in found if status is None or o.status is status][:limit]

    async def wallet(self, user: str) -> Wallet:
        user_id = _number(user)
        async with self._uow_factory() as uow:
            if await uow.customers.get(user_id) is None:
                raise CustomerNotFound(user_id=user_id)
            return await uow.wallets.get(user_id)

    async def ledger(self, user: str, limit: int) -> list[LedgerEntry]:
        wallet = await self.wallet(user)
        async with self._uow_factory() as uow:
            return await uow.wallets.ledger(wallet.user_id, limit)

    async def dead_letters(self, limit: int) -> list[DeadLetter]:
        """Customer messages given up after too many failed runs, the latest given up first."""
        async with self._uow_factory() as uow:
            return await uow.inbox.dead_letters(limit)


@dataclass(frozen=True)
class DaySales:
    day: date
    orders: int
    revenue: Rupiah


class SalesQueries:
    """Figures of the dashboard, in Asia/Jakarta days."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory, self._clock = uow_factory, clock

    def _midnight(self, days_back: int = 0) -> datetime:
        today = self._clock.now().astimezone(JAKARTA).replace(hour=0, minute=0, second=0, microsecond=0)
        return today - timedelta(days=days_back)

    async def daily(self, days: int) -> list[DaySales]:
        """Paid purchases per day over the last `days` days, oldest first (empty days included)."""
        since, now = self._midnight(days - 1), self._clock.now()
        async with self._uow_factory() as uow:
            paid = await uow.orders.paid_between(since, now + timedelta(seconds=1))
        buckets: dict[date, list[Order]] = {(since + timedelta(days=i)).date(): [] for i in range(days)}
        for order in paid:
            when = (order.paid_at or order.created_at).astimezone(JAKARTA).date()
            if order.kind is OrderKind.PURCHASE and when in buckets:
                buckets[when].append(order)
        return [DaySales(day, len(orders), sum((o.total for o in orders), ZERO)) for day, orders in buckets.items()]

    async def outcomes_today(self, scan: int = 500) -> dict[str, int]:
        """How today's orders (among the latest `scan`) ended up, by status."""
        since = self._midnight()
        async with self._uow_factory() as uow:
            recent = await uow.orders.recent(None, scan)
        counts = Counter(o.status.value for o in recent if o.created_at >= since)
        return {status.value: counts.get(status.value, 0) for status in OrderStatus}


def _number(raw: str) -> str:
    try:
        return normalize_msisdn(raw)
    except InvalidPhoneNumber:
        raise CustomerNotFound(user_id=raw) from None
