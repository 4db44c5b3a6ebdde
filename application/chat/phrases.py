"""Everyday phrases, in Indonesian and English, read as commands: a small lexicon, no model.

`understand` turns plain chat ("kak masih ada?", "cek saldo", "beli netflix 2", "topup 50rb")
into what the customer most likely means. A purchase named in words is only ever a question
back (which product, or a confirmation): money never moves on a phrase alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from application.chat.parser import parse_amount, parse_count
from domain.product import Product

_FILLER = {"kak", "min", "gan", "bang", "sis", "kakak", "admin", "halo", "hai", "hi", "hello", "pak", "bu", "dong",
           "ya", "yah", "nih", "please", "pls", "tolong", "bro"}
_CATALOGUE = {"produk", "katalog", "catalog", "list", "menu", "ready", "masih ada", "ada apa aja", "ada apa saja",
              "stok", "stock", "products", "product", "daftar produk", "pricelist", "price list", "harga",
              "list harga", "what do you sell"}
_BALANCE = {"saldo", "cek saldo", "saldo saya", "saldoku", "balance", "my balance", "check balance"}
_HISTORY = {"riwayat", "pesanan saya", "pesananku", "history", "my orders", "orderan saya", "riwayat transaksi"}
_CANCEL = {"batal", "batalin", "gak jadi", "ga jadi", "nggak jadi", "cancel", "batalkan"}
_YES = {"ya", "iya", "yes", "y", "ok", "oke", "okay", "jadi", "lanjut", "setuju", "1"}
_NO = {"batal", "tidak", "nggak", "gak", "ga", "no", "cancel", "2", "gak jadi", "ga jadi"}
_BUY = re.compile(r"^(?:(?:saya|aku|sy|i)\s+)?(?:(?:mau|ingin|pengen|want to|wanna|would like to)\s+)?"
                  r"(?:beli|buy|order|pesan)\s+(?P<what>.+)$")
_DEPOSIT = re.compile(r"^(?:topup|top up|top-up|isi saldo|deposit|tambah saldo|isi)\s+(?P<amount>\S+)$")
_PUNCTUATION = re.compile(r"[?!.,;:~]+")


@dataclass(frozen=True)
class Phrase:
    """What a plain message most likely asks for. `command` names a chat command
    (`produk`, `saldo`, `riwayat`, `batal`, `deposit`, `buy`); a purchase carries the product
    words and an optional quantity, a deposit its amount."""

    command: str
    words: str = ""
    qty: int = 1
    amount: int | None = None


def normalise(message: str) -> str:
    """Lower case, punctuation and greeting words out, spaces collapsed."""
    words = _PUNCTUATION.sub(" ", message.lower()).split()
    while words and words[0] in _FILLER:
        words.pop(0)
    while words and words[-1] in _FILLER:
        words.pop()
    return " ".join(words)


def is_yes(message: str) -> bool:
    text = _PUNCTUATION.sub(" ", message.lower()).strip().removeprefix(".").strip()
    return text in _YES


def is_no(message: str) -> bool:
    text = _PUNCTUATION.sub(" ", message.lower()).strip().removeprefix(".").strip()
    return text in _NO


def understand(message: str) -> Phrase | None:
    text = normalise(message)
    if not text:
        return None
    if text in _CATALOGUE or text.startswith(("masih ada", "ready ", "ada stok", "produk apa", "jual apa")):
        return Phrase("produk")
    if text in _BALANCE:
        return Phrase("saldo")
    if text in _HISTORY:
        return Phrase("riwayat")
    if text in _CANCEL:
        return Phrase("batal")
    deposit = _DEPOSIT.match(text)
    if deposit:
        amount = parse_amount(deposit.group("amount"))
        return Phrase("deposit", amount=amount) if amount is not None else None
    buy = _BUY.match(text)
    if buy:
        words = buy.group("what").split()
        qty = 1
        if len(words) > 1 and parse_count(words[-1]) is not None:
            qty = parse_count(words.pop()) or 1
        return Phrase("buy", " ".join(words), qty)
    return None


def matching(words: str, products: list[Product]) -> list[Product]:
    """The products a purchase in words names: its code exactly, else every product whose code or
    name holds all the words (`netflix` -> every Netflix product)."""
    wanted = words.lower().split()
    if not wanted:
        return []
    exact = [p for p in products if p.code.lower() == words.lower().replace(" ", "")]
    if exact:
        return exact
    return [p for p in products if all(w in f"{p.code} {p.name}".lower() for w in wanted)]
