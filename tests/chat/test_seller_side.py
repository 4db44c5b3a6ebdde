"""The seller's side of an order: manual fulfilment (`.kirim`, `.pesanan perlu`, reminders,
`.status`, `.kirimulang`), customers asking for a person (`.admin`, `.balas`), `.ok`, and low
stock told on every path that lowers it."""

from __future__ import annotations


import pytest

from application.ports import PaymentState
from tests.support.shop import ADMIN, ALICE, BOB, Shop


async def manual_product(shop: Shop) -> None:
    await shop.say(ADMIN, ".addproduk CANVA|Canva Pro Invite|25000|10")
    assert await shop.say(ADMIN, ".setproduk CANVA kirim manual") == "kirim untuk CANVA diperbarui."


async def test_a_paid_manual_order_waits_and_every_admin_is_told_with_a_ready_command(shop: Shop) -> None:
    await manual_product(shop)
    reply = await shop.say(ALICE, ".buy CANVA")
    order = await shop.last_order_of(ALICE)
    assert "Pembelian berhasil" in reply and "sedang disiapkan admin" in reply
    told = [m for m in shop.inbox(ADMIN) if order.id in m]
    assert len(told) == 1
    assert f"1x Canva Pro Invite (CANVA)\nPembeli: {ALICE}" in told[0] and f".kirim {order.id}" in told[0]
    assert "menunggu dikirim admin" in await shop.say(ALICE, f".status {order.id}")
    assert "sedang disiapkan admin" in await shop.say(ALICE, ".kirimulang")


async def test_kirim_delivers_records_and_refuses_a_second_time(shop: Shop) -> None:
    await manual_product(shop)
    await shop.say(ALICE, ".buy CANVA")
    order = await shop.last_order_of(ALICE)
    reply = await shop.say(ADMIN, f".kirim {order.id}\nhttps://canva.test/invite/abc\nLogin pakai email kamu")
    assert reply == f"✅ Pesanan {order.id} terkirim ke {ALICE}."
    delivered = shop.inbox(ALICE)[-1]
    assert "https://canva.test/invite/abc\nLogin pakai email kamu" in delivered and order.id in delivered
    assert (await shop.order(order.id)).delivery_note == "https://canva.test/invite/abc\nLogin pakai email kamu"
    assert "lunas" in await shop.say(ALICE, f".status {order.id}")
    assert "https://canva.test/invite/abc" in await shop.say(ALICE, ".kirimulang")
    again = await shop.say(ADMIN, f".kirim {order.id} lagi")
    assert again.startswith(f"Pesanan {order.id} sudah dikirim pada ") and again.endswith("WIB.")
    assert await shop.say(ADMIN, ".pesanan perlu") == "Tidak ada pesanan yang menunggu dikirim."


@pytest.mark.parametrize("text", [".kirim", ".kirim INV-20261201-AAAAAAAAAAAA"])
async def test_kirim_without_an_order_or_text_gets_its_usage(shop: Shop, text: str) -> None:
    assert (await shop.say(ADMIN, text)).startswith("Format: .kirim ORDER_ID")


async def test_kirim_refuses_unknown_unpaid_and_automatic_orders(shop: Shop) -> None:
    assert await shop.say(ADMIN, ".kirim INV-20261201-AAAAAAAAAAAA isi") == (
        "Order INV-20261201-AAAAAAAAAAAA tidak ditemukan.")
    await shop.say(ALICE, ".buy VC")
    automatic = await shop.last_order_of(ALICE)
    assert "tidak sedang menunggu dikirim (status: lunas)" in await shop.say(ADMIN, f".kirim {automatic.id} isi")
    await manual_product(shop)
    await shop.say(BOB, ".buy CANVA")
    unpaid = await shop.last_order_of(BOB)
    assert "menunggu pembayaran" in await shop.say(ADMIN, f".kirim {unpaid.id} isi")
    assert BOB not in " ".join(shop.inbox(BOB)[1:])  # nothing reached the buyer


