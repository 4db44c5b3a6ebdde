"""The double-tap rule of a purchase (`refuse_repeat`): what counts as buying the same again."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from adapters.memory.storage import MemoryStore, MemoryUnitOfWork
from application.use_cases.shopping import REPEAT_WINDOW, refuse_repeat
from domain.errors import RepeatPurchase
from domain.money import Rupiah
from domain.order import Order, OrderStatus, PaymentMethod

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
USER, OTHER = "6281100000001", "6281100000002"


def bought(order_id: str, seconds_ago: float, code: str = "VC", qty: int = 1, user: str = USER,
           method: PaymentMethod = PaymentMethod.SALDO) -> Order:
    when = NOW - timedelta(seconds=seconds_ago)
    return Order.purchase(order_id, user, code, "Voucher", qty, Rupiah(10000), method, when,
                          None if method is PaymentMethod.SALDO else when + timedelta(minutes=15))


async def check(orders: list[Order], code: str = "VC", qty: int = 1) -> str | None:
    """The order named by the refusal, None when the purchase may go ahead."""
    store = MemoryStore()
    async with MemoryUnitOfWork(store) as uow:
        for order in orders:
            await uow.orders.add(order)
        await uow.commit()
    async with MemoryUnitOfWork(store) as uow:
        try:
            await refuse_repeat(uow, USER, code, qty, NOW)
        except RepeatPurchase as repeat:
            assert repeat.details["code"] == code and repeat.details["qty"] == qty
            return str(repeat.details["order_id"])
    return None


async def test_the_same_product_and_quantity_within_the_minute_is_a_repeat() -> None:
    assert await check([bought("INV-1", 59)]) == "INV-1"
    assert await check([bought("INV-1", 59, method=PaymentMethod.MIDTRANS)]) == "INV-1"  # a link given: PENDING


async def test_the_newest_matching_order_is_named() -> None:
    assert await check([bought("INV-1", 50), bought("INV-2", 10)]) == "INV-2"


@pytest.mark.parametrize("order", [
    bought("INV-1", REPEAT_WINDOW.total_seconds()),  # a minute ago exactly: no longer a double tap
    bought("INV-1", 5, code="NF1"),
    bought("INV-1", 5, qty=2),
    bought("INV-1", 5, user=OTHER),
])
async def test_another_product_quantity_customer_or_an_older_purchase_is_no_repeat(order: Order) -> None:
    assert await check([order]) is None


@pytest.mark.parametrize("status", [OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.FAILED])
async def test_a_purchase_that_came_to_nothing_is_no_repeat(status: OrderStatus) -> None:
    order = bought("INV-1", 5, method=PaymentMethod.MIDTRANS)
    order.move_to(status, NOW)
    assert await check([order]) is None


async def test_a_top_up_is_no_purchase() -> None:
    topup = Order.topup("INV-1", USER, Rupiah(10000), NOW - timedelta(seconds=5), NOW + timedelta(minutes=15))
    assert await check([topup], code="", qty=1) is None


async def test_only_the_three_newest_orders_are_looked_at() -> None:
    older = bought("INV-1", 40)
    newer = [bought(f"INV-{n}", 40 - n, code="NF1") for n in (2, 3, 4)]
    assert await check([older, *newer]) is None
    assert await check([older, *newer[:2]]) == "INV-1"
