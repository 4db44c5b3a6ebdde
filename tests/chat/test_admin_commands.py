"""Every admin command's success reply and its error and usage replies, and non-admins trying them."""

from __future__ import annotations

import pytest

from tests.support.shop import ADMIN, ALICE, BOB, Shop

ADMIN_WRITES = [
    ".addproduk X1|Nama|1000|1", ".setharga VC 5000", ".addstok VC 5", ".setstok VC 1", ".cekstok VC",
    f".setrole {BOB} gold", ".hapusproduk VC", f".addsaldo {BOB} 10000", f".kurangsaldo {ALICE} 1000",
    ".setproduk VC nama Baru", ".pesanan", ".rekap", ".laporan 7", ".setting max_qty 5",
]


@pytest.mark.parametrize("text", ADMIN_WRITES)
async def test_non_admin_gets_the_unknown_command_reply_and_nothing_changes(shop: Shop, text: str) -> None:
    assert await shop.say(ALICE, text) == "Perintah tidak dikenal. Ketik .menu untuk daftar perintah."
    assert await shop.stock("VC") == 20 and await shop.balance(ALICE) == 100_000


async def test_addproduk_creates_and_refuses_an_existing_active_code(shop: Shop) -> None:
    assert await shop.say(ADMIN, ".addproduk SP1|Spotify 1 Bulan|20rb|5|Akun individual") == (
        "Produk SP1 ditambahkan: Spotify 1 Bulan, Rp 20.000, stok 5.")
    assert await shop.say(ADMIN, ".addproduk sp1|Lain|1000|1") == "Kode SP1 sudah ada."


async def test_addproduk_reactivates_a_removed_product(shop: Shop) -> None:
    await shop.say(ADMIN, ".hapusproduk VC")
    assert "VC" not in await shop.say(ALICE, ".produk")
    assert await shop.say(ADMIN, ".addproduk VC|Voucher Baru|12000|4") == (
        "Produk VC diaktifkan lagi: Voucher Baru, Rp 12.000, stok 4.")
    assert "Voucher Baru" in await shop.say(ALICE, ".produk")


@pytest.mark.parametrize("text", [".addproduk", ".addproduk A|B|C", ".addproduk A|B|harga|1", ".addproduk A|B|1000|x"])
async def test_addproduk_usage(shop: Shop, text: str) -> None:
    assert (await shop.say(ADMIN, text)).startswith("Format: .addproduk KODE|Nama|Harga|Stok")


async def test_addproduk_bad_code(shop: Shop) -> None:
    assert await shop.say(ADMIN, ".addproduk A-1|Nama|1000|1") == "Kode produk hanya huruf dan angka."


async def test_setharga_changes_price_but_pending_orders_keep_theirs(shop: Shop) -> None:
    await shop.say(BOB, ".buy VC")
    pending = await shop.last_order_of(BOB)
    assert await shop.say(ADMIN, ".setharga VC 15rb") == "Harga VC sekarang Rp 15.000."
    assert "Rp 15.000" in await shop.say(ALICE, ".produk VC")
    assert (await shop.order(pending.id)).total.value == 10_000


async def test_setharga_usage_and_unknown(shop: Shop) -> None:
    assert (await shop.say(ADMIN, ".setharga VC")).startswith("Format: .setharga")
    assert "tidak ditemukan" in await shop.say(ADMIN, ".setharga ZZ 1000")


async def test_addstok_and_setstok_on_counted_stock(shop: Shop) -> None:
    assert await shop.say(ADMIN, ".addstok VC 5") == "Stok VC sekarang 25."
    assert await shop.say(ADMIN, ".setstok VC 2") == "Stok VC sekarang 2."
    assert (await shop.say(ADMIN, ".setstok VC")).startswith("Format: .setstok")


async def test_item_product_refuses_numbers_and_counted_product_refuses_items(shop: Shop) -> None:
    assert "memakai item stok" in await shop.say(ADMIN, ".addstok NF1 5")
    assert "memakai stok angka" in await shop.say(ADMIN, ".addstok VC\nkode-1")
    assert await shop.stock("NF1") == 3 and await shop.stock("VC") == 20