async def test_a_link_payment_of_a_manual_order_tells_the_admins_in_the_payment(shop: Shop) -> None:
    await manual_product(shop)
    await shop.say(BOB, ".buy CANVA")
    order = await shop.last_order_of(BOB)
    assert not [m for m in shop.inbox(ADMIN) if order.id in m]
    await shop.pay(order.id)
    assert "sedang disiapkan admin" in shop.inbox(BOB)[-1]
    assert len([m for m in shop.inbox(ADMIN) if f".kirim {order.id}" in m]) == 1
    await shop.pay(order.id)  # Midtrans repeats itself: nobody is told twice
    assert len([m for m in shop.inbox(ADMIN) if f".kirim {order.id}" in m]) == 1


async def test_pesanan_perlu_lists_waiting_orders_oldest_first(shop: Shop) -> None:
    await manual_product(shop)
    await shop.say(ALICE, ".buy CANVA")
    first = await shop.last_order_of(ALICE)
    shop.clock.advance(minutes=1)
    await shop.say(ADMIN, f".addsaldo {BOB} 50rb")
    await shop.say(BOB, ".buy CANVA")
    second = await shop.last_order_of(BOB)
    listing = await shop.say(ADMIN, ".pesanan manual")
    assert listing.startswith("*Pesanan menunggu dikirim*")
    assert listing.index(first.id) < listing.index(second.id)
    await shop.say(ADMIN, f".kirim {first.id} done")
    assert first.id not in await shop.say(ADMIN, ".pesanan perlu")


async def test_admins_are_reminded_after_the_setting_then_every_two_hours(shop: Shop) -> None:
    await shop.say(ADMIN, ".setting manual_reminder_minutes 30")
    await manual_product(shop)
    await shop.say(ALICE, ".buy CANVA")
    order = await shop.last_order_of(ALICE)
    remind = shop.app.remind_waiting()

    def reminders() -> int:
        return len([m for m in shop.inbox(ADMIN) if m.startswith(f"⏰ Pesanan {order.id}")])

    shop.clock.advance(minutes=29)
    assert await remind() == 0
    shop.clock.advance(minutes=1)
    assert await remind() == 1 and reminders() == 1
    assert await remind() == 0  # the same round again, or another worker: nothing more
    shop.clock.advance(minutes=119)
    assert await remind() == 0
    shop.clock.advance(minutes=1)
    assert await remind() == 1 and reminders() == 2
    await shop.say(ADMIN, f".kirim {order.id} done")
    shop.clock.advance(hours=3)
    assert await remind() == 0 and reminders() == 2


async def test_a_manual_product_takes_no_stock_items_and_an_item_product_cannot_be_manual(shop: Shop) -> None:
    await manual_product(shop)
    assert "selalu dikirim otomatis" in await shop.say(ADMIN, ".setproduk NF1 kirim manual")
    assert "selalu dikirim otomatis" in await shop.say(ADMIN, ".addstok CANVA\nkode-1")
    assert (await shop.say(ADMIN, ".setproduk CANVA kirim kadang")).startswith("Field tidak valid")
    assert await shop.say(ADMIN, ".setproduk CANVA kirim otomatis") == "kirim untuk CANVA diperbarui."
    await shop.say(ALICE, ".buy CANVA")
    assert "Pembelian berhasil" in shop.inbox(ALICE)[-1] and "disiapkan admin" not in shop.inbox(ALICE)[-1]


async def test_admin_forwards_to_every_admin_and_balas_answers_as_the_shop() -> None:
    second_admin = "6281100000009"
    from tests.support.shop import settings

    shop = Shop(config=settings(TOKOWA_ADMIN_NUMBERS=f"{ADMIN},{second_admin}"))
    assert await shop.say(ALICE, ".admin pesanan saya belum masuk") == (
        "Pesanmu sudah diteruskan ke admin. Balasannya akan datang di chat ini.")
    for admin in (ADMIN, second_admin):
        assert shop.inbox(admin)[-1] == (
            f"💬 Pesan dari {ALICE}:\npesanan saya belum masuk\n\nBalas: .balas {ALICE} PESAN")
    assert await shop.say(ADMIN, ".balas 0812-0000-0002 Sudah kami cek,\nbesok masuk ya") == f"Terkirim ke {ALICE}."
    assert shop.inbox(ALICE)[-1] == "💬 *Tokowa*:\nSudah kami cek,\nbesok masuk ya"
    # Admins' messages to each other are never forwarded.
    assert "antar admin" in await shop.say(ADMIN, ".admin halo")
    assert "antar admin" in await shop.say(ADMIN, f".balas {second_admin} halo")
    assert shop.inbox(second_admin)[-1].startswith("💬 Pesan dari 6281200000002")


