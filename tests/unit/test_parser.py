"""Commands as customers type them: prefixes, aliases, case and spacing."""

from __future__ import annotations

import pytest

from application.chat.parser import UNKNOWN, parse

ALIASES = {
    "menu": ["menu", "help"], "produk": ["produk", "products", "list"], "detail": ["detail"],
    "buy": ["buy", "beli"], "saldo": ["saldo", "balance"], "deposit": ["deposit", "topup"],
    "riwayat": ["riwayat", "history"], "status": ["status", "cek"], "batal": ["batal", "cancel"],
    "kirimulang": ["kirimulang", "resend"], "rekap": ["rekap", "laporan"],
}


@pytest.mark.parametrize("canonical, word", [(c, w) for c, words in ALIASES.items() for w in words])
@pytest.mark.parametrize("prefix", [".", "/", "!"])
def test_every_alias_under_every_prefix(canonical: str, word: str, prefix: str) -> None:
    parsed = parse(f"{prefix}{word.upper()}")
    assert parsed is not None and parsed.name == canonical


def test_arguments_ignore_extra_spaces() -> None:
    parsed = parse("  .buy   NF1    2   saldo ")
    assert parsed is not None and parsed.args == ("NF1", "2", "saldo")


def test_lines_after_the_first_are_kept_for_stock_items() -> None:
    parsed = parse(".addstok NF1\na|1\r\nb|2")
    assert parsed is not None and parsed.args == ("NF1",) and parsed.lines == ("a|1", "b|2")
    assert parsed.admin_only


def test_plain_chat_is_not_a_command() -> None:
    assert parse("halo kak, ada netflix?") is None
    assert parse("") is None and parse(".") is None


def test_unknown_words_with_a_prefix_are_unknown_commands() -> None:
    parsed = parse(".beliin NF1")
    assert parsed is not None and parsed.name == UNKNOWN


def test_interactive_ids_read_as_commands() -> None:
    parsed = parse("buy:NF1")
    assert parsed is not None and parsed.name == "buy" and parsed.args == ("NF1",)
    assert parse("jam:10") is None


def test_unicode_spaces_and_invisible_characters_phones_insert_are_ignored() -> None:
    parsed = parse("\ufeff.buy\u00a0VC\u2003 2\u200b")
    assert parsed is not None and parsed.name == "buy" and parsed.args == ("VC", "2")
    assert parse(".saldo\u200b") == parse(".saldo")
