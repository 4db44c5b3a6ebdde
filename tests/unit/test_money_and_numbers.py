"""Rupiah formatting, amounts as customers type them, and WhatsApp numbers."""

from __future__ import annotations

import pytest

from application.chat.parser import parse_amount, parse_count
from domain.errors import InvalidAmount, InvalidPhoneNumber
from domain.money import Rupiah
from domain.phone import normalize_msisdn


@pytest.mark.parametrize("value, shown", [(0, "Rp 0"), (1250000, "Rp 1.250.000"), (999, "Rp 999"), (-35000, "-Rp 35.000")])
def test_rupiah_is_shown_with_dots(value: int, shown: str) -> None:
    assert str(Rupiah(value)) == shown


@pytest.mark.parametrize("bad", [0, -1, 10**12 + 1, True])
def test_prices_and_payments_are_positive_whole_rupiah(bad: int) -> None:
    with pytest.raises(InvalidAmount):
        Rupiah.positive(bad)


def test_rupiah_refuses_floats() -> None:
    with pytest.raises(InvalidAmount):
        Rupiah(10.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("typed, rupiah", [
    ("50000", 50_000), ("50.000", 50_000), ("50rb", 50_000), ("50k", 50_000), ("50RB", 50_000),
    ("1.250.000", 1_250_000), ("Rp50.000", 50_000), ("2jt", 2_000_000), ("100ribu", 100_000),
])
def test_amounts_as_customers_type_them(typed: str, rupiah: int) -> None:
    assert parse_amount(typed) == rupiah


@pytest.mark.parametrize("typed", ["", "0", "-5000", "50,000", "5.00", "50.0000", "lima", "50 rb", "1e6", "٥٠٠٠", "9" * 14])
def test_anything_else_is_not_an_amount(typed: str) -> None:
    assert parse_amount(typed) is None


@pytest.mark.parametrize("typed, count", [("1", 1), ("10", 10), ("0", 0)])
def test_counts(typed: str, count: int) -> None:
    assert parse_count(typed) == count


@pytest.mark.parametrize("typed", ["-1", "1.5", "x", "²", "12345678"])
def test_not_counts(typed: str) -> None:
    assert parse_count(typed) is None


@pytest.mark.parametrize("typed", ["081234567890", "+6281234567890", "6281234567890", "0812-3456-7890", "+62 812 3456 7890"])
def test_numbers_normalise_to_the_wa_id(typed: str) -> None:
    assert normalize_msisdn(typed) == "6281234567890"


@pytest.mark.parametrize("typed", ["12345", "0712345678", "+1 415 555 0100", "62812abc", "", "０８１２３４５６７８９０"])
def test_other_numbers_are_refused(typed: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalize_msisdn(typed)