async def test_addstok_items_refuses_blank_and_duplicate_lines_with_a_count(shop: Shop) -> None:
    reply = await shop.say(ADMIN, ".addstok NF1\na|1\n\na|1\nb|2")
    assert reply == ("Item ditolak: 1 baris kosong, 1 duplikat. Tidak ada yang ditambahkan.\n"
                     "• baris 2: kosong\n"
                     "• baris 3 `a|1`: dobel di pesan ini")
    assert await shop.say(ADMIN, ".addstok NF1\nbaru|9\nuser1@mail.test|pw1") == (
        "Item ditolak: 0 baris kosong, 1 duplikat. Tidak ada yang ditambahkan.\n"
        "• baris 2 `user1@mail.test|pw1`: sudah ada di stok")
    assert await shop.stock("NF1") == 3


async def test_addstok_names_repeats_and_lines_already_in_stock_in_one_reply(shop: Shop) -> None:
    # One correction, not two: the seller sees every line to remove at once.
    reply = await shop.say(ADMIN, ".addstok NF1\nbaru|9\nuser1@mail.test|pw1\nbaru|9")
    assert reply == ("Item ditolak: 0 baris kosong, 2 duplikat. Tidak ada yang ditambahkan.\n"
                     "• baris 2 `user1@mail.test|pw1`: sudah ada di stok\n"
                     "• baris 3 `baru|9`: dobel di pesan ini")
    assert await shop.stock("NF1") == 3
    assert await shop.say(ADMIN, ".addstok NF1\nbaru|9") == "1 item ditambahkan ke NF1. Stok sekarang 4."


async def test_addstok_quotes_the_first_three_refused_lines_and_counts_the_rest(shop: Shop) -> None:
    reply = await shop.say(ADMIN, ".addstok NF1\nx_1\nx_1\nx_1\n\n\nok")
    assert reply.splitlines()[1:] == [
        "• baris 2 `x_1`: dobel di pesan ini", "• baris 3 `x_1`: dobel di pesan ini", "• baris 4: kosong",
        "• dan 1 baris lain"]
    assert await shop.stock("NF1") == 3


async def test_addstok_items_adds_them(shop: Shop) -> None:
    assert await shop.say(ADMIN, ".addstok NF1\nu4|p4\nu5|p5") == "2 item ditambahkan ke NF1. Stok sekarang 5."


async def test_cekstok_shows_the_count_never_the_items(shop: Shop) -> None:
    reply = await shop.say(ADMIN, ".cekstok nf1")
    assert reply == "Stok NF1: 3 tersisa." and "user1" not in reply


async def test_setrole_prices_by_tier_and_names_new_numbers(shop: Shop) -> None:
    await shop.say(ADMIN, ".setproduk VC harga_gold 8000")
    await shop.say(BOB, ".produk")
    assert await shop.say(ADMIN, ".setrole 0813-0000-0003 gold") == "Tier 6281300000003 sekarang gold."
    assert "Rp 8.000" in await shop.say(BOB, ".produk")
    assert await shop.say(ADMIN, ".setrole +62 899 1234 5678 silver") == (
        "Tier 6289912345678 sekarang silver. (nomor baru, belum pernah chat)")


@pytest.mark.parametrize("text", [".setrole", f".setrole {BOB} platinum"])
async def test_setrole_usage(shop: Shop, text: str) -> None:
    assert (await shop.say(ADMIN, text)).startswith("Format: .setrole")


async def test_setrole_bad_number(shop: Shop) -> None:
    assert "tidak valid" in await shop.say(ADMIN, ".setrole 12345 gold")


async def test_hapusproduk_hides_it_but_history_keeps_it(shop: Shop) -> None:
    await shop.say(ALICE, ".buy VC")
    assert await shop.say(ADMIN, ".hapusproduk vc") == "Produk VC dinonaktifkan."
    assert "VC" not in await shop.say(BOB, ".produk")
    assert "1x VC" in await shop.say(ALICE, ".riwayat")
    assert "tidak ditemukan" in await shop.say(BOB, ".buy VC")


async def test_addsaldo_normalises_the_number_and_says_it_is_new(shop: Shop) -> None:
    reply = await shop.say(ADMIN, ".addsaldo 0857 1111 2222 50rb")
    assert reply == "Saldo 6285711112222 +Rp 50.000 → Rp 50.000. (nomor baru, belum pernah chat)"
    assert await shop.balance("6285711112222") == 50_000


