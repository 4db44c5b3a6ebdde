"""Issue 17, items 2 and 5: key rotation while the shop sells, rows no key can read, and a
customer forgotten or exported — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from adapters.storage import StockCipher
from adapters.storage.keys import rotate_keys, unreadable_rows
from application.use_cases.admin_reads import CustomerNotFound
from application.use_cases.customer_data import CustomerStillActive
from tests.data.conftest import SECRETS, TEXT_SECRET, close_shop, full_flow, open_shop
from tests.support.shop import ADMIN, ALICE, BOB


async def test_a_new_key_in_front_rotates_everything_while_the_shop_sells(database_url: str) -> None:
    old, new = StockCipher.generate_key(), StockCipher.generate_key()
    shop = await open_shop(database_url, old)
    try:
        await full_flow(shop)
    finally:
        await close_shop(shop)

    both = await open_shop(database_url, f"{new},{old}")
    try:
        # While both keys are configured, an item stored under the old key is still a duplicate.
        assert "duplikat" in (await both.say(ADMIN, f".addstok NF1\n{SECRETS[2]}")).lower()
        await both.say(ADMIN, ".addproduk VC|Voucher|1000|50")
        await both.say(ADMIN, f".addsaldo {BOB} 50rb")
        sales = [both.say(BOB, ".buy VC saldo") for _ in range(3)]
        results = await asyncio.gather(rotate_keys(both.adapters.storage(), batch=1), *sales)
        rotation = results[0]
        assert rotation.unreadable == []
        assert rotation.rewritten["stock_items"] == len(SECRETS)
        assert rotation.rewritten["produk"] == 1  # NF1's delivery text
        assert rotation.rewritten["inbox"] > 0
        again = await rotate_keys(both.adapters.storage())
        assert sum(again.rewritten.values()) == 0  # a second run finds nothing left to do
    finally:
        await close_shop(both)

    only_new = await open_shop(database_url, new)
    try:
        assert await unreadable_rows(only_new.adapters.storage()) == []
        again_delivered = await only_new.say(ALICE, ".kirimulang")
        assert SECRETS[0] in again_delivered and TEXT_SECRET in again_delivered
        # The duplicate check follows the new key too.
        assert "duplikat" in (await only_new.say(ADMIN, f".addstok NF1\n{SECRETS[2]}")).lower()
    finally:
        await close_shop(only_new)

    only_old = await open_shop(database_url, old)
    try:
        unreadable = await unreadable_rows(only_old.adapters.storage())
        assert {table for table, _ in unreadable} >= {"stock_items", "inbox", "outbox", "produk"}
    finally:
        await close_shop(only_old)


async def test_a_customer_is_forgotten_only_without_a_waiting_payment_or_saldo(database_url: str) -> None:
    shop = await open_shop(database_url, StockCipher.generate_key())
    forget = shop.app.forget_customer()
    try:
        await full_flow(shop)
        with pytest.raises(CustomerStillActive) as refused:
            await forget(ALICE)  # 65.000 saldo left
        assert refused.value.details == {"reason": "saldo", "saldo": 65000}
        await shop.say(ADMIN, f".kurangsaldo {ALICE} 65000")
        if "baru saja membeli" in await shop.say(ALICE, ".buy NF1 link"):  # she bought NF1 a moment ago
            await shop.say(ALICE, "ya")
        with pytest.raises(CustomerStillActive) as waiting:
            await forget(ALICE)
        assert waiting.value.details["reason"] == "pending_order"
        await shop.say(ALICE, ".batal")
        exported = await shop.app.export_customer()(ALICE)
        assert exported["number"] == ALICE and exported["saldo"] == 0
        assert [o["delivered_items"] for o in exported["orders"] if o["status"] == "PAID"] == [[SECRETS[0]]]
        assert any(m["direction"] == "in" and m["text"] == ".kirimulang" for m in exported["messages"])
        assert sum(e["delta"] for e in exported["ledger"]) == 0

        pseudonym = await forget(f"0{ALICE[2:]}")  # any spelling of the number
        with pytest.raises(CustomerNotFound):
            await shop.app.export_customer()(ALICE)
        async with shop.adapters.unit_of_work() as uow:
            orders = await uow.orders.recent_of(pseudonym, 10)
            assert sorted(o.status.value for o in orders) == ["CANCELLED", "PAID"]
            assert await uow.wallets.ledger_sum(pseudonym) == (await uow.wallets.get(pseudonym)).balance
            assert await uow.housekeeping.messages_of(pseudonym) == []
            paid = next(o for o in orders if o.status.value == "PAID")
            assert await uow.products.items_of_order(paid.id) == [""]
        assert (await shop.app.doctor()()) == []  # the books still add up
        with pytest.raises(CustomerNotFound):
            await forget(ALICE)
    finally:
        await close_shop(shop)
