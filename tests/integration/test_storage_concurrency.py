"""Concurrency proofs: money and stock stay correct under concurrent units of work, on
PostgreSQL and on SQLite, with no application locks at all: the database alone guarantees them.

Each worker is written the way a use case is: load with `for_update`, let the aggregate decide,
save, commit, retry nothing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from adapters.storage import SqlStorage
from domain.errors import DuplicateLedgerReference, InsufficientBalance, OutOfStock, PendingOrderExists
from domain.money import Rupiah
from domain.order import Order, OrderStatus, PaymentMethod
from domain.product import Product

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
USER = "6281100000001"


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest) -> SqlStorage:
    fixture = "sqlite_storage" if request.param == "sqlite" else "pg_storage"
    found: SqlStorage = request.getfixturevalue(fixture)
    return found


async def run_all(workers: list[Callable[[], Awaitable[Any]]]) -> Counter[str]:
    """Start every worker at once; count outcomes by result ("ok") or exception class name."""
    outcomes = await asyncio.gather(*(worker() for worker in workers), return_exceptions=True)
    return Counter("ok" if not isinstance(o, BaseException) else type(o).__name__ for o in outcomes)


async def arrange(storage: SqlStorage, product: Product | None = None, balance: int = 0, items: int = 0) -> None:
    async with storage.uow_factory() as uow:
        await uow.customers.ensure(USER, NOW)
        if product is not None:
            await uow.products.add(product)
            if items:
                await uow.products.add_items(product.code, [f"acc{i}|pw{i}" for i in range(items)], NOW)
        if balance:
            wallet = await uow.wallets.get(USER, for_update=True)
            wallet.credit(Rupiah(balance), "topup", "seed", NOW)
            await uow.wallets.save(wallet)
        await uow.commit()


async def test_fifty_buyers_for_five_units_make_exactly_five_orders(storage: SqlStorage) -> None:
    await arrange(storage, Product.create("ABC", "Thing", 5000, 5))

    async def buy(n: int) -> None:
        async with storage.uow_factory() as uow:
            product = await uow.products.get("ABC", for_update=True)
            assert product is not None
            product.take(1)
            await uow.products.save(product)
            order = Order.purchase(
                f"INV-B{n:03d}", f"62811000{n:05d}", "ABC", product.name, 1, product.price, PaymentMethod.SALDO, NOW
            )
            await uow.orders.add(order)
            await uow.commit()

    outcomes = await run_all([partial(buy, n) for n in range(50)])

    assert outcomes == Counter({"ok": 5, "OutOfStock": 45})
    async with storage.uow_factory() as uow:
        product = await uow.products.get("ABC")
        assert product is not None and product.stock == 0
        assert len(await uow.orders.recent(OrderStatus.PAID, limit=100)) == 5


async def test_twenty_spends_from_a_wallet_that_affords_seven(storage: SqlStorage) -> None:
    await arrange(storage, balance=7000)

    async def spend(n: int) -> None:
        async with storage.uow_factory() as uow:
            wallet = await uow.wallets.get(USER, for_update=True)
            wallet.debit(Rupiah(1000), "purchase", f"INV-S{n:03d}", NOW + timedelta(seconds=n))
            await uow.wallets.save(wallet)
            await uow.commit()

    outcomes = await run_all([partial(spend, n) for n in range(20)])

    assert outcomes == Counter({"ok": 7, InsufficientBalance.__name__: 13})
    async with storage.uow_factory() as uow:
        balance = (await uow.wallets.get(USER)).balance
        entries = await uow.wallets.ledger(USER, limit=100)
        assert balance == Rupiah(0)
        assert await uow.wallets.ledger_sum(USER) == balance
        assert all(entry.balance_after >= Rupiah(0) for entry in entries)
        assert len(entries) == 8  # the seed credit and seven debits


async def test_one_payment_credited_twice_at_once_is_credited_once(storage: SqlStorage) -> None:
    await arrange(storage)

    async def credit() -> None:
        async with storage.uow_factory() as uow:
            wallet = await uow.wallets.get(USER, for_update=True)
            wallet.credit(Rupiah(25000), "topup", "INV-TOPUP1", NOW)
            await uow.wallets.save(wallet)
            await uow.commit()

    outcomes = await run_all([credit, credit])

    assert outcomes == Counter({"ok": 1, DuplicateLedgerReference.__name__: 1})
    async with storage.uow_factory() as uow:
        assert (await uow.wallets.get(USER)).balance == Rupiah(25000)
        assert await uow.wallets.ledger_sum(USER) == Rupiah(25000)


async def test_concurrent_link_orders_by_one_user_leave_one_pending(storage: SqlStorage) -> None:
    await arrange(storage)

    async def order_topup(n: int) -> None:
        async with storage.uow_factory() as uow:
            await uow.customers.ensure(USER, NOW)
            await uow.orders.add(Order.topup(f"INV-P{n:03d}", USER, Rupiah(50000), NOW, NOW + timedelta(minutes=15)))
            await uow.commit()

    outcomes = await run_all([partial(order_topup, n) for n in range(2)])

    assert outcomes == Counter({"ok": 1, PendingOrderExists.__name__: 1})
    async with storage.uow_factory() as uow:
        assert len(await uow.orders.recent(OrderStatus.PENDING)) == 1


async def test_a_stock_item_never_goes_to_two_orders(storage: SqlStorage) -> None:
    await arrange(storage, Product.create("VCR", "Voucher", 10000, 0), items=10)
    delivered: dict[str, list[str]] = {}

    async def buy_item(n: int) -> None:
        order_id = f"INV-I{n:03d}"
        async with storage.uow_factory() as uow:
            product = await uow.products.get("VCR", for_update=True)
            assert product is not None
            product.take(1)
            await uow.products.save(product)
            items = await uow.products.take_items("VCR", 1, order_id)
            await uow.orders.add(
                Order.purchase(order_id, f"62812000{n:05d}", "VCR", product.name, 1, product.price,
                               PaymentMethod.SALDO, NOW)
            )
            await uow.commit()
        delivered[order_id] = items

    outcomes = await run_all([partial(buy_item, n) for n in range(20)])

    assert outcomes == Counter({"ok": 10, OutOfStock.__name__: 10})
    handed_out = [item for items in delivered.values() for item in items]
    assert sorted(handed_out) == sorted(f"acc{i}|pw{i}" for i in range(10))
    async with storage.uow_factory() as uow:
        product = await uow.products.get("VCR")
        assert product is not None and product.stock == 0
        for order_id, items in delivered.items():
            assert await uow.products.items_of_order(order_id) == items
