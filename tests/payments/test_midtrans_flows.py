"""`.buy ... link`, `.deposit`, `.batal`, expiry and reconciliation end to end with the Midtrans
adapter against the fake Midtrans (in-memory shop)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from litestar.testing import AsyncTestClient

from domain.order import OrderStatus
from tests.payments.conftest import FakeMidtrans
from tests.payments.test_midtrans_webhook import buy_by_link, post
from tests.support.shop import ADMIN, ALICE, BOB, Shop


async def test_buy_by_link_sends_the_snap_link_and_a_consistent_snap_request(
        shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    await shop.say(ADMIN, ".setting payment_expiry_minutes 30")
    reply = await shop.say(BOB, ".buy VC 2 link")
    order = await shop.last_order_of(BOB)
    [snap] = fake_midtrans.snap_requests
    assert "https://app.sandbox.midtrans.test/snap/v4/redirection/" in reply and order.payment_url in reply
    assert snap["transaction_details"] == {"order_id": order.id, "gross_amount": 20_000}
    assert snap["item_details"] == [{"id": "VC", "name": "Voucher 10rb", "price": 10_000, "quantity": 2}]
    assert snap["customer_details"] == {"phone": BOB}
    assert snap["expiry"] == {"start_time": "2026-11-28 10:00:00 +0700", "unit": "minute", "duration": 30}
    assert "callbacks" not in snap  # http://shop.test is no public https address


async def test_long_product_names_are_cut_to_midtrans_limit(shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    name = "Paket Premium Streaming Keluarga Dua Belas Bulan Plus Bonus"
    await shop.say(ADMIN, f".addproduk LONG|{name}|15000|5")
    reply = await shop.say(BOB, ".buy LONG")
    assert "redirection" in reply
    assert fake_midtrans.snap_requests[-1]["item_details"][0]["name"] == name[:50]


async def test_midtrans_down_during_create_releases_stock_and_asks_to_retry(
        shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    fake_midtrans.down.add("create")
    reply = await shop.say(BOB, ".buy NF1")
    assert "coba lagi" in reply
    assert (await shop.last_order_of(BOB)).status is OrderStatus.FAILED
    assert await shop.stock("NF1") == 3

    fake_midtrans.down.clear()
    assert "redirection" in await shop.say(BOB, ".buy NF1")
    assert await shop.stock("NF1") == 2


async def test_notification_arriving_before_the_create_call_returned(
        shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans) -> None:
    fake_midtrans.create_gate = threading.Event()
    buying = asyncio.create_task(shop.say(BOB, ".buy NF1"))
    await asyncio.to_thread(fake_midtrans.create_arrived.wait, 10)
    order = await shop.last_order_of(BOB)
    fake_midtrans.pay(order.id)
    assert await post(client, fake_midtrans.notification(order.id)) == 200  # the event loop is not blocked
    fake_midtrans.create_gate.set()
    await buying

    assert (await shop.order(order.id)).status is OrderStatus.PAID
    assert sum("user1@mail.test|pw1" in m for m in shop.inbox(BOB)) == 1
    assert await shop.stock("NF1") == 2


async def test_deposit_credits_once(shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans) -> None:
    reply = await shop.say(BOB, ".deposit 50rb")
    order = await shop.last_order_of(BOB)
    assert "redirection" in reply
    assert fake_midtrans.snap_requests[-1]["transaction_details"]["gross_amount"] == 50_000
    fake_midtrans.pay(order.id, amount="50000.00")
    body = fake_midtrans.notification(order.id)
    assert [await post(client, body) for _ in range(2)] == [200, 200]
    assert await shop.balance(BOB) == 50_000
    assert sum("Saldo bertambah" in m for m in shop.inbox(BOB)) == 1


async def test_cancel_cancels_at_midtrans_and_releases_stock(
        shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    fake_midtrans.pay(order_id, "pending")
    assert order_id in await shop.say(BOB, ".batal")
    assert fake_midtrans.cancelled == [order_id]
    assert (await shop.order(order_id)).status is OrderStatus.CANCELLED and await shop.stock("NF1") == 3

    told = len(shop.inbox(BOB))
    assert await post(client, fake_midtrans.notification(order_id)) == 200  # Midtrans' cancel notification
    assert len(shop.inbox(BOB)) == told


async def test_cancel_stands_when_midtrans_is_down(shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    fake_midtrans.down.add("cancel")
    assert order_id in await shop.say(BOB, ".batal")
    assert (await shop.order(order_id)).status is OrderStatus.CANCELLED and await shop.stock("NF1") == 3


async def test_unused_snap_page_expires_locally(shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    shop.clock.advance(minutes=15 + 5 + 1)
    await shop.uc.expire_stale()
    assert (await shop.order(order_id)).status is OrderStatus.EXPIRED and await shop.stock("NF1") == 3
    assert "kedaluwarsa" in shop.inbox(BOB)[-1]


async def test_reconciliation_pays_an_order_whose_notification_never_came(
        shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    fake_midtrans.pay(order_id)
    shop.clock.advance(minutes=21)
    await asyncio.gather(shop.uc.expire_stale(), shop.uc.expire_stale())  # two schedulers at once
    assert (await shop.order(order_id)).status is OrderStatus.PAID
    assert sum("user1@mail.test|pw1" in m for m in shop.inbox(BOB)) == 1


async def test_late_settlement_after_local_expiry_is_honoured(
        shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    shop.clock.advance(minutes=21)
    await shop.uc.expire_stale()
    assert await shop.stock("NF1") == 3
    fake_midtrans.pay(order_id)
    assert await post(client, fake_midtrans.notification(order_id)) == 200
    assert (await shop.order(order_id)).status is OrderStatus.PAID and await shop.stock("NF1") == 2
    assert "user1@mail.test|pw1" in shop.inbox(BOB)[-1]
    assert any(order_id in m and "terlambat" in m for m in shop.inbox(ADMIN))


async def test_late_settlement_without_stock_goes_to_saldo(
        shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    shop.clock.advance(minutes=21)
    await shop.uc.expire_stale()
    await shop.say(ADMIN, f".addsaldo {ALICE} 100rb")
    assert "Pembelian berhasil" in await shop.say(ALICE, ".buy NF1 3 saldo")  # the released items sell meanwhile
    fake_midtrans.pay(order_id)
    assert await post(client, fake_midtrans.notification(order_id)) == 200
    assert (await shop.order(order_id)).status is OrderStatus.EXPIRED
    assert await shop.balance(BOB) == 35_000
    assert any(order_id in m for m in shop.inbox(ADMIN))


async def test_deny_after_delivery_marks_the_order_and_tells_admins_the_goods_are_gone(
        shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    fake_midtrans.pay(order_id)
    assert await post(client, fake_midtrans.notification(order_id)) == 200
    fake_midtrans.pay(order_id, "deny")
    assert await post(client, fake_midtrans.notification(order_id)) == 200
    order = await shop.order(order_id)
    assert (order.status, order.reversed_amount.value) == (OrderStatus.REFUNDED, 35_000)
    assert await shop.stock("NF1") == 2  # delivered accounts do not come back
    assert order_id in shop.inbox(ADMIN)[-1] and "sudah dikirim" in shop.inbox(ADMIN)[-1]


async def paid_late_after_the_stock_sold_out(shop: Shop, client: AsyncTestClient[Any],
                                             fake_midtrans: FakeMidtrans) -> str:
    """Bob's link order expires, Alice buys the last accounts, then Bob's payment arrives."""
    order_id = await buy_by_link(shop)
    shop.clock.advance(minutes=21)
    await shop.uc.expire_stale()
    await shop.say(ADMIN, f".addsaldo {ALICE} 100rb")
    await shop.say(ALICE, ".buy NF1 3 saldo")
    fake_midtrans.pay(order_id)
    assert await post(client, fake_midtrans.notification(order_id)) == 200
    return order_id


async def test_refund_of_a_late_payment_credited_to_saldo_takes_the_credit_back(
        shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans) -> None:
    order_id = await paid_late_after_the_stock_sold_out(shop, client, fake_midtrans)
    assert await shop.balance(BOB) == 35_000
    fake_midtrans.pay(order_id, "refund")
    assert await post(client, fake_midtrans.notification(order_id)) == 200
    assert (await shop.order(order_id)).status is OrderStatus.REFUNDED and await shop.balance(BOB) == 0
    assert await post(client, fake_midtrans.notification(order_id)) == 200  # a redelivery takes nothing more
    assert await shop.balance(BOB) == 0


async def test_repeated_late_settlement_credited_to_saldo_pays_out_once(
        shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans) -> None:
    order_id = await paid_late_after_the_stock_sold_out(shop, client, fake_midtrans)
    assert await shop.balance(BOB) == 35_000
    assert await post(client, fake_midtrans.notification(order_id)) == 200  # Midtrans redelivers
    await shop.say(ADMIN, ".addstok NF1\nnew1@mail.test|pw9")  # stock is back meanwhile
    assert await post(client, fake_midtrans.notification(order_id)) == 200
    assert (await shop.order(order_id)).status is OrderStatus.EXPIRED
    assert await shop.balance(BOB) == 35_000 and await shop.stock("NF1") == 1
    assert not any("new1@mail.test" in m for m in shop.inbox(BOB))


async def test_an_order_whose_status_cannot_be_confirmed_is_not_expired(shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    shop.clock.advance(minutes=21)
    fake_midtrans.down.add("status")
    await shop.uc.expire_stale()
    assert (await shop.order(order_id)).status is OrderStatus.PENDING and await shop.stock("NF1") == 2
    fake_midtrans.down.clear()
    await shop.uc.expire_stale()  # the next round can ask: Midtrans never saw a payment
    assert (await shop.order(order_id)).status is OrderStatus.EXPIRED and await shop.stock("NF1") == 3


async def test_a_payment_after_local_expiry_without_any_notification_is_found_by_the_recheck(
        shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    shop.clock.advance(minutes=21)
    await shop.uc.expire_stale()
    assert (await shop.order(order_id)).status is OrderStatus.EXPIRED
    fake_midtrans.pay(order_id)  # paid at the bank; Midtrans' notifications never reach us
    shop.clock.advance(hours=30)
    await shop.uc.expire_stale()
    assert (await shop.order(order_id)).status is OrderStatus.PAID
    assert sum("user1@mail.test|pw1" in m for m in shop.inbox(BOB)) == 1
    assert (await shop.order(order_id)).recheck_at is None  # settled: no more questions
    await shop.uc.expire_stale()
    assert sum("user1@mail.test|pw1" in m for m in shop.inbox(BOB)) == 1


async def test_given_up_orders_are_rechecked_for_seven_days_then_left_alone(shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    shop.clock.advance(minutes=21)
    await shop.uc.expire_stale()
    asked = []
    for _ in range(14):  # 16 hours apart: more than 9 days
        shop.clock.advance(hours=16)
        before = fake_midtrans.status_calls
        await shop.uc.expire_stale()
        asked.append(fake_midtrans.status_calls - before)
    assert sum(asked[:10]) >= 8 and asked[-2:] == [0, 0]  # asked while the week lasted, then never again
    assert (await shop.order(order_id)).recheck_at is None


async def test_a_payment_that_completes_after_the_customer_cancelled_is_found_by_the_recheck(
        shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    assert "dibatalkan" in await shop.say(BOB, ".batal")
    fake_midtrans.pay(order_id)  # the bank transfer was already on its way
    shop.clock.advance(minutes=15)
    await shop.uc.expire_stale()
    assert (await shop.order(order_id)).status is OrderStatus.PAID
    assert sum("user1@mail.test|pw1" in m for m in shop.inbox(BOB)) == 1
