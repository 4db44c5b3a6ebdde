"""Every customer command's success reply and its error and usage replies."""

from __future__ import annotations

import pytest

from application.ports import PaymentState
from domain.order import OrderStatus
from domain.order import JAKARTA
from tests.support.shop import ADMIN, ALICE, BOB, Shop


async def test_menu_lists_the_commands_with_the_shop_name(shop: Shop) -> None:
    await shop.say(ADMIN, ".setting shop_name Toko Budi")
    reply = await shop.say(ALICE, ".menu")
    assert "*Toko Budi*" in reply and ".buy KODE" in reply and ".deposit NOMINAL" in reply
    assert ".addproduk" not in reply


async def test_admins_also_see_their_commands_in_the_menu(shop: Shop) -> None:
    assert ".addproduk" in await shop.say(ADMIN, "/help")


@pytest.mark.parametrize("text", [".produk", "/products", "!list", ".PRODUK", "  .produk  "])
async def test_product_list_with_prices_and_stock_under_every_alias(shop: Shop, text: str) -> None:
    replies = await shop.send(ALICE, text)
    assert len(replies) == 1
    reply = replies[0]
    assert "*NF1* — Netflix 1 Bulan" in reply.text and "Rp 35.000 · stok 3" in reply.text
    assert "Rp 10.000 · stok 20" in reply.text
    assert [c.command for c in reply.choices] == [".produk NF1", ".produk VC"]


async def test_empty_shop_says_nothing_is_for_sale(empty_shop: Shop) -> None:
    assert "Belum ada produk" in await empty_shop.say(ALICE, ".produk")


async def test_product_detail_with_description(shop: Shop) -> None:
    reply = await shop.say(BOB, ".detail nf1")
    assert "*Netflix 1 Bulan* (NF1)" in reply and "Akun premium" in reply and "Rp 35.000" in reply


async def test_unknown_product_detail(shop: Shop) -> None:
    assert "Produk XX9 tidak ditemukan" in await shop.say(BOB, ".produk XX9")


async def test_buy_with_saldo_delivers_the_oldest_item_and_debits(shop: Shop) -> None:
    reply = await shop.say(ALICE, ".buy NF1")
    assert "Pembelian berhasil" in reply and "Sisa saldo: Rp 65.000" in reply
    assert "user1@mail.test|pw1" in reply and "user2@mail.test" not in reply
    assert await shop.balance(ALICE) == 65_000 and await shop.stock("NF1") == 2


async def test_buy_quantity_of_counted_product_shows_delivery_text(shop: Shop) -> None:
    await shop.say(ADMIN, ".setproduk VC teks Kode voucher dikirim admin")
    reply = await shop.say(ALICE, ".beli vc 3 saldo")
    assert "3x Voucher 10rb = Rp 30.000" in reply and "Kode voucher dikirim admin" in reply
    assert await shop.stock("VC") == 17


async def test_explicit_saldo_with_too_little_balance_is_refused_not_linked(shop: Shop) -> None:
    reply = await shop.say(BOB, ".buy VC 1 saldo")
    assert reply == "Saldo tidak cukup. Saldo: Rp 0, total: Rp 10.000, kurang Rp 10.000.\nIsi saldo dulu: .deposit 10000"
    assert await shop.stock("VC") == 20 and await shop.last_order_of(BOB) is None


async def test_buy_without_enough_saldo_gets_a_payment_link_and_reserves_stock(shop: Shop) -> None:
    replies = await shop.send(BOB, ".buy NF1")
    order = await shop.last_order_of(BOB)
    assert order.status is OrderStatus.PENDING
    assert f"http://shop.test/pay/{order.id}" in replies[0].text
    assert replies[0].link is not None and replies[0].link.url.endswith(order.id)
    assert await shop.stock("NF1") == 2


async def test_explicit_link_even_when_saldo_covers(shop: Shop) -> None:
    assert "/pay/INV-" in await shop.say(ALICE, ".buy VC link")
    assert await shop.balance(ALICE) == 100_000


@pytest.mark.parametrize("text", [".buy", ".buy NF-1", ".buy NF1 dua", ".buy NF1 1 saldo extra"])
async def test_buy_usage(shop: Shop, text: str) -> None:
    assert (await shop.say(ALICE, text)).startswith("Format: .buy KODE [JUMLAH] [saldo|link|qris]")