async def test_kurangsaldo_takes_and_refuses_more_than_the_balance(shop: Shop) -> None:
    assert await shop.say(ADMIN, f".kurangsaldo {ALICE} 30.000") == f"Saldo {ALICE} -Rp 30.000 → Rp 70.000."
    assert await shop.say(ADMIN, f".kurangsaldo {ALICE} 80000") == "Saldo tidak cukup. Saldo: Rp 70.000, total: Rp 80.000, kurang Rp 10.000."
    assert await shop.balance(ALICE) == 70_000


@pytest.mark.parametrize("text", [".addsaldo", f".addsaldo {BOB}", f".addsaldo {BOB} banyak", f".kurangsaldo {BOB} 0"])
async def test_adjust_balance_usage(shop: Shop, text: str) -> None:
    assert (await shop.say(ADMIN, text)).startswith("Format: .")


async def test_setproduk_fields(shop: Shop) -> None:
    assert await shop.say(ADMIN, ".setproduk VC deskripsi Voucher game semua server") == "deskripsi untuk VC diperbarui."
    assert "semua server" in await shop.say(ALICE, ".produk VC")
    await shop.say(ADMIN, ".setproduk VC sk Tidak bisa refund")
    assert "S&K: Tidak bisa refund" in await shop.say(ALICE, ".buy VC")


async def test_setproduk_usage_lists_fields(shop: Shop) -> None:
    reply = await shop.say(ADMIN, ".setproduk VC warna merah")
    assert reply.startswith("Format: .setproduk") and "harga_gold" in reply and "minstok" in reply


async def test_low_stock_alerts_admins_once_when_crossing_the_threshold(shop: Shop) -> None:
    await shop.say(ADMIN, ".setproduk NF1 minstok 2")
    await shop.say(ALICE, ".buy NF1")
    await shop.say(ALICE, ".buy NF1")
    alerts = [m for m in shop.inbox(ADMIN) if "Stok NF1" in m and "tinggal" in m]
    assert alerts == ["⚠️ Stok NF1 (Netflix 1 Bulan) tinggal 2.\nTandai selesai: .ok 1"]


async def test_pesanan_lists_recent_orders_and_filters_by_status(shop: Shop) -> None:
    await shop.say(ALICE, ".buy VC")
    await shop.say(BOB, ".buy VC")
    everything = await shop.say(ADMIN, ".pesanan")
    assert everything.startswith("*Pesanan terbaru*") and ALICE in everything and BOB in everything
    pending = await shop.say(ADMIN, ".pesanan pending")
    assert BOB in pending and ALICE not in pending
    assert await shop.say(ADMIN, ".pesanan refunded") == "Tidak ada pesanan."
    assert await shop.say(ADMIN, ".pesanan menunggu") == pending
    assert await shop.say(ADMIN, ".pesanan menunggu pembayaran") == pending
    assert await shop.say(ADMIN, ".pesanan lunas") == await shop.say(ADMIN, ".pesanan paid")
    assert ALICE in await shop.say(ADMIN, ".pesanan lunas")


@pytest.mark.parametrize("word", ["lunas", "menunggu", "batal", "dibatalkan", "kedaluwarsa", "gagal", "dikembalikan"])
async def test_pesanan_takes_the_status_words_the_bot_shows(shop: Shop, word: str) -> None:
    assert not (await shop.say(ADMIN, f".pesanan {word}")).startswith("Format:")
    assert (await shop.say(ADMIN, ".pesanan kemarin")).startswith("Format: .pesanan")


async def test_rekap_counts_todays_sales_and_topups(shop: Shop) -> None:
    await shop.say(ALICE, ".buy VC 2")
    await shop.say(ALICE, ".buy NF1")
    await shop.say(BOB, ".deposit 30rb")
    await shop.pay((await shop.last_order_of(BOB)).id)
    reply = await shop.say(ADMIN, ".rekap")
    assert "Pesanan lunas: 2" in reply and "Pendapatan: Rp 55.000" in reply
    assert "Top-up: 1 (Rp 30.000)" in reply and "• VC — 2 terjual" in reply


async def test_rekap_usage(shop: Shop) -> None:
    assert (await shop.say(ADMIN, ".rekap 0")).startswith("Format: .rekap")


async def test_setting_changes_limits(shop: Shop) -> None:
    assert await shop.say(ADMIN, ".setting max_qty 2") == "Setting `max_qty` = 2."
    assert await shop.say(ALICE, ".buy VC 3") == "Jumlah harus 1 sampai 2."


