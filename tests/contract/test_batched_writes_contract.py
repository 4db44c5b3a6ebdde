"""`UnitOfWork.batched()`: the same rows and the same domain errors as writing at once, on
memory, SQLite and PostgreSQL (where the writes are held and sent with the stock take).

A held write's error must come out by the end of the scope at the latest, the earliest write's
first, and an error must leave nothing committed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from adapters.memory.storage import MemoryStore, MemoryUnitOfWork
from adapters.storage import SqlStorage
from application.errors import DuplicateOrderId
from application.ports import UnitOfWork
from application.use_cases.stock import take_for_sale
from domain.errors import DuplicateLedgerReference, OutOfStock, PendingOrderExists
from domain.money import Rupiah
from domain.order import Order, OrderStatus, PaymentMethod
from domain.product import Product

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
USER = "6281100000001"
Factory = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def new_uow(request: pytest.FixtureRequest) -> Factory:
    if request.param == "memory":
        store = MemoryStore()
        return lambda: MemoryUnitOfWork(store)
    storage = request.getfixturevalue("sqlite_storage" if request.param == "sqlite" else "pg_storage")
    return storage.uow_factory  # type: ignore[no-any-return]


def paid(order_id: str, qty: int = 1) -> Order:
    return Order.purchase(order_id, USER, "ABC", "Thing", qty, Rupiah(5000), PaymentMethod.SALDO, T0)


def pending(order_id: str) -> Order:
    return Order.purchase(order_id, USER, "ABC", "Thing", 1, Rupiah(5000), PaymentMethod.MIDTRANS, T0,
                          T0 + timedelta(minutes=15))


async def arrange(new_uow: Factory, *, stock: int = 3, balance: int = 20000, orders: tuple[Order, ...] = (),
                  items: list[str] | None = None) -> None:
    async with new_uow() as uow:
        await uow.products.add(Product.create("ABC", "Thing", 5000, stock))
        if items is not None:
            await uow.products.add(Product.create("VCR", "Voucher", 5000, 0))
            await uow.products.add_items("VCR", items, T0)
        await uow.customers.ensure(USER, T0)
        wallet = await uow.wallets.get(USER, for_update=True)
        wallet.credit(Rupiah(balance), "topup", "SEED", T0)
        await uow.wallets.save(wallet)
        for order in orders:
            await uow.orders.add(order)
        await uow.commit()


async def buy(uow: UnitOfWork, order: Order, code: str = "ABC", reference: str | None = None) -> tuple[Product, list[str]]:
    """A saldo purchase's writes as `Buy._sell` makes them, inside the scope."""
    wallet, offer = await uow.wallets.get_for_purchase(USER, code)
    assert offer is not None
    async with uow.batched():
        await uow.orders.add(order)
        wallet.debit(order.total, "purchase", reference or order.id, T0)
        await uow.wallets.save(wallet)
        product, items, _ = await take_for_sale(uow, offer, order.qty, order.id, 0)
    return product, items


async def books(new_uow: Factory, code: str = "ABC") -> tuple[int, int, int, list[str]]:
    """(balance, ledger sum, stock, order ids newest first)."""
    async with new_uow() as uow:
        product = await uow.products.get(code)
        assert product is not None
        balance = (await uow.wallets.get(USER)).balance.value
        return (balance, (await uow.wallets.ledger_sum(USER)).value, product.stock,
                [order.id for order in await uow.orders.recent_of(USER, 10)])


async def test_a_batched_purchase_writes_what_writing_at_once_writes(new_uow: Factory) -> None:
    await arrange(new_uow)
    async with new_uow() as uow:
        product, items = await buy(uow, paid("INV-1", qty=2))
        assert (product.code, product.stock, items) == ("ABC", 1, [])
        await uow.commit()
    assert await books(new_uow) == (10000, 10000, 1, ["INV-1"])
    async with new_uow() as uow:
        order = await uow.orders.get("INV-1")
        assert order is not None and order.status is OrderStatus.PAID and order.total == Rupiah(10000)
        assert [(e.reason, e.reference, e.delta.value) for e in await uow.wallets.ledger(USER)] == [
            ("purchase", "INV-1", -10000), ("topup", "SEED", 20000)]


async def test_an_item_product_bought_in_a_batch_hands_out_its_items(new_uow: Factory) -> None:
    await arrange(new_uow, items=["code-1", "code-2"])
    async with new_uow() as uow:
        order = Order.purchase("INV-1", USER, "VCR", "Voucher", 1, Rupiah(5000), PaymentMethod.SALDO, T0)
        product, items = await buy(uow, order, "VCR")
        assert (product.stock, items) == (1, ["code-1"])
        await uow.commit()
    assert await books(new_uow, "VCR") == (15000, 15000, 1, ["INV-1"])
    async with new_uow() as uow:
        assert await uow.products.items_of_order("INV-1") == ["code-1"]


