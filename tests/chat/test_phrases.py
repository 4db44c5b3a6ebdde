"""The everyday phrases a customer types, read as the command they mean."""

from __future__ import annotations

import pytest

from application.chat.phrases import Phrase, is_no, is_yes, matching, understand
from domain.product import Product


@pytest.mark.parametrize(("said", "meant"), [
    ("produk", Phrase("produk")), ("katalog", Phrase("produk")), ("list", Phrase("produk")),
    ("menu", Phrase("produk")), ("ready?", Phrase("produk")), ("kak masih ada?", Phrase("produk")),
    ("Masih ada kak??", Phrase("produk")), ("saldo", Phrase("saldo")), ("cek saldo", Phrase("saldo")),
    ("my balance", Phrase("saldo")), ("riwayat", Phrase("riwayat")), ("pesanan saya", Phrase("riwayat")),
    ("beli netflix 2", Phrase("buy", "netflix", 2)), ("mau beli spotify", Phrase("buy", "spotify", 1)),
    ("kak mau beli NF1", Phrase("buy", "nf1", 1)), ("i want to buy netflix premium", Phrase("buy", "netflix premium")),
    ("topup 50rb", Phrase("deposit", amount=50_000)), ("isi saldo 100k", Phrase("deposit", amount=100_000)),
    ("top up 1jt", Phrase("deposit", amount=1_000_000)), ("gak jadi", Phrase("batal")),
])
def test_everyday_phrases_mean_commands(said: str, meant: Phrase) -> None:
    assert understand(said) == meant


@pytest.mark.parametrize("said", ["halo", "terima kasih", "topup banyak", "beli", "apa kabar?", "", "🙂"])
def test_anything_else_means_nothing_in_particular(said: str) -> None:
    assert understand(said) is None


@pytest.mark.parametrize("said", ["ya", "Ya!", ".ya", "yes", "1", "oke"])
def test_yes(said: str) -> None:
    assert is_yes(said) and not is_no(said)


@pytest.mark.parametrize("said", ["batal", ".batal", "2", "no", "gak jadi"])
def test_no(said: str) -> None:
    assert is_no(said) and not is_yes(said)


def test_a_purchase_in_words_matches_a_code_exactly_or_every_product_whose_name_has_the_words() -> None:
    shop = [Product.create("NF1", "Netflix 1 Bulan", 35000, 3), Product.create("NF3", "Netflix 3 Bulan", 90000, 3),
            Product.create("SPO", "Spotify Premium", 20000, 3)]
    assert [p.code for p in matching("nf1", shop)] == ["NF1"]
    assert [p.code for p in matching("netflix", shop)] == ["NF1", "NF3"]
    assert [p.code for p in matching("spotify premium", shop)] == ["SPO"]
    assert matching("disney", shop) == []
