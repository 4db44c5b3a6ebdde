"""Conversations, not only commands: double taps, questions, numbered picks, phrases, hints."""

from __future__ import annotations

import asyncio

from tests.support.shop import ADMIN, ALICE, BOB, Shop


async def purchases_of(shop: Shop, user: str) -> int:
    async with shop.adapters.unit_of_work() as uow:
        return sum(1 for o in await uow.orders.recent_of(user, 100) if o.kind.value == "purchase")


async def test_a_second_tap_on_buy_within_a_minute_asks_before_buying_again(shop: Shop) -> None:
    assert "Pembelian berhasil" in await shop.say(ALICE, ".buy VC")
    question = await shop.say(ALICE, ".buy VC")
    first = await shop.last_order_of(ALICE)
    assert "baru saja membeli 1x VC" in question and first.id in question
    assert await shop.balance(ALICE) == 90_000 and await purchases_of(shop, ALICE) == 1
    assert "Pembelian berhasil" in await shop.say(ALICE, "ya")
    assert await shop.balance(ALICE) == 80_000 and await purchases_of(shop, ALICE) == 2
    assert "Pembelian" not in await shop.say(ALICE, "ya")  # the question was answered: no third purchase
    assert await purchases_of(shop, ALICE) == 2


async def test_a_repeat_can_be_dropped_and_other_buys_go_through_as_typed(shop: Shop) -> None:
    await shop.say(ALICE, ".buy VC")
    await shop.say(ALICE, ".buy VC")
    assert await shop.say(ALICE, "batal") == "Oke, tidak jadi. Tidak ada yang berubah."
    assert "Pembelian berhasil" in await shop.say(ALICE, ".buy VC 2")  # another quantity: no question
    shop.clock.advance(seconds=61)
    assert "Pembelian berhasil" in await shop.say(ALICE, ".buy VC 2")  # a minute later: no question
    assert await purchases_of(shop, ALICE) == 3


async def test_a_question_waits_two_minutes_for_its_yes(shop: Shop) -> None:
    await shop.say(ALICE, ".buy VC")
    await shop.say(ALICE, ".buy VC")
    shop.clock.advance(seconds=121)
    assert "Pembelian" not in await shop.say(ALICE, "ya")
    assert await purchases_of(shop, ALICE) == 1


async def test_two_yeses_at_once_buy_once(shop: Shop) -> None:
    await shop.say(ALICE, ".buy VC")
    await shop.say(ALICE, ".buy VC")
    await asyncio.gather(shop.say(ALICE, "ya"), shop.say(ALICE, ".ya"))
    assert await purchases_of(shop, ALICE) == 2 and await shop.balance(ALICE) == 80_000


async def test_a_bare_number_picks_from_the_last_list(shop: Shop) -> None:
    listing = await shop.say(BOB, ".produk")
    assert "NF1" in listing and "VC" in listing
    assert await shop.say(BOB, "2") == await shop.say(BOB, ".produk VC")  # the second row: the voucher
    await shop.say(BOB, ".produk")
    assert await shop.say(BOB, "7") == "Pilih nomor 1 sampai 2."


async def test_a_purchase_in_words_asks_first_and_buys_on_yes(shop: Shop) -> None:
    question = await shop.say(ALICE, "mau beli voucher 2")
    assert "Beli 2x Voucher 10rb (VC) seharga Rp 20.000, dibayar dengan saldo. Saldo setelahnya: Rp 80.000." in question
    assert await purchases_of(shop, ALICE) == 0
    assert "Pembelian berhasil" in await shop.say(ALICE, "ya")
    assert await shop.balance(ALICE) == 80_000


async def test_an_ambiguous_purchase_in_words_offers_numbered_choices_that_ask_again(shop: Shop) -> None:
    await shop.say(ADMIN, ".addproduk NF3|Netflix 3 Bulan|90000|5")
    choices = await shop.say(ALICE, "beli netflix")
    assert "1. NF1" in choices and "2. NF3" in choices
    assert "Beli 1x Netflix 3 Bulan (NF3)" in await shop.say(ALICE, "2")
    assert await purchases_of(shop, ALICE) == 0
    assert "Pembelian berhasil" in await shop.say(ALICE, "ya")
    assert (await shop.last_order_of(ALICE)).product_code == "NF3"


async def test_typos_and_refusals_do_not_count_toward_three_buys_a_minute(shop: Shop) -> None:
    for typo in (".buy VX", ".buy NF9", ".buy VC 0", ".buy VC 2000"):
        assert "Pembelian" not in await shop.say(ALICE, typo)
    replies = [await shop.say(ALICE, f".buy VC {n}") for n in (1, 2, 3)]
    assert all("Pembelian berhasil" in r for r in replies)


async def test_the_first_message_of_a_conversation_is_always_answered(shop: Shop) -> None:
    assert "produk" in (await shop.say(BOB, "halo kak")).lower()  # the menu
    assert "Ketik *menu*" in await shop.say(BOB, "hmm")
    assert await shop.say(BOB, "hmm") == ""  # at most one short hint a minute
    shop.clock.advance(minutes=11)
    assert "produk" in (await shop.say(BOB, "permisi")).lower()


async def test_everyday_phrases_run_reads(shop: Shop) -> None:
    assert "Rp 100.000" in await shop.say(ALICE, "cek saldo")
    assert "NF1" in await shop.say(ALICE, "kak masih ada?")


async def test_with_confirm_purchases_every_buy_asks_first(shop: Shop) -> None:
    await shop.say(ADMIN, ".setting confirm_purchases true")
    question = await shop.say(ALICE, ".buy VC 3")
    assert "Beli 3x Voucher 10rb (VC) seharga Rp 30.000" in question and "Saldo setelahnya: Rp 70.000" in question
    assert await purchases_of(shop, ALICE) == 0
    assert "Pembelian berhasil" in await shop.say(ALICE, "1")
    assert await shop.balance(ALICE) == 70_000