@pytest.mark.parametrize("qty", ["0", "11"])
async def test_buy_quantity_out_of_range(shop: Shop, qty: str) -> None:
    assert await shop.say(ALICE, f".buy VC {qty}") == "Jumlah harus 1 sampai 10."


async def test_buy_more_than_stock(shop: Shop) -> None:
    assert await shop.say(ALICE, ".buy NF1 4") == "Stok NF1 tidak cukup (sisa 3)."
    assert await shop.balance(ALICE) == 100_000


async def test_buy_unknown_product(shop: Shop) -> None:
    assert "Produk ZZ tidak ditemukan" in await shop.say(ALICE, ".buy ZZ")


async def test_one_pending_order_per_customer(shop: Shop) -> None:
    await shop.say(BOB, ".buy NF1")
    pending = await shop.last_order_of(BOB)
    reply = await shop.say(BOB, ".deposit 50000")
    assert f"order {pending.id} masih menunggu pembayaran" in reply and ".batal" in reply


async def test_saldo_shows_balance_and_updates_after_a_purchase(shop: Shop) -> None:
    assert await shop.say(ALICE, ".saldo") == "Saldo kamu: *Rp 100.000*"
    await shop.say(ALICE, ".buy VC")
    assert await shop.say(ALICE, ".balance") == "Saldo kamu: *Rp 90.000*"


@pytest.mark.parametrize("amount, rupiah", [("50000", 50_000), ("50.000", 50_000), ("50rb", 50_000), ("50k", 50_000)])
async def test_deposit_amount_formats(shop: Shop, amount: str, rupiah: int) -> None:
    reply = await shop.say(BOB, f".deposit {amount}")
    order = await shop.last_order_of(BOB)
    assert order.total.value == rupiah and f"Isi saldo Rp {rupiah:,}".replace(",", ".") in reply
    assert f"/pay/{order.id}" in reply


async def test_deposit_paid_credits_the_wallet_once(shop: Shop) -> None:
    await shop.say(BOB, ".topup 25rb")
    order = await shop.last_order_of(BOB)
    await shop.pay(order.id)
    await shop.pay(order.id)
    assert await shop.balance(BOB) == 25_000
    assert sum("Saldo bertambah Rp 25.000" in m for m in shop.inbox(BOB)) == 1


@pytest.mark.parametrize("text", [".deposit", ".deposit lima", ".deposit 50.00", ".deposit -5000", ".deposit 1 2"])
async def test_deposit_usage(shop: Shop, text: str) -> None:
    assert (await shop.say(BOB, text)).startswith("Format: .deposit NOMINAL")


@pytest.mark.parametrize("amount", ["9000", "10.000.001"])
async def test_deposit_out_of_range(shop: Shop, amount: str) -> None:
    assert await shop.say(BOB, f".deposit {amount}") == "Nominal deposit harus antara Rp 10.000 dan Rp 10.000.000."


async def test_history_lists_orders_and_topups(shop: Shop) -> None:
    await shop.say(ALICE, ".buy VC 2")
    await shop.say(ALICE, ".deposit 20rb")
    reply = await shop.say(ALICE, ".riwayat")
    assert reply.startswith("*Riwayat transaksi*")
    assert "2x VC · Rp 20.000 · lunas" in reply and "isi saldo · Rp 20.000 · menunggu pembayaran" in reply
    wib = shop.clock.now().astimezone(JAKARTA)
    assert all(line.startswith(f"{wib:%d-%m %H:%M} · INV-") for line in reply.splitlines()[1:])  # dates in WIB


async def test_history_when_empty(shop: Shop) -> None:
    assert await shop.say(BOB, ".history") == "Belum ada transaksi."


async def test_status_of_own_order(shop: Shop) -> None:
    await shop.say(BOB, ".buy VC")
    order = await shop.last_order_of(BOB)
    reply = await shop.say(BOB, f".cek {order.id.lower()}")
    assert f"Order {order.id}" in reply and "menunggu pembayaran" in reply and "Link bayar:" in reply