@pytest.mark.parametrize("text", ["hubungi admin tolong", "CS, akun saya error", "cs"])
async def test_the_phrases_hubungi_admin_and_cs_reach_the_admins(shop: Shop, text: str) -> None:
    assert "diteruskan ke admin" in await shop.say(BOB, text)
    assert shop.inbox(ADMIN)[-1] == f"💬 Pesan dari {BOB}:\n{text}\n\nBalas: .balas {BOB} PESAN"


async def test_at_most_three_forwards_an_hour_with_one_warning(shop: Shop) -> None:
    for n in range(3):
        assert "diteruskan" in await shop.say(BOB, f".admin halo {n}")
    assert "3 pesan ke admin dalam satu jam" in await shop.say(BOB, ".admin halo 3")
    assert await shop.say(BOB, ".admin halo 4") == ""
    assert len([m for m in shop.inbox(ADMIN) if "Pesan dari" in m]) == 3
    shop.clock.advance(hours=1)
    assert "diteruskan" in await shop.say(BOB, ".admin lagi")


@pytest.mark.parametrize("text", [".admin", ".balas", f".balas {BOB}", ".balas nomor halo", ".ok", ".ok x"])
async def test_bad_input_gets_a_usage_or_error_reply_and_sends_nothing(shop: Shop, text: str) -> None:
    sender = BOB if text == ".admin" else ADMIN
    before = len(shop.inbox(BOB)), len(shop.inbox(ADMIN))
    reply = await shop.say(sender, text)
    assert reply.startswith(("Format:", "Nomor nomor tidak valid"))
    assert (len(shop.inbox(BOB)), len(shop.inbox(ADMIN))) == (before[0] + (sender == BOB), before[1] + (sender == ADMIN))


async def test_ok_acknowledges_an_alert_and_the_next_fall_is_told_again(shop: Shop) -> None:
    await shop.say(ADMIN, ".setstok VC 3")
    alert = [m for m in shop.inbox(ADMIN) if m.startswith("⚠️ Stok VC")]
    assert alert == ["⚠️ Stok VC (Voucher 10rb) tinggal 3.\nTandai selesai: .ok 1"]
    assert await shop.say(ADMIN, ".ok 1") == "Peringatan 1 ditandai selesai."
    assert await shop.say(ADMIN, ".ok 1") == "Tidak ada peringatan terbuka bernomor 1."
    assert await shop.say(ALICE, ".ok 1") == "Perintah tidak dikenal. Ketik .menu untuk daftar perintah."


async def test_low_stock_is_told_on_an_admin_edit_and_again_after_restocking(shop: Shop) -> None:
    def told() -> int:
        return len([m for m in shop.inbox(ADMIN) if m.startswith("⚠️ Stok VC")])

    await shop.say(ADMIN, ".setstok VC 2")
    assert told() == 1
    await shop.say(ALICE, ".buy VC")  # still low, alert still open: not again
    assert told() == 1
    await shop.say(ADMIN, ".addstok VC 10")  # above the threshold: the alert closes by itself
    await shop.say(ADMIN, ".setproduk VC minstok 20")
    assert told() == 2


async def test_low_stock_is_told_when_a_late_payment_takes_the_stock(shop: Shop) -> None:
    await shop.say(ADMIN, ".setstok VC 4")
    await shop.say(BOB, ".buy VC")
    order = await shop.last_order_of(BOB)
    await shop.say(BOB, ".batal")
    await shop.pay(order.id, PaymentState.PAID)
    assert (await shop.order(order.id)).status.value == "PAID"
    assert [m for m in shop.inbox(ADMIN) if m.startswith("⚠️ Stok VC (Voucher 10rb) tinggal 3.")]