async def test_an_order_id_taken_already_is_refused_by_the_end_of_the_batch(new_uow: Factory) -> None:
    await arrange(new_uow, orders=(paid("INV-1"),))
    async with new_uow() as uow:
        with pytest.raises(DuplicateOrderId):
            await buy(uow, paid("INV-1"), reference="INV-2")
    assert await books(new_uow) == (20000, 20000, 3, ["INV-1"])


async def test_a_second_pending_order_is_refused_by_the_end_of_the_batch(new_uow: Factory) -> None:
    await arrange(new_uow, orders=(pending("INV-1"),))
    async with new_uow() as uow:
        offer = await uow.products.get("ABC")
        assert offer is not None
        with pytest.raises(PendingOrderExists):
            async with uow.batched():
                await uow.orders.add(pending("INV-2"))
                await take_for_sale(uow, offer, 1, "INV-2", 0)
    assert await books(new_uow) == (20000, 20000, 3, ["INV-1"])


async def test_a_repeated_ledger_reference_is_refused_by_the_end_of_the_batch(new_uow: Factory) -> None:
    await arrange(new_uow)
    async with new_uow() as uow:
        await buy(uow, paid("INV-1"))
        await uow.commit()
    async with new_uow() as uow:
        with pytest.raises(DuplicateLedgerReference):
            await buy(uow, paid("INV-2"), reference="INV-1")
    async with new_uow() as uow:
        wallet = await uow.wallets.get(USER, for_update=True)
        wallet.credit(Rupiah(1), "topup", "SEED", T0)
        with pytest.raises(DuplicateLedgerReference):
            async with uow.batched():
                await uow.wallets.save(wallet)
    assert await books(new_uow) == (15000, 15000, 2, ["INV-1"])


async def test_sold_out_after_the_writes_commits_nothing(new_uow: Factory) -> None:
    await arrange(new_uow, stock=1)
    async with new_uow() as uow:
        with pytest.raises(OutOfStock):
            await buy(uow, paid("INV-1", qty=2))
    assert await books(new_uow) == (20000, 20000, 1, [])


async def test_the_earliest_writes_error_comes_first_even_when_the_stock_is_gone(new_uow: Factory) -> None:
    # At once, the order's clash is raised before the stock is looked at: so here too (a
    # second tap on "ya" must find the first tap's order, not read "sold out").
    await arrange(new_uow, stock=1, orders=(paid("INV-1"),))
    async with new_uow() as uow:
        with pytest.raises(DuplicateOrderId):
            await buy(uow, paid("INV-1", qty=2), reference="INV-2")
    assert await books(new_uow) == (20000, 20000, 1, ["INV-1"])


async def test_reads_inside_the_batch_see_its_writes(new_uow: Factory) -> None:
    await arrange(new_uow)
    async with new_uow() as uow:
        async with uow.batched():
            await uow.orders.add(paid("INV-1"))
            assert [order.id for order in await uow.orders.recent_of(USER, 3)] == ["INV-1"]
            wallet = await uow.wallets.get(USER, for_update=True)
            wallet.debit(Rupiah(5000), "purchase", "INV-1", T0)
            await uow.wallets.save(wallet)
            wallet.debit(Rupiah(1000), "purchase", "INV-1b", T0)  # a second write to the same rows
            await uow.wallets.save(wallet)
            assert (await uow.wallets.get(USER)).balance == Rupiah(14000)
        await uow.commit()
    assert await books(new_uow) == (14000, 14000, 3, ["INV-1"])


async def test_an_error_of_the_caller_inside_the_batch_still_makes_the_writes(new_uow: Factory) -> None:
    await arrange(new_uow, orders=(paid("INV-1"),))
    async with new_uow() as uow:
        with pytest.raises(DuplicateOrderId):  # the write came first, so its error does too
            async with uow.batched():
                await uow.orders.add(paid("INV-1"))
                raise ValueError("the caller's own failure")
    async with new_uow() as uow:
        with pytest.raises(ValueError):
            async with uow.batched():
                await uow.orders.add(paid("INV-2"))
                raise ValueError("the caller's own failure")
        await uow.commit()  # a caller that carries on keeps the write, as it would have at once
    assert await books(new_uow) == (20000, 20000, 3, ["INV-2", "INV-1"])


async def test_postgresql_sends_the_held_writes_with_the_stock_take(pg_storage: SqlStorage) -> None:
    statements: list[float] = []
    await arrange(pg_storage.uow_factory)  # type: ignore[arg-type]
    pg_storage.statement_timer = statements.append
    async with pg_storage.uow_factory() as uow:
        await buy(uow, paid("INV-1"))
        assert len(statements) == 2  # the wallet and product read; order + ledger + balance + stock
        await uow.commit()
    assert await books(pg_storage.uow_factory) == (15000, 15000, 2, ["INV-1"])  # type: ignore[arg-type]
