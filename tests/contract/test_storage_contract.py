"""The unit-of-work contract: one suite, run against memory, SQLite and PostgreSQL.

A fake that keeps uncommitted changes, or never raises what the database raises, fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.memory.storage import MemoryStore, MemoryUnitOfWork
from adapters.storage import (
    InvalidSecretKey,
    SqlStorage,
    StockCipher,
    migrate,
    schema_is_current,
    secret_key_beside,
)
from adapters.storage.tables import metadata, stock_items, users
from application.errors import DuplicateOrderId
from application.ports import (
    MAX_TEXT_LENGTH, Accepted, ClaimedMessage, DeadLetter, IncomingMessage, Outgoing, QueuedMessage, RecentOrder,
    UnitOfWork,
)
from application.replies import Choice, LinkButton, QrImage, Reply
from domain.customer import Customer
from domain.errors import (
    DuplicateLedgerReference,
    DuplicateProductCode,
    InvalidStockItems,
    OutOfStock,
    PendingOrderExists,
)
from domain.money import Rupiah
from domain.order import Order, OrderKind, OrderStatus, PaymentChannel, PaymentMethod
from domain.product import Product, Tier
from tests.fixtures.storage import truncate_all

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
USER, OTHER = "6281100000001", "6281100000002"
Factory = Callable[[], UnitOfWork]


def message(message_id: str, text: str | None = ".menu") -> IncomingMessage:
    return IncomingMessage(message_id, USER, text)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def new_uow(request: pytest.FixtureRequest) -> Factory:
    """A unit-of-work factory on an empty store of each kind."""
    if request.param == "memory":
        store = MemoryStore()
        return lambda: MemoryUnitOfWork(store)
    storage = request.getfixturevalue("sqlite_storage" if request.param == "sqlite" else "pg_storage")
    return storage.uow_factory  # type: ignore[no-any-return]


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def uows(request: pytest.FixtureRequest) -> tuple[Factory, Factory]:
    """(units of work, single-statement units of work) on an empty store of each kind."""
    if request.param == "memory":
        store = MemoryStore()
        return (lambda: MemoryUnitOfWork(store)), (lambda: MemoryUnitOfWork(store))
    storage = request.getfixturevalue("sqlite_storage" if request.param == "sqlite" else "pg_storage")
    return storage.uow_factory, storage.single_statement_uow


def link_order(order_id: str, user: str = USER, minutes: int = 0, expires_in: int = 15) -> Order:
    return Order.purchase(
        order_id, user, "ABC", "Thing", 2, Rupiah(5000), PaymentMethod.MIDTRANS, at(minutes), at(minutes + expires_in)
    )


def saldo_order(order_id: str, user: str = USER, minutes: int = 0) -> Order:
    return Order.purchase(order_id, user, "ABC", "Thing", 1, Rupiah(5000), PaymentMethod.SALDO, at(minutes))


async def seed_item_product(new_uow: Factory, lines: list[str], code: str = "VCR") -> None:
    async with new_uow() as uow:
        await uow.products.add(Product.create(code, "Voucher", 10000, 0))
        await uow.products.add_items(code, lines, T0)
        await uow.commit()


# --- transactions -----------------------------------------------------------------------------


async def test_leaving_the_block_without_commit_discards_everything(new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.products.add(Product.create("ABC", "Thing", 5000, 3))
        await uow.customers.ensure(USER, T0)
        await uow.settings.put("shop_name", "Toko")
        await uow.inbox.record(message("wamid.1"), T0, at(2))
        await uow.outbox.add(USER, Reply("hi"), T0, T0)
    async with new_uow() as uow:
        assert await uow.products.count() == 0
        assert await uow.customers.get(USER) is None
        assert await uow.settings.all() == {}
        assert await uow.inbox.record(message("wamid.1"), T0, at(2)) is True
        assert await uow.outbox.pending_count() == 0


async def test_explicit_rollback_and_errors_discard(new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.products.add(Product.create("ABC", "Thing", 5000, 3))
        await uow.rollback()
    with pytest.raises(RuntimeError):
        async with new_uow() as uow:
            await uow.products.add(Product.create("XYZ", "Other", 5000, 3))
            raise RuntimeError("use case failed")
    async with new_uow() as uow:
        assert await uow.products.count() == 0


async def test_commits_are_visible_to_the_next_unit_of_work(new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.products.add(Product.create("ABC", "Thing", 5000, 3))
        await uow.customers.ensure(USER, T0)
        wallet = await uow.wallets.get(USER, for_update=True)
        wallet.credit(Rupiah(20000), "topup", "INV-1", T0)
        await uow.wallets.save(wallet)
        await uow.orders.add(saldo_order("INV-2"))
        await uow.settings.put("shop_name", "Toko")
        await uow.commit()
    async with new_uow() as uow:
        product = await uow.products.get("ABC")
        assert product is not None and product.stock == 3
        assert (await uow.wallets.get(USER)).balance == Rupiah(20000)
        assert (await uow.orders.get("INV-2")) == saldo_order("INV-2")
        assert await uow.settings.all() == {"shop_name": "Toko"}


# --- products ---------------------------------------------------------------------------------


async def test_products_round_trip_every_field(new_uow: Factory) -> None:
    product = Product.create("abc", "Thing", 5000, 3, "A fine thing")
    async with new_uow() as uow:
        await uow.products.add(product)
        for field, value in [("harga_silver", "4500"), ("harga_gold", "4000"), ("minstok", "2"),
                             ("sk", "No refunds"), ("teks", "Download at x"), ("nama", "Thing 2")]:
            product.set_field(field, value)
        product.take(1)
        await uow.products.save(product)
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.products.get("ABC") == product
        assert await uow.products.get("abc") == product
        assert await uow.products.get("NOPE") is None


async def test_a_purchase_reads_the_locked_wallet_and_the_product_in_one_step(new_uow: Factory) -> None:
    product = Product.create("abc", "Thing", 5000, 3, "A fine thing")
    product.set_field("teks", "Download at x")
    async with new_uow() as uow:
        await uow.products.add(product)
        await uow.customers.ensure(USER, T0)
        wallet = await uow.wallets.get(USER, for_update=True)
        wallet.credit(Rupiah(7000), "topup", "INV-1", at(1))
        await uow.wallets.save(wallet)
        await uow.commit()
    async with new_uow() as uow:
        wallet, found = await uow.wallets.get_for_purchase(USER, "abc")
        assert (wallet.user_id, wallet.balance) == (USER, Rupiah(7000)) and found == product
        nobody, missing = await uow.wallets.get_for_purchase("6289999999999", "NOPE")
        assert nobody.balance == Rupiah(0) and missing is None
        _, off = await uow.wallets.get_for_purchase(USER, "NOPE")
        assert off is None


async def test_taking_counted_stock_is_all_or_nothing(new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.products.add(Product.create("ABC", "Thing", 5000, 3))
        await uow.products.add(Product.create("OFF", "Gone", 5000, 3))
        off = await uow.products.get("OFF")
        assert off is not None
        off.deactivate()
        await uow.products.save(off)
        await uow.commit()
    await seed_item_product(new_uow, ["code-1", "code-2"])
    async with new_uow() as uow:
        taken = await uow.products.take("abc", 2)
        assert taken is not None and taken.code == "ABC" and taken.stock == 1 and taken.price == Rupiah(5000)
        assert await uow.products.take("ABC", 2) is None  # one left
        assert await uow.products.take("OFF", 1) is None  # inactive
        assert await uow.products.take("VCR", 1) is None  # sold by items: take_items does that
        assert await uow.products.take("NOPE", 1) is None
        await uow.commit()
    async with new_uow() as uow:
        assert [(await uow.products.get(code)).stock for code in ("ABC", "OFF", "VCR")] == [1, 3, 2]  # type: ignore[union-attr]


async def test_list_active_hides_inactive_products_count_does_not(new_uow: Factory) -> None:
    async with new_uow() as uow:
        for code in ("ZED", "ABC", "MID"):
            await uow.products.add(Product.create(code, code.title(), 5000, 1))
        mid = await uow.products.get("MID", for_update=True)
        assert mid is not None
        mid.deactivate()
        await uow.products.save(mid)
        await uow.commit()
    async with new_uow() as uow:
        assert [p.code for p in await uow.products.list_active()] == ["ABC", "ZED"]
        assert [p.code for p in await uow.products.list_inactive()] == ["MID"]
        assert await uow.products.count() == 3
        inactive = await uow.products.get("MID")
        assert inactive is not None and not inactive.active


async def test_a_duplicate_product_code_is_refused_and_the_unit_of_work_goes_on(new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.products.add(Product.create("ABC", "First", 5000, 3))
        await uow.commit()
    async with new_uow() as uow:
        with pytest.raises(DuplicateProductCode):
            await uow.products.add(Product.create("ABC", "Second", 7000, 9))
        await uow.settings.put("shop_name", "Toko")
        await uow.commit()
    async with new_uow() as uow:
        kept = await uow.products.get("ABC")
        assert kept is not None and (kept.name, kept.stock) == ("First", 3)
        assert await uow.settings.all() == {"shop_name": "Toko"}


# --- stock items ------------------------------------------------------------------------------


async def test_stock_items_go_out_oldest_first_each_to_one_order(new_uow: Factory) -> None:
    await seed_item_product(new_uow, ["a|1", "b|2"])
    async with new_uow() as uow:
        await uow.products.add_items("VCR", ["c|3", "d|4"], at(1))
        assert await uow.products.take_items("VCR", 3, "INV-A") == ["a|1", "b|2", "c|3"]
        assert await uow.products.take_items("VCR", 1, "INV-B") == ["d|4"]
        product = await uow.products.get("VCR")
        assert product is not None and product.uses_items and product.stock == 0
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.products.items_of_order("INV-A") == ["a|1", "b|2", "c|3"]
        assert await uow.products.items_of_order("INV-B") == ["d|4"]
        assert await uow.products.items_of_order("INV-NONE") == []


async def test_taking_more_items_than_are_free_takes_none(new_uow: Factory) -> None:
    await seed_item_product(new_uow, ["a|1", "b|2"])
    async with new_uow() as uow:
        with pytest.raises(OutOfStock):
            await uow.products.take_items("VCR", 3, "INV-A")
        assert await uow.products.items_of_order("INV-A") == []
        assert await uow.products.take_items("VCR", 2, "INV-B") == ["a|1", "b|2"]


async def test_released_items_return_to_stock_and_go_out_again_first(new_uow: Factory) -> None:
    await seed_item_product(new_uow, ["a|1", "b|2", "c|3"])
    async with new_uow() as uow:
        await uow.products.take_items("VCR", 2, "INV-A")
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.products.release_items("INV-A") == 2
        assert await uow.products.release_items("INV-A") == 0
        product = await uow.products.get("VCR")
        assert product is not None and product.stock == 3
        assert await uow.products.items_of_order("INV-A") == []
        assert await uow.products.take_items("VCR", 1, "INV-B") == ["a|1"]
        await uow.commit()
    async with new_uow() as uow:
        product = await uow.products.get("VCR")
        assert product is not None and product.stock == 2


async def test_items_already_stored_are_refused_whether_sold_or_not(new_uow: Factory) -> None:
    await seed_item_product(new_uow, ["a|1", "b|2"])
    async with new_uow() as uow:
        await uow.products.take_items("VCR", 1, "INV-A")
        await uow.commit()
    async with new_uow() as uow:
        # Asked beforehand (so one reply names every refused line), the same answer.
        assert await uow.products.stored_among("vcr", ["a|1", "b|2", "new|9"]) == {"a|1", "b|2"}
        assert await uow.products.stored_among("VCR", []) == set()
        with pytest.raises(InvalidStockItems) as refused:
            await uow.products.add_items("VCR", ["a|1", "b|2", "new|9"], at(1))
        assert refused.value.details["duplicates"] == 2
        assert refused.value.details["refused"] == ((1, "a|1", "in_stock"), (2, "b|2", "in_stock"))
        product = await uow.products.get("VCR")
        assert product is not None and product.stock == 1
        await uow.products.add_items("VCR", ["new|9"], at(1))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.products.take_items("VCR", 2, "INV-B") == ["b|2", "new|9"]


async def test_the_same_item_text_may_be_stock_of_two_products(new_uow: Factory) -> None:
    await seed_item_product(new_uow, ["same"], code="ONE")
    await seed_item_product(new_uow, ["same"], code="TWO")
    async with new_uow() as uow:
        assert await uow.products.take_items("TWO", 1, "INV-A") == ["same"]


# --- customers and wallets --------------------------------------------------------------------


async def test_customers_are_created_once_and_keep_their_tier(new_uow: Factory) -> None:
    async with new_uow() as uow:
        assert await uow.customers.get(USER) is None
        assert await uow.customers.ensure(USER, T0) is True
        assert await uow.customers.ensure(USER, at(5)) is False
        customer = await uow.customers.get(USER)
        assert customer == Customer(USER, Tier.BRONZE, created_at=T0)
        customer.tier = Tier.GOLD
        customer.business_user_id = "ID.123"
        customer.language = "en"
        await uow.customers.save(customer)
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.customers.get(USER) == Customer(USER, Tier.GOLD, T0, "ID.123", "en")
        assert (await uow.wallets.get(USER)).balance == Rupiah(0)


async def test_wallet_balance_equals_its_ledger_newest_first(new_uow: Factory) -> None:
    async with new_uow() as uow:
        assert (await uow.wallets.get(USER)).balance == Rupiah(0)
        await uow.customers.ensure(USER, T0)
        wallet = await uow.wallets.get(USER, for_update=True)
        wallet.credit(Rupiah(50000), "topup", "INV-1", at(1))
        wallet.debit(Rupiah(12000), "purchase", "INV-2", at(2))
        await uow.wallets.save(wallet)
        assert wallet.new_entries == []
        wallet.credit(Rupiah(1000), "admin", None, at(3))
        await uow.wallets.save(wallet)
        await uow.commit()
    async with new_uow() as uow:
        assert (await uow.wallets.get(USER)).balance == Rupiah(39000)
        assert await uow.wallets.ledger_sum(USER) == Rupiah(39000)
        entries = await uow.wallets.ledger(USER)
        assert [(e.delta.value, e.balance_after.value, e.reason, e.reference, e.at) for e in entries] == [
            (1000, 39000, "admin", None, at(3)),
            (-12000, 38000, "purchase", "INV-2", at(2)),
            (50000, 50000, "topup", "INV-1", at(1)),
        ]
        assert len(await uow.wallets.ledger(USER, limit=2)) == 2
        assert await uow.wallets.ledger(OTHER) == []
        assert await uow.wallets.ledger_sum(OTHER) == Rupiah(0)


async def test_free_item_counts_count_unsold_items_per_product(new_uow: Factory) -> None:
    await seed_item_product(new_uow, ["a|1", "b|2", "c|3"])
    await seed_item_product(new_uow, ["x|1"], code="GIFT")
    async with new_uow() as uow:
        await uow.products.add(Product.create("CNT", "Counted", 5000, 7))
        await uow.products.take_items("GIFT", 1, "INV-G")
        await uow.products.take_items("VCR", 1, "INV-V")
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.products.free_item_counts() == {"VCR": 2, "GIFT": 0}


async def _force_balance(new_uow: Factory, user: str, value: int) -> None:
    """Break the balance = ledger rule behind the repositories' back (what the doctor looks for)."""
    owner = getattr(new_uow, "__self__", None)
    if isinstance(owner, SqlStorage):
        async with owner.engine.begin() as connection:
            await connection.execute(update(users).where(users.c.user_id == user).values(saldo=value))
        return
    uow = new_uow()
    assert isinstance(uow, MemoryUnitOfWork)
    uow._store.data.balances[user] = Rupiah(value)


