"""QRIS: the Core API charge through midtransclient against the fake Midtrans (success, 4xx, 5xx,
timeout), the picture Tokowa draws from `qr_string`, and `.buy ... qris` / `.deposit ... qris`
end to end on the in-memory shop, paid through the webhook like any Midtrans order."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from adapters.messaging.qr_image import MIN_SIDE_PX, qr_png, qr_text
from adapters.payments.midtrans import MidtransPaymentGateway
from adapters.payments.simulator import crc16, simulated_qr_string
from application.errors import PaymentProviderUnavailable
from application.ports import LineItem, PaymentRequest
from application.replies import Reply
from domain.money import Rupiah
from domain.order import OrderStatus, PaymentChannel, PaymentMethod
from tests.payments.conftest import SERVER_KEY, FakeMidtrans, midtrans_gateway
from tests.payments.test_midtrans_webhook import post
from tests.support.qr import decode_qr
from tests.support.shop import ADMIN, ALICE, BOB, Shop

ORDER = "INV-20261128-QRQRQRQRQRQR"


def request(order_id: str = ORDER, minutes: int = 15) -> PaymentRequest:
    return PaymentRequest(order_id, Rupiah(35_000), (LineItem("NF1", "Netflix", Rupiah(35_000), 1),),
                          "6281300000003", datetime(2026, 11, 28, 3, 0, tzinfo=UTC), minutes)


async def last_reply(shop: Shop, user: str, text: str) -> Reply:
    replies = await shop.send(user, text)
    assert replies, f"no reply to {text!r}"
    return replies[-1]


# --- the charge, through midtransclient ------------------------------------------------------

async def test_a_qris_charge_returns_the_qr_string_and_expires_with_the_order(fake_midtrans: FakeMidtrans) -> None:
    link = await midtrans_gateway(fake_midtrans).charge_qris(request(minutes=30))
    [body] = fake_midtrans.charge_requests
    assert body["payment_type"] == "qris"
    assert body["transaction_details"] == {"order_id": ORDER, "gross_amount": 35_000}
    assert body["item_details"] == [{"id": "NF1", "name": "Netflix", "price": 35_000, "quantity": 1}]
    assert body["custom_expiry"] == {"order_time": "2026-11-28 10:00:00 +0700", "expiry_duration": 30, "unit": "minute"}
    assert link.qr_string == FakeMidtrans.qr_string(ORDER)
    assert link.url == f"{fake_midtrans.url}/v2/qris/{fake_midtrans.transactions[ORDER].transaction_id}/qr-code"
    assert fake_midtrans.snap_requests == []


async def test_a_refused_charge_is_provider_unavailable(fake_midtrans: FakeMidtrans) -> None:
    gateway = midtrans_gateway(fake_midtrans)
    await gateway.charge_qris(request())
    with pytest.raises(PaymentProviderUnavailable):  # 406 in the body: the order id was used
        await gateway.charge_qris(request())
    bad = PaymentRequest("INV-20261128-OTHEROTHEROT", Rupiah(40_000), request().items, "62813", request().start_time, 15)
    with pytest.raises(PaymentProviderUnavailable):  # items that do not add up are never sent
        await gateway.charge_qris(bad)
    wrong_key = MidtransPaymentGateway("SB-Mid-server-wrong", snap_url=f"{fake_midtrans.url}/snap/v1",
                                       api_url=fake_midtrans.url)
    with pytest.raises(PaymentProviderUnavailable):  # HTTP 401
        await wrong_key.charge_qris(request("INV-20261128-THIRDTHIRDTH"))
    assert len(fake_midtrans.charge_requests) == 2


async def test_a_charge_answered_5xx_is_provider_unavailable(fake_midtrans: FakeMidtrans) -> None:
    fake_midtrans.down.add("charge")
    with pytest.raises(PaymentProviderUnavailable):
        await midtrans_gateway(fake_midtrans).charge_qris(request())


@pytest.fixture
def hung_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


async def test_a_hung_charge_times_out(hung_server: str) -> None:
    gateway = MidtransPaymentGateway(SERVER_KEY, snap_url=f"{hung_server}/snap/v1", api_url=hung_server, timeout=0.2)
    with pytest.raises(PaymentProviderUnavailable):
        await gateway.charge_qris(request())


# --- the picture ------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    FakeMidtrans.qr_string(ORDER),
    simulated_qr_string(ORDER, Rupiah(10_000_000)),
    "00020101021226" + "9" * 400 + "6304ABCD",  # much longer than any QRIS string
])
def test_the_picture_decodes_back_to_the_exact_qr_string(data: str) -> None:
    png = qr_png(data)
    assert decode_qr(png) == [data]


def test_the_picture_is_big_enough_to_scan_from_another_screen() -> None:
    png = qr_png(FakeMidtrans.qr_string(ORDER))
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")  # the PNG's IHDR
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and width == height >= MIN_SIDE_PX


def test_the_terminal_picture_is_text_blocks() -> None:
    lines = qr_text("hello").splitlines()
    assert len(lines) > 10 and set("".join(lines)) <= set("█▀▄ ")


def test_the_simulators_qr_string_carries_a_valid_checksum() -> None:
    data = simulated_qr_string(ORDER, Rupiah(35_000))
    assert data.endswith(crc16(data[:-4])) and "540535000" in data and ORDER in data
    assert crc16("123456789") == "29B1"  # CRC-16/CCITT-FALSE's check value


# --- buying and topping up -------------------------------------------------------------------

async def test_buy_with_qris_reserves_stock_before_the_charge_and_sends_the_qr_picture(
        shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    fake_midtrans.create_gate = threading.Event()
    buying = asyncio.create_task(shop.send(BOB, ".buy NF1 qris"))
    await asyncio.to_thread(fake_midtrans.create_arrived.wait, 10)
    pending = await shop.last_order_of(BOB)  # committed before Midtrans answered
    assert pending.status is OrderStatus.PENDING and pending.channel is PaymentChannel.QRIS
    assert await shop.stock("NF1") == 2
    fake_midtrans.create_gate.set()
    reply = (await buying)[-1]

    order = await shop.order(pending.id)
    assert reply.image is not None and reply.image.data == FakeMidtrans.qr_string(order.id) == order.qr_string
    assert decode_qr(qr_png(reply.image.data)) == [order.qr_string]
    for part in (order.id, "Rp 35.000", "Bayar dengan QRIS sebelum 10:15 WIB", "aplikasi bank atau e-wallet", "screenshot"):
        assert part in reply.text
    assert order.payment_url and order.payment_url in reply.image.fallback and order.payment_url == reply.image.url
    assert (order.method, order.total) == (PaymentMethod.MIDTRANS, Rupiah(35_000))
    assert "Metode: QRIS" in await shop.say(BOB, f".status {order.id}")


async def test_a_paid_qris_purchase_is_delivered_through_the_webhook(
        shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans) -> None:
    await shop.say(BOB, ".buy NF1 qris")
    order = await shop.last_order_of(BOB)
    fake_midtrans.pay(order.id, "settlement", "accept")
    assert await post(client, fake_midtrans.notification(order.id)) == 200
    assert (await shop.order(order.id)).status is OrderStatus.PAID
    assert any("user1@mail.test|pw1" in m for m in shop.inbox(BOB))


async def test_an_expired_qris_code_expires_the_order_and_returns_its_stock(
        shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans) -> None:
    await shop.say(BOB, ".buy NF1 qris")
    order = await shop.last_order_of(BOB)
    fake_midtrans.pay(order.id, "expire", None)
    assert await post(client, fake_midtrans.notification(order.id)) == 200
    assert (await shop.order(order.id)).status is OrderStatus.EXPIRED
    assert await shop.stock("NF1") == 3


async def test_cancel_of_a_qris_order_cancels_the_charge_at_midtrans(shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    await shop.say(BOB, ".buy NF1 qris")
    order = await shop.last_order_of(BOB)
    assert "dibatalkan" in await shop.say(BOB, ".batal")
    assert fake_midtrans.cancelled == [order.id] and fake_midtrans.transactions[order.id].status == "cancel"
    assert await shop.stock("NF1") == 3


async def test_a_failed_charge_releases_the_stock_and_offers_the_link(shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    fake_midtrans.down.add("charge")
    reply = await shop.say(BOB, ".buy NF1 qris")
    assert "QRIS sedang tidak bisa dibuat, coba lagi" in reply and ".buy NF1 link" in reply
    assert (await shop.last_order_of(BOB)).status is OrderStatus.FAILED
    assert await shop.stock("NF1") == 3
    assert "redirection" in await shop.say(BOB, ".buy NF1 link")  # the link still works


async def test_payment_method_qris_is_the_default_when_saldo_does_not_cover(
        shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    assert "`payment_method` = QRIS" in await shop.say(ADMIN, ".setting payment_method QRIS")
    assert (await shop.uc.settings.get()).payment_method == "qris"
    assert (await last_reply(shop, BOB, ".buy VC")).image is not None
    assert "Pembelian berhasil" in await shop.say(ALICE, ".buy VC")  # saldo covers it: no charge
    assert len(fake_midtrans.charge_requests) == 1 and fake_midtrans.snap_requests == []
    await shop.say(BOB, ".batal")
    assert "redirection" in await shop.say(BOB, ".buy VC link")  # named: a link after all


async def test_topup_with_qris_and_by_the_shop_setting(
        shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans) -> None:
    reply = await last_reply(shop, BOB, ".deposit 50rb qris")
    order = await shop.last_order_of(BOB)
    assert reply.image is not None and reply.image.data == FakeMidtrans.qr_string(order.id)
    assert "Isi saldo *Rp 50.000*" in reply.text and order.id in reply.text
    fake_midtrans.pay(order.id, "settlement", None, amount="50000.00")
    assert await post(client, fake_midtrans.notification(order.id)) == 200
    assert await shop.balance(BOB) == 50_000

    await shop.say(ADMIN, ".setting payment_method qris")
    assert (await last_reply(shop, BOB, ".topup 20rb")).image is not None
    await shop.say(BOB, ".batal")
    assert (await last_reply(shop, BOB, ".deposit 20rb link")).link is not None


async def test_link_gives_the_pending_orders_link_as_text(shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    await shop.say(BOB, ".buy NF1 qris")
    order = await shop.last_order_of(BOB)
    reply = await last_reply(shop, BOB, f".link {order.id.lower()}")
    assert reply.image is None and reply.link is None
    assert reply.text == f"Link bayar order {order.id} (Rp 35.000), berlaku sampai 10:15 WIB:\n{order.payment_url}"
    await shop.say(BOB, ".batal")
    assert await shop.say(BOB, f".link {order.id}") == f"Order {order.id} tidak menunggu pembayaran (status dibatalkan)."
    assert await shop.say(ALICE, f".link {order.id}") == f"Order {order.id} tidak ditemukan."


@pytest.mark.parametrize(("text", "usage"), [
    (".link", "Format: .link ORDER_ID"), (".link A B", "Format: .link ORDER_ID"),
    (".deposit 50rb saldo", "Format: .deposit NOMINAL [link|qris]"),
    (".deposit 50rb qris lagi", "Format: .deposit NOMINAL [link|qris]"),
    (".buy NF1 2 qris x", "Format: .buy KODE [JUMLAH] [saldo|link|qris]"),
])
async def test_bad_input_gets_the_usage_and_changes_nothing(shop: Shop, fake_midtrans: FakeMidtrans,
                                                             text: str, usage: str) -> None:
    assert (await shop.say(BOB, text)).startswith(usage)
    assert await shop.last_order_of(BOB) is None and fake_midtrans.charge_requests == []


async def test_an_unknown_payment_method_setting_is_refused(shop: Shop) -> None:
    assert (await shop.say(ADMIN, ".setting payment_method transfer")) == (
        "Nilai `transfer` tidak bisa untuk `payment_method`: pilih link/qris.")
    assert (await shop.uc.settings.get()).payment_method == "link"


async def test_english_caption(shop: Shop, fake_midtrans: FakeMidtrans) -> None:
    await shop.say(BOB, ".language en")
    reply = await last_reply(shop, BOB, ".buy NF1 qris")
    assert "Pay with QRIS before 10:15 WIB" in reply.text and "any bank or e-wallet app" in reply.text
    assert reply.image is not None and "could not be sent" in reply.image.fallback