async def test_setting_without_a_value_lists_keys_values_and_ranges_as_code(shop: Shop) -> None:
    await shop.say(ADMIN, ".setting max_qty 7")
    reply = await shop.say(ADMIN, ".setting")
    lines = reply.splitlines()
    assert lines[0] == "*Setting toko*" and lines[-1] == "Ubah: .setting KEY VALUE"
    assert "• `max_qty` = `7` (angka 1-1000)" in lines
    assert "• `shop_name` = `Tokowa` (teks, maks. 1000 karakter)" in lines
    assert "• `language` = `id` (id/en)" in lines and "• `welcome_text` = (kosong) (teks, maks. 1000 karakter)" in lines
    # No underscore, star or tilde outside a code span, where WhatsApp would pair them into formatting.
    outside_code = "".join(reply.split("`")[::2])
    assert not any(mark in outside_code for mark in "_~") and outside_code.count("*") == 2
    assert await shop.say(ADMIN, ".setting MAX_QTY") == (
        "*Setting toko*\n• `max_qty` = `7` (angka 1-1000)\nUbah: .setting KEY VALUE")


@pytest.mark.parametrize("text, reply", [
    (".setting max_qty 0", "Nilai `0` tidak bisa untuk `max_qty`: harus angka 1 sampai 1000."),
    (".setting max_qty banyak", "Nilai `banyak` tidak bisa untuk `max_qty`: harus angka 1 sampai 1000."),
    (".setting language fr", "Nilai `fr` tidak bisa untuk `language`: pilih id/en."),
    (".setting deposit_min 20000000", "`deposit_min` (Rp 20.000.000) tidak boleh lebih besar dari `deposit_max` (Rp 10.000.000)."),
    (".setting warna biru", "Setting `warna` tidak dikenal. Ketik .setting untuk melihat semua setting dan nilainya."),
    (".setting warna", "Setting `warna` tidak dikenal. Ketik .setting untuk melihat semua setting dan nilainya."),
])
async def test_setting_invalid_says_what_is_wrong(shop: Shop, text: str, reply: str) -> None:
    assert await shop.say(ADMIN, text) == reply
    assert "`max_qty` = `10`" in await shop.say(ADMIN, ".setting max_qty")


async def test_setproduk_prices_take_amounts_as_typed_and_texts_take_several_lines(shop: Shop) -> None:
    assert (await shop.say(ADMIN, ".setproduk VC harga_gold 7,5k")).startswith("Format: .setproduk KODE FIELD NILAI")
    assert await shop.say(ADMIN, ".setproduk VC harga 12rb") == "harga untuk VC diperbarui."
    assert "Rp 12.000" in await shop.say(ALICE, ".produk VC")
    await shop.say(ADMIN, ".setproduk VC teks Kode voucher:\nXYZ-123\nBerlaku 30 hari")
    reply = await shop.say(ALICE, ".buy VC")
    assert "Kode voucher:\nXYZ-123\nBerlaku 30 hari" in reply


async def test_setting_welcome_text_over_several_lines(shop: Shop) -> None:
    await shop.say(ADMIN, ".setting welcome_text Halo kak!\nBuka 24 jam.")
    assert "Halo kak!\nBuka 24 jam." in await shop.say(ALICE, ".menu")


async def test_addproduk_with_a_name_too_long_says_so(shop: Shop) -> None:
    assert await shop.say(ADMIN, ".addproduk LONG|" + "x" * 101 + "|1000|1") == "Nama produk harus 1 sampai 100 karakter."


async def test_rekap_counts_refunds_and_chargebacks_apart_and_the_net(shop: Shop) -> None:
    from application.ports import PaymentState

    await shop.say(BOB, ".deposit 30rb")
    topup = (await shop.last_order_of(BOB)).id
    await shop.pay(topup)
    await shop.pay(topup, PaymentState.REFUND)
    shop.clock.advance(seconds=1)  # "last order" is the newest: not a tie broken by the random-looking ids
    await shop.say(BOB, ".buy NF1")
    purchase = (await shop.last_order_of(BOB)).id
    await shop.pay(purchase)
    await shop.pay(purchase, PaymentState.CHARGEBACK)
    reply = await shop.say(ADMIN, ".rekap")
    assert "Pesanan lunas: 1" in reply and "Top-up: 1 (Rp 30.000)" in reply
    assert "Refund: 1 (Rp 30.000)" in reply and "Chargeback/batal: 1 (Rp 35.000)" in reply
    assert "Bersih: Rp 0" in reply