async def test_off_ledger_lists_only_balances_that_differ_from_their_ledger(new_uow: Factory) -> None:
    async with new_uow() as uow:
        for user in (USER, OTHER, "6281100000003"):
            await uow.customers.ensure(user, T0)
        wallet = await uow.wallets.get(USER, for_update=True)
        wallet.credit(Rupiah(50000), "topup", "INV-1", at(1))
        await uow.wallets.save(wallet)
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.wallets.off_ledger() == []
    await _force_balance(new_uow, USER, 70000)
    await _force_balance(new_uow, OTHER, 5)
    async with new_uow() as uow:
        assert await uow.wallets.off_ledger() == [
            (USER, Rupiah(70000), Rupiah(50000)), (OTHER, Rupiah(5), Rupiah(0)),
        ]
        assert len(await uow.wallets.off_ledger(limit=1)) == 1


async def test_a_repeated_ledger_reference_is_refused_and_moves_no_money(new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.customers.ensure(USER, T0)
        wallet = await uow.wallets.get(USER, for_update=True)
        wallet.credit(Rupiah(10000), "late_payment", "INV-1", T0)
        await uow.wallets.save(wallet)
        await uow.commit()
    async with new_uow() as uow:
        wallet = await uow.wallets.get(USER, for_update=True)
        wallet.credit(Rupiah(10000), "late_payment", "INV-1", at(1))
        with pytest.raises(DuplicateLedgerReference):
            await uow.wallets.save(wallet)
        other = await uow.wallets.get(USER, for_update=True)
        other.credit(Rupiah(500), "admin", None, at(2))
        other.credit(Rupiah(500), "admin", None, at(2))
        await uow.wallets.save(other)
        await uow.commit()
    async with new_uow() as uow:
        assert (await uow.wallets.get(USER)).balance == Rupiah(11000)
        assert await uow.wallets.ledger_sum(USER) == Rupiah(11000)


async def test_a_wallet_of_nobody_cannot_be_saved(new_uow: Factory) -> None:
    async with new_uow() as uow:
        wallet = await uow.wallets.get(USER)
        wallet.credit(Rupiah(10000), "topup", "INV-1", T0)
        with pytest.raises(LookupError):
            await uow.wallets.save(wallet)


# --- orders -----------------------------------------------------------------------------------


async def test_orders_round_trip_and_change_status(new_uow: Factory) -> None:
    order = link_order("INV-1")
    async with new_uow() as uow:
        await uow.orders.add(order)
        await uow.orders.add(Order.topup("INV-T", OTHER, Rupiah(25000), T0, at(15)))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.orders.get("INV-1") == order
        assert await uow.orders.get("INV-NONE") is None
        loaded = await uow.orders.get("INV-1", for_update=True)
        assert loaded is not None
        loaded.payment_url = "https://pay/1"
        loaded.move_to(OrderStatus.PAID, at(3))
        await uow.orders.save(loaded)
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.orders.get("INV-1") == loaded
        topup = await uow.orders.get("INV-T")
        assert topup is not None and topup.kind is OrderKind.TOPUP and topup.product_code is None


async def test_a_qris_order_keeps_its_channel_and_code(new_uow: Factory) -> None:
    order = Order.topup("INV-Q", USER, Rupiah(25000), T0, at(15))
    order.channel = PaymentChannel.QRIS
    async with new_uow() as uow:
        await uow.orders.add(order)
        await uow.commit()
    async with new_uow() as uow:
        loaded = await uow.orders.get("INV-Q", for_update=True)
        assert loaded == order and loaded.qr_string is None
        loaded.qr_string, loaded.payment_url = "00020101021226QRIS6304ABCD", "https://api.test/v2/qris/tx/qr-code"
        await uow.orders.save(loaded)
        queued = await uow.outbox.add(USER, Reply("Bayar", image=QrImage(loaded.qr_string, "Buka link", "https://x")),
                                      T0, at(1))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.orders.get("INV-Q") == loaded and loaded.channel is PaymentChannel.QRIS
        stored = await uow.outbox.get(queued)
        assert stored is not None and stored.reply.image == QrImage(loaded.qr_string, "Buka link", "https://x")


async def test_one_pending_order_per_user(new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.orders.add(link_order("INV-1"))
        await uow.commit()
    async with new_uow() as uow:
        with pytest.raises(PendingOrderExists):
            await uow.orders.add(Order.topup("INV-2", USER, Rupiah(25000), at(1), at(16)))
        await uow.orders.add(saldo_order("INV-3", minutes=1))
        await uow.orders.add(link_order("INV-4", user=OTHER))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.orders.get("INV-2") is None
        first = await uow.orders.get("INV-1", for_update=True)
        assert first is not None and first.move_to(OrderStatus.CANCELLED, at(2))
        await uow.orders.save(first)
        await uow.orders.add(link_order("INV-5", minutes=3))
        await uow.commit()
    async with new_uow() as uow:
        pending = await uow.orders.pending_of(USER)
        assert pending is not None and pending.id == "INV-5"


async def test_an_order_id_taken_already_is_refused_and_the_unit_of_work_goes_on(new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.orders.add(saldo_order("INV-20250301-TAKENTAKENXX"))
        await uow.commit()
    async with new_uow() as uow:
        with pytest.raises(DuplicateOrderId):
            await uow.orders.add(Order.topup("INV-20250301-TAKENTAKENXX", OTHER, Rupiah(25000), at(1), at(16)))
        await uow.orders.add(Order.topup("INV-20250301-FRESHFRESHXX", OTHER, Rupiah(25000), at(1), at(16)))
        await uow.commit()
    async with new_uow() as uow:
        taken = await uow.orders.get("INV-20250301-TAKENTAKENXX")
        assert taken is not None and taken.user_id == USER
        assert await uow.orders.pending_of(OTHER) is not None


async def test_order_queries(new_uow: Factory) -> None:
    async with new_uow() as uow:
        early = link_order("INV-1", minutes=0)
        early.move_to(OrderStatus.PAID, at(30))
        await uow.orders.add(early)
        await uow.orders.add(saldo_order("INV-2", minutes=10))
        await uow.orders.add(Order.topup("INV-3", USER, Rupiah(25000), at(20), at(35)))
        await uow.orders.add(link_order("INV-4", user=OTHER, minutes=5, expires_in=15))
        await uow.commit()
    async with new_uow() as uow:
        assert [o.id for o in await uow.orders.recent_of(USER)] == ["INV-3", "INV-2", "INV-1"]
        assert [o.id for o in await uow.orders.recent_of(USER, limit=1)] == ["INV-3"]
        assert [o.id for o in await uow.orders.recent()] == ["INV-3", "INV-2", "INV-4", "INV-1"]
        assert [o.id for o in await uow.orders.recent(OrderStatus.PENDING)] == ["INV-3", "INV-4"]
        last = await uow.orders.last_paid_purchase_of(USER)
        assert last is not None and last.id == "INV-1"
        assert await uow.orders.last_paid_purchase_of(OTHER) is None
        assert [o.id for o in await uow.orders.pending_expiring_before(at(36))] == ["INV-4", "INV-3"]
        assert [o.id for o in await uow.orders.pending_expiring_before(at(35))] == ["INV-4"]
        assert [o.id for o in await uow.orders.pending_expiring_before(at(36), limit=1)] == ["INV-4"]
        assert {o.id for o in await uow.orders.paid_between(at(10), at(30))} == {"INV-2"}
        assert {o.id for o in await uow.orders.paid_between(at(0), at(31))} == {"INV-1", "INV-2"}


async def test_the_brief_of_recent_orders_is_recent_of_cut_down(new_uow: Factory) -> None:
    # What the double-tap check reads: the same orders in the same order as `recent_of`, ties on
    # `created_at` broken by id, another customer's left out, statuses as they are now.
    async with new_uow() as uow:
        early = link_order("INV-1", minutes=0)
        early.move_to(OrderStatus.PAID, at(30))
        await uow.orders.add(early)
        await uow.orders.add(saldo_order("INV-2", minutes=10))
        await uow.orders.add(Order.purchase("INV-2b", USER, "XYZ", "Other", 4, Rupiah(700), PaymentMethod.SALDO, at(10)))
        await uow.orders.add(Order.topup("INV-3", USER, Rupiah(25000), at(20), at(35)))
        await uow.orders.add(saldo_order("INV-4", user=OTHER, minutes=40))
        await uow.commit()
    async with new_uow() as uow:
        brief = await uow.orders.recent_brief_of(USER, 10)
        full = await uow.orders.recent_of(USER, 10)
        assert [b.id for b in brief] == [o.id for o in full] == ["INV-3", "INV-2b", "INV-2", "INV-1"]
        assert [(b.kind, b.product_code, b.qty, b.status, b.created_at) for b in brief] == [
            (o.kind, o.product_code, o.qty, o.status, o.created_at) for o in full]
        assert brief[0] == RecentOrder("INV-3", OrderKind.TOPUP, None, 1, OrderStatus.PENDING, at(20))
        assert brief[1] == RecentOrder("INV-2b", OrderKind.PURCHASE, "XYZ", 4, OrderStatus.PAID, at(10))
        assert brief[3] == RecentOrder("INV-1", OrderKind.PURCHASE, "ABC", 2, OrderStatus.PAID, at(0))
        assert [b.id for b in await uow.orders.recent_brief_of(USER, 2)] == ["INV-3", "INV-2b"]
        assert await uow.orders.recent_brief_of("6281100000009", 3) == []


# --- settings, inbox, payment events ----------------------------------------------------------


async def test_settings_are_overwritten_by_key(new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.settings.put("shop_name", "Toko")
        await uow.settings.put("max_qty", "5")
        await uow.settings.put("shop_name", "Toko Baru")
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.settings.all() == {"shop_name": "Toko Baru", "max_qty": "5"}


async def test_message_ids_and_payment_events_are_recorded_once(new_uow: Factory) -> None:
    async with new_uow() as uow:
        assert await uow.inbox.record(message("wamid.1"), T0, at(2)) is True
        assert await uow.payments.record("INV-1", "INV-1:settlement", "{}", T0) is True
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.inbox.record(message("wamid.1"), at(1), at(3)) is False
        assert await uow.inbox.record(message("wamid.2"), at(1), at(3)) is True
        assert await uow.payments.record("INV-1", "INV-1:settlement", "{}", at(1)) is False
        assert await uow.payments.record("INV-1", "INV-1:expire", "{}", at(1)) is True


async def test_a_new_message_makes_its_sender_a_customer_in_the_same_step(uows: tuple[Factory, Factory]) -> None:
    new_uow, single = uows
    async with single() as uow:
        assert await uow.inbox.record(IncomingMessage("wamid.1", USER, ".menu", "ID.1"), T0, at(2)) is True
        await uow.commit()
    async with new_uow() as uow:
        customer = await uow.customers.get(USER)
        assert customer is not None and customer.tier is Tier.BRONZE and customer.business_user_id == "ID.1"
        assert (await uow.wallets.get(USER)).balance.value == 0
        customer.language = "en"
        await uow.customers.save(customer)
        await uow.commit()
    async with single() as uow:  # a redelivery changes nothing, even with another id
        assert await uow.inbox.record(IncomingMessage("wamid.1", USER, ".menu", "ID.2"), at(1), at(3)) is False
        await uow.commit()
    async with new_uow() as uow:
        assert (await uow.customers.get(USER)).business_user_id == "ID.1"  # type: ignore[union-attr]
    async with single() as uow:  # a new message with a new id: remembered, the rest kept
        assert await uow.inbox.record(IncomingMessage("wamid.2", USER, ".menu", "ID.2"), at(1), at(3)) is True
        assert await uow.inbox.record(IncomingMessage("wamid.3", USER, ".menu", None), at(1), at(3)) is True
        await uow.commit()
    async with new_uow() as uow:
        customer = await uow.customers.get(USER)
        assert customer is not None and customer.business_user_id == "ID.2" and customer.language == "en"


async def test_messages_accepted_together_each_get_their_own_answer(uows: tuple[Factory, Factory]) -> None:
    """Accepts grouped into one step (one statement on PostgreSQL): each message as if alone."""
    new_uow, single = uows
    async with single() as uow:
        assert await uow.inbox.record(IncomingMessage("wamid.old", OTHER, ".menu"), T0, at(1)) is True
        held = await uow.outbox.add(OTHER, Reply("held"), T0, at(1))
        await uow.outbox.hold(held, at(1))
        await uow.commit()
    async with new_uow() as uow:
        customer = await uow.customers.get(OTHER)
        assert customer is not None and customer.business_user_id is None
    arrivals = [
        (IncomingMessage("wamid.a", USER, ".buy VC", "ID.U", at(1)), at(2), at(4)),
        (IncomingMessage("wamid.old", OTHER, ".menu"), at(2), at(4)),  # a redelivery
        (IncomingMessage("wamid.b", OTHER, ".saldo", "ID.O"), at(3), at(5)),  # she has a message held
        (IncomingMessage("wamid.a", USER, ".buy VC", "ID.U", at(1)), at(3), at(5)),  # the same, twice in one group
        (IncomingMessage("wamid.c", USER, "halo"), at(4), at(5)),
    ]
    async with single() as uow:
        assert await uow.inbox.accept_all(arrivals) == [
            Accepted(True, False), Accepted(False, False), Accepted(True, True), Accepted(False, False),
            Accepted(True, False)]
        await uow.commit()
    async with new_uow() as uow:
        user, other = await uow.customers.get(USER), await uow.customers.get(OTHER)
        assert user is not None and user.business_user_id == "ID.U" and user.tier is Tier.BRONZE
        assert other is not None and other.business_user_id == "ID.O"
        assert (await uow.wallets.get(USER)).balance.value == 0
        claimed = await uow.inbox.claim_stale(at(10), at(12))  # nobody finished them: all stale by now
    assert [(c.message.message_id, c.message.text, c.message.sent_at, c.attempts) for c in claimed] == [
        ("wamid.old", ".menu", None, 2), ("wamid.a", ".buy VC", at(1), 2), ("wamid.b", ".saldo", None, 2),
        ("wamid.c", "halo", None, 2)]


async def test_replies_queued_together_each_finish_their_own_message(uows: tuple[Factory, Factory]) -> None:
    new_uow, single = uows
    async with single() as uow:
        for n in (1, 2, 3):
            await uow.inbox.record(message(f"wamid.{n}"), T0, at(1))
        await uow.commit()
    async with single() as uow:
        ids = await uow.outbox.add_all([
            Outgoing(USER, Reply("satu"), at(1), at(2), finishes="wamid.1"),
            Outgoing(OTHER, Reply("dua"), at(1), at(2)),
            Outgoing(USER, Reply("satu"), at(2), at(3), finishes="wamid.3"),  # the same text again
        ])
        await uow.commit()
    assert len(set(ids)) == 3
    async with new_uow() as uow:
        assert [await uow.outbox.get(i) for i in ids] == [
            QueuedMessage(ids[0], USER, Reply("satu"), 0), QueuedMessage(ids[1], OTHER, Reply("dua"), 0),
            QueuedMessage(ids[2], USER, Reply("satu"), 0)]
        assert [m.id for m in await uow.outbox.claim_due(at(2), at(9))] == ids[:2]  # each with its own lease
        claimed = await uow.inbox.claim_stale(at(5), at(9))
    assert [c.message.message_id for c in claimed] == ["wamid.2"]  # 1 and 3 finished by their replies


async def test_a_queued_reply_finishes_the_message_it_answers(uows: tuple[Factory, Factory]) -> None:
    new_uow, single = uows
    async with single() as uow:
        await uow.inbox.record(message("wamid.a"), T0, at(2))
        await uow.commit()
    async with single() as uow:
        await uow.inbox.record(message("wamid.b"), T0, at(2))
        await uow.commit()
    async with single() as uow:
        queued = await uow.outbox.add(USER, Reply("ok"), at(1), at(2), finishes="wamid.a")
        await uow.commit()
    async with new_uow() as uow:
        assert [c.message.message_id for c in await uow.inbox.claim_stale(at(5), at(10))] == ["wamid.b"]
        assert await uow.outbox.get(queued) == QueuedMessage(queued, USER, Reply("ok"), 0)


async def test_unfinished_messages_come_back_once_their_lease_runs_out(new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.inbox.record(message("wamid.a", "halo"), T0, at(2))
        await uow.inbox.record(IncomingMessage("wamid.b", OTHER, None, "ID.123"), at(1), at(3))
        await uow.inbox.record(message("wamid.c"), at(1), at(3))
        await uow.inbox.finish("wamid.c", at(1))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.inbox.claim_stale(at(1), at(10)) == []  # still leased to their workers
        claimed = await uow.inbox.claim_stale(at(5), at(10))
        await uow.commit()
    assert claimed == [ClaimedMessage(message("wamid.a", "halo"), 2),
                       ClaimedMessage(IncomingMessage("wamid.b", OTHER, None, "ID.123"), 2)]
    async with new_uow() as uow:
        assert await uow.inbox.claim_stale(at(6), at(20)) == []  # leased again by the claim
        assert [c.message.message_id for c in await uow.inbox.claim_stale(at(11), at(20), limit=1)] == ["wamid.a"]


async def test_every_run_is_counted_and_the_providers_timestamp_comes_back(uows: tuple[Factory, Factory]) -> None:
    new_uow, single = uows
    sent = T0 - timedelta(seconds=30)
    async with single() as uow:
        await uow.inbox.record(IncomingMessage("wamid.t", USER, ".buy ABC", "ID.9", sent), T0, at(2))
        await uow.commit()
    for run, minutes in ((2, 3), (3, 6), (4, 9)):
        async with new_uow() as uow:
            claimed = await uow.inbox.claim_stale(at(minutes), at(minutes + 2))
            await uow.commit()
        assert claimed == [ClaimedMessage(IncomingMessage("wamid.t", USER, ".buy ABC", "ID.9", sent), run)]


async def test_texts_are_stored_without_control_characters_and_cut_to_whatsapps_limit(new_uow: Factory) -> None:
    async with new_uow() as uow:
        assert await uow.inbox.record(message("wamid.nul", ".buy\u0000 ABC\r\n\x1b[2Jhalo\tkak"), T0, at(2)) is True
        assert await uow.inbox.record(message("wamid.long", "x" * 5000), T0, at(2)) is True
        await uow.commit()
    async with new_uow() as uow:
        claimed = {c.message.message_id: c.message.text for c in await uow.inbox.claim_stale(at(3), at(5))}
    assert claimed == {"wamid.nul": ".buy ABC\n[2Jhalo\tkak", "wamid.long": "x" * MAX_TEXT_LENGTH}


async def test_a_message_still_running_keeps_its_lease_while_it_is_renewed(uows: tuple[Factory, Factory]) -> None:
    new_uow, single = uows
    async with single() as uow:
        await uow.inbox.record(message("wamid.slow"), T0, at(2))
        await uow.commit()
    async with single() as uow:
        assert await uow.inbox.renew("wamid.slow", at(10)) is True
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.inbox.claim_stale(at(5), at(12)) == []
        await uow.inbox.finish("wamid.slow", at(6))
        await uow.commit()
    async with single() as uow:
        assert await uow.inbox.renew("wamid.slow", at(20)) is False  # finished: nothing to hold
        assert await uow.inbox.renew("wamid.unknown", at(20)) is False
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.inbox.claim_stale(at(30), at(32)) == []


async def test_a_dead_letter_is_finished_kept_and_listed_newest_first(new_uow: Factory) -> None:
    sent = T0 - timedelta(minutes=1)
    async with new_uow() as uow:
        await uow.inbox.record(IncomingMessage("wamid.a", USER, ".riwayat", None, sent), T0, at(2))
        await uow.inbox.record(IncomingMessage("wamid.b", OTHER, None), at(1), at(3))
        await uow.inbox.record(message("wamid.c"), at(1), at(3))
        await uow.inbox.finish("wamid.c", at(1))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.inbox.dead_letters() == []
        assert await uow.inbox.claim_stale(at(4), at(8)) != []  # a second run for a and b
        assert await uow.inbox.dead_letter("wamid.a", at(10)) is True
        assert await uow.inbox.dead_letter("wamid.a", at(11)) is False  # given up once
        assert await uow.inbox.dead_letter("wamid.c", at(11)) is False  # finished normally: not dead
        await uow.commit()
    async with new_uow() as uow:
        assert [c.message.message_id for c in await uow.inbox.claim_stale(at(20), at(25))] == ["wamid.b"]
        assert await uow.inbox.dead_letter("wamid.b", at(21)) is True
        await uow.commit()
    async with new_uow() as uow:
        dead = await uow.inbox.dead_letters()
        assert await uow.inbox.claim_stale(at(99), at(100)) == []
        assert [d.message_id for d in await uow.inbox.dead_letters(limit=1)] == ["wamid.b"]
    # The claim that gave a message up was not a run: b ran twice, a once.
    assert dead == [DeadLetter("wamid.b", OTHER, None, at(1), None, 2, at(21)),
                    DeadLetter("wamid.a", USER, ".riwayat", T0, sent, 1, at(10))]


async def test_a_messages_effect_is_marked_applied_once_with_the_effects_transaction(new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.inbox.record(message("wamid.edit"), T0, at(2))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.inbox.mark_applied("wamid.edit", at(1)) is True
        await uow.rollback()  # the edit failed: not applied
    async with new_uow() as uow:
        assert await uow.inbox.mark_applied("wamid.edit", at(1)) is True
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.inbox.mark_applied("wamid.edit", at(3)) is False
        assert await uow.inbox.mark_applied("wamid.never-stored", at(3)) is True


async def test_an_outbox_message_being_sent_keeps_its_lease_while_it_is_renewed(new_uow: Factory) -> None:
    async with new_uow() as uow:
        queued = await uow.outbox.add(USER, Reply("ok"), T0, at(1))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.renew(queued, at(10)) is True
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.claim_due(at(5), at(12)) == []
        await uow.outbox.mark_sent([queued], at(6))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.renew(queued, at(20)) is False
        assert await uow.outbox.claim_due(at(30), at(32)) == []


async def test_outbox_keeps_replies_until_sent_and_retries_after_postponing(new_uow: Factory) -> None:
    reply = Reply("Pilih", choices=(Choice(".buy NF1", "NF1", "Rp 35.000"),), choices_button="Lihat",
                  link=LinkButton("Bayar", "https://pay.test/x"))
    async with new_uow() as uow:
        first = await uow.outbox.add(USER, reply, T0, at(1))
        second = await uow.outbox.add(OTHER, Reply("ok"), T0, at(1))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.pending_count() == 2
        assert await uow.outbox.claim_due(T0, at(5)) == []
        assert (await uow.outbox.get(first)) == QueuedMessage(first, USER, reply, 0)
        await uow.outbox.mark_sent([second], at(1))
        await uow.outbox.postpone(first, at(3))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.get(second) is None and await uow.outbox.pending_count() == 1
        assert await uow.outbox.claim_due(at(2), at(9)) == []
        assert await uow.outbox.claim_due(at(3), at(9)) == [QueuedMessage(first, USER, reply, 1)]
        await uow.outbox.give_up(first, at(3))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.pending_count() == 0 and await uow.outbox.claim_due(at(99), at(100)) == []


# --- the SQL adapters only --------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    return url


async def test_stock_items_are_unreadable_at_rest_and_need_the_key(sql_url: str, secret_key: str) -> None:
    storage = SqlStorage.from_url(sql_url, secret_key)
    try:
        await truncate_all(sql_url)
        await seed_item_product(storage.uow_factory, ["user@mail.test|hunter2"])
        async with storage.engine.connect() as connection:
            stored = (await connection.execute(select(stock_items.c.content, stock_items.c.content_hash))).one()
        assert "hunter2" not in stored.content and "hunter2" not in stored.content_hash
    finally:
        await storage.aclose()
    wrong_key = SqlStorage.from_url(sql_url, StockCipher.generate_key())
    try:
        async with wrong_key.uow_factory() as uow:
            with pytest.raises(InvalidSecretKey):
                await uow.products.take_items("VCR", 1, "INV-A")
    finally:
        await wrong_key.aclose()
        await truncate_all(sql_url)


async def test_migrations_bring_an_empty_database_up_to_date_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/fresh/tokowa.db"
    assert await schema_is_current(url) is False
    await migrate(url)
    assert await schema_is_current(url) is True
    await migrate(url)
    assert await schema_is_current(url) is True


def test_a_secret_key_must_be_32_bytes_of_url_safe_base64() -> None:
    with pytest.raises(InvalidSecretKey):
        StockCipher("not a key")
    with pytest.raises(InvalidSecretKey):
        StockCipher("c2hvcnQ=")


async def test_the_migrated_schema_is_the_schema_the_code_maps(sql_url: str) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    engine = create_async_engine(sql_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


def test_the_embedded_key_is_created_once_beside_the_database(tmp_path: Path) -> None:
    database = tmp_path / "data" / "tokowa.db"
    key = secret_key_beside(database)
    assert secret_key_beside(database) == key
    assert (tmp_path / "data" / "tokowa.key").stat().st_mode & 0o077 == 0
    StockCipher(key)
