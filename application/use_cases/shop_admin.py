"""Admin use cases on customers, orders, reports and shop settings."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports import Clock, UnitOfWorkFactory
from application.services import ShopReads, ShopSettingsReader
from application.use_cases.catalog_admin import applied_now
from domain.money import ZERO, Rupiah
from domain.order import JAKARTA, Order, OrderKind, OrderStatus
from domain.phone import normalize_msisdn
from domain.product import Tier
from domain.settings import ShopSettings


@dataclass(frozen=True)
class RoleSet:
    user_id: str
    tier: Tier
    new_customer: bool


class SetRole:
    """Set a customer's price tier; a number that never chatted becomes a customer."""

    def __init__(self, uow_factory: UnitOfWorkFactory, reads: ShopReads, clock: Clock) -> None:
        self._uow_factory, self._reads, self._clock = uow_factory, reads, clock

    async def __call__(self, number: str, tier: Tier, *, request_id: str | None = None) -> RoleSet:
        """`request_id`: the asking message; a repeated run changes nothing and tells the tier as it is."""
        user_id = normalize_msisdn(number)
        async with self._uow_factory() as uow:
            if not await applied_now(uow, request_id, self._clock):
                customer = await uow.customers.get(user_id)
                done = RoleSet(user_id, customer.tier if customer else tier, False)
            else:
                created = await uow.customers.ensure(user_id, self._clock.now())
                customer = await uow.customers.get(user_id)
                assert customer is not None
                customer.tier = tier
                await uow.customers.save(customer)
                await uow.commit()
                done = RoleSet(user_id, tier, created)
        await self._reads.forget_user(user_id)
        return done


class SetLanguage:
    """A customer chooses the language the bot answers them in (`.bahasa en`)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, reads: ShopReads, clock: Clock) -> None:
        self._uow_factory, self._reads, self._clock = uow_factory, reads, clock

    async def __call__(self, user_id: str, language: str) -> None:
        async with self._uow_factory() as uow:
            await uow.customers.ensure(user_id, self._clock.now())
            customer = await uow.customers.get(user_id)
            assert customer is not None
            customer.language = language
            await uow.customers.save(customer)
            await uow.commit()
        await self._reads.forget_user(user_id)


class ListOrders:
    """The shop's recent orders, optionally of one status."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, status: OrderStatus | None = None, limit: int = 20) -> list[Order]:
        async with self._uow_factory() as uow:
            return await uow.orders.recent(status, limit)


@dataclass(frozen=True)
class SalesReport:
    days: int
    since: datetime
    orders: int
    revenue: Rupiah
    topups: int
    topup_total: Rupiah
    top_products: list[tuple[str, int]]
    # Taken back by Midtrans from the orders paid in the period (counted with the day of payment).
    refunds: int = 0
    refund_total: Rupiah = ZERO
    chargebacks: int = 0
    chargeback_total: Rupiah = ZERO

    @property
    def net(self) -> Rupiah:
        """Purchases and top-ups paid, less what was refunded or charged back."""
        return self.revenue + self.topup_total - self.refund_total - self.chargeback_total


class Report:
    """Sales of the last N days (1 = today), counted in Asia/Jakarta days."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory, self._clock = uow_factory, clock

    async def __call__(self, days: int = 1) -> SalesReport:
        now = self._clock.now()
        midnight = now.astimezone(JAKARTA).replace(hour=0, minute=0, second=0, microsecond=0)
        since = midnight - timedelta(days=days - 1)
        async with self._uow_factory() as uow:
            paid = await uow.orders.paid_between(since, now + timedelta(seconds=1))
        purchases = [o for o in paid if o.kind is OrderKind.PURCHASE]
        topups = [o for o in paid if o.kind is OrderKind.TOPUP]
        sold: Counter[str] = Counter()
        for order in purchases:
            sold[order.product_code or "?"] += order.qty
        refunds = [o for o in paid if o.reversed_amount.value and o.reversal == "refund"]
        chargebacks = [o for o in paid if o.reversed_amount.value and o.reversal != "refund"]
        return SalesReport(
            days, since, len(purchases), sum((o.total for o in purchases), ZERO),
            len(topups), sum((o.total for o in topups), ZERO), sold.most_common(5),
            len(refunds), sum((o.reversed_amount for o in refunds), ZERO),
            len(chargebacks), sum((o.reversed_amount for o in chargebacks), ZERO),
        )


class ChangeSetting:
    """Change one shop setting (validated against its type and bounds)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, settings: ShopSettingsReader, clock: Clock) -> None:
        self._uow_factory, self._settings, self._clock = uow_factory, settings, clock

    async def __call__(self, key: str, value: str, *, request_id: str | None = None) -> ShopSettings:
        """`request_id`: the asking message; a repeated run changes nothing and returns the
        settings as they are."""
        updated = (await self._settings.get()).with_value(key, value)
        stored = updated.as_strings()[key.lower()]
        async with self._uow_factory() as uow:
            applied = await applied_now(uow, request_id, self._clock)
            if applied:
                await uow.settings.put(key.lower(), stored)
                await uow.commit()
        await self._settings.invalidate()
        return updated if applied else await self._settings.get()