async def test_status_of_someone_elses_order_reads_as_not_found(shop: Shop) -> None:
    await shop.say(ALICE, ".buy VC")
    order = await shop.last_order_of(ALICE)
    assert await shop.say(BOB, f".status {order.id}") == f"Order {order.id} tidak ditemukan."


async def test_status_without_an_id_is_the_latest_order(shop: Shop) -> None:
    assert await shop.say(BOB, ".status") == "Belum ada transaksi."
    await shop.say(BOB, ".buy VC")
    first = await shop.last_order_of(BOB)
    await shop.say(BOB, ".batal")
    shop.clock.advance(seconds=1)
    await shop.say(BOB, ".deposit 50000")
    latest = await shop.last_order_of(BOB)
    assert latest.id != first.id
    reply = await shop.say(BOB, ".status")
    assert latest.id in reply and first.id not in reply


async def test_cancel_returns_reserved_stock_at_once(shop: Shop) -> None:
    await shop.say(BOB, ".buy NF1 2")
    assert await shop.stock("NF1") == 1
    order = await shop.last_order_of(BOB)
    assert await shop.say(BOB, ".batal") == f"Order {order.id} dibatalkan."
    assert await shop.stock("NF1") == 3
    assert (await shop.order(order.id)).status is OrderStatus.CANCELLED


async def test_cancel_with_nothing_pending(shop: Shop) -> None:
    assert await shop.say(BOB, ".cancel") == "Tidak ada pembayaran yang menunggu."


async def test_cancel_a_paid_order_is_refused(shop: Shop) -> None:
    await shop.say(ALICE, ".buy VC")
    order = await shop.last_order_of(ALICE)
    assert await shop.say(ALICE, f".batal {order.id}") == f"Order {order.id} tidak bisa dibatalkan (status lunas)."


async def test_resend_sends_the_same_items_again(shop: Shop) -> None:
    first = await shop.say(ALICE, ".buy NF1")
    again = await shop.say(ALICE, ".kirimulang")
    assert "user1@mail.test|pw1" in first and "user1@mail.test|pw1" in again
    assert await shop.stock("NF1") == 2


async def test_resend_with_nothing_paid(shop: Shop) -> None:
    assert await shop.say(BOB, ".resend") == "Belum ada pesanan lunas untuk dikirim ulang."


async def test_paid_link_order_delivers_its_reserved_item(shop: Shop) -> None:
    await shop.say(BOB, ".buy NF1")
    order = await shop.last_order_of(BOB)
    await shop.pay(order.id)
    delivered = [m for m in shop.inbox(BOB) if "Pesanan" in m]
    assert len(delivered) == 1 and "user1@mail.test|pw1" in delivered[0]


async def test_expired_link_order_releases_stock_and_tells_the_customer(shop: Shop) -> None:
    await shop.say(BOB, ".buy VC 5")
    order = await shop.last_order_of(BOB)
    await shop.pay(order.id, PaymentState.EXPIRED)
    assert await shop.stock("VC") == 20
    assert any("kedaluwarsa" in m for m in shop.inbox(BOB))


async def test_english_catalog_when_the_shop_language_is_english(shop: Shop) -> None:
    await shop.say(ADMIN, ".setting language en")
    assert await shop.say(ALICE, ".balance") == "Your balance: *Rp 100.000*"
    assert (await shop.say(ALICE, ".buy")).startswith("Usage: .buy CODE")


@pytest.mark.parametrize("text, usage", [
    (".detail", "Format: .produk [KODE]\nContoh: .produk NF1"), (".produk NF-1", "Format: .produk [KODE]\nContoh: .produk NF1"),
    (".batal A B", "Format: .batal [ORDER_ID]"), (".kirimulang A B", "Format: .kirimulang [ORDER_ID]"),
    (".status A B", "Format: .status [ORDER_ID]"),
])
async def test_remaining_usage_replies(shop: Shop, text: str, usage: str) -> None:
    assert await shop.say(ALICE, text) == usage


async def test_usage_examples_name_a_product_this_shop_sells() -> None:
    shop = Shop()
    await shop.say(ADMIN, ".addproduk SPO|Spotify 1 Bulan|20000|5")
    assert await shop.say(ALICE, ".buy") == "Format: .buy KODE [JUMLAH] [saldo|link|qris]\nContoh: .buy SPO 2"


async def test_resend_of_an_unknown_order(shop: Shop) -> None:
    assert await shop.say(ALICE, ".kirimulang INV-20260101-AAAAAAAAAAAA") == "Order INV-20260101-AAAAAAAAAAAA tidak ditemukan."


async def test_provider_failure_releases_the_stock_and_asks_to_retry(shop: Shop) -> None:
    shop.gateway.fail_next_create = True
    assert await shop.say(BOB, ".buy NF1") == "Pembayaran lewat link sedang tidak tersedia, coba lagi sebentar."
    order = await shop.last_order_of(BOB)
    assert order.status is OrderStatus.FAILED and await shop.stock("NF1") == 3
    assert "/pay/INV-" in await shop.say(BOB, ".buy NF1")  # nothing left pending in the way


async def test_without_link_payments_saldo_still_sells_and_links_are_refused() -> None:
    from dependency_injector import providers

    from adapters.payments.simulator import DisabledPaymentGateway
    from entrypoints.container import InMemoryAdapters

    adapters = InMemoryAdapters()
    adapters.gateway.override(providers.Object(DisabledPaymentGateway()))
    shop = Shop(adapters)
    await shop.stock_products()
    assert await shop.say(BOB, ".buy VC") == "Saldo tidak cukup. Saldo: Rp 0, total: Rp 10.000, kurang Rp 10.000.\nIsi saldo dulu: .deposit 10000"
    assert await shop.say(BOB, ".buy VC link") == "Pembayaran lewat link tidak aktif di toko ini. Gunakan saldo."
    assert await shop.say(BOB, ".deposit 50rb") == "Pembayaran lewat link tidak aktif di toko ini. Gunakan saldo."
    assert "Pembelian berhasil" in await shop.say(ALICE, ".buy VC")


async def test_cancel_returns_the_reservation_even_when_stock_was_set_to_the_maximum(shop: Shop) -> None:
    await shop.say(BOB, ".buy VC")
    await shop.say(ADMIN, ".setstok VC 1000000")
    assert "dibatalkan" in await shop.say(BOB, ".batal")
    assert (await shop.last_order_of(BOB)).status is OrderStatus.CANCELLED


async def test_a_customer_chooses_english_and_keeps_it_for_deliveries_too(shop: Shop) -> None:
    assert await shop.say(BOB, ".language en") == "OK, replies are now in English."
    assert await shop.say(BOB, ".saldo") == "Your balance: *Rp 0*"
    assert await shop.say(ALICE, ".saldo") == "Saldo kamu: *Rp 100.000*"  # others keep the shop's language
    await shop.say(BOB, ".buy NF1")
    await shop.pay((await shop.last_order_of(BOB)).id)
    assert any(m.startswith("📦 *Order INV-") and "Thank you for shopping" in m for m in shop.inbox(BOB))
    assert await shop.say(BOB, ".bahasa id") == "Baik, balasan sekarang dalam Bahasa Indonesia."
    assert await shop.say(BOB, ".balance") == "Saldo kamu: *Rp 0*"


@pytest.mark.parametrize("text", [".bahasa", ".bahasa fr", ".language en id"])
async def test_language_usage(shop: Shop, text: str) -> None:
    assert await shop.say(BOB, text) == "Format: .bahasa id|en"


async def test_item_products_deliver_labelled_fields_and_the_sellers_text(shop: Shop) -> None:
    await shop.say(ADMIN, ".setproduk NF1 format email|password")
    await shop.say(ADMIN, ".setproduk NF1 teks Login di netflix.com, jangan ganti password.")
    reply = await shop.say(ALICE, ".buy NF1")
    assert "1.\n   Email: user1@mail.test\n   Password: pw1" in reply
    assert "Login di netflix.com, jangan ganti password." in reply  # the seller's text comes with items too
    assert "1.\n   Email: user1@mail.test" in await shop.say(ALICE, ".kirimulang")
    refused = await shop.say(ADMIN, ".setproduk NF1 format email||pin")  # an empty label
    assert refused.startswith("Format item: 1-8 nama kolom")
