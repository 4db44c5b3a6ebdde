"""Property-based tests: the wallet and stock invariants hold over any sequence of operations."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.money import Rupiah
from domain.product import Product
from domain.wallet import Wallet

NOW = datetime(2026, 11, 28, tzinfo=UTC)
amounts = st.integers(min_value=-50_000, max_value=50_000)


@given(st.lists(st.tuples(st.booleans(), amounts), max_size=60))
def test_wallet_balance_equals_its_ledger_and_never_goes_negative(operations: list[tuple[bool, int]]) -> None:
    wallet = Wallet("62811")
    for credit, amount in operations:
        before = wallet.balance
        try:
            (wallet.credit if credit else wallet.debit)(Rupiah(amount), "op", None, NOW)
        except DomainError:
            assert wallet.balance == before  # a refused change changes nothing
        assert wallet.balance.value >= 0
    assert wallet.balance.value == sum(e.delta.value for e in wallet.new_entries)
    assert all(e.balance_after.value >= 0 for e in wallet.new_entries)


@given(st.integers(0, 100), st.lists(st.tuples(st.sampled_from(["take", "give", "add", "set"]), st.integers(-5, 30)), max_size=60))
def test_counted_stock_never_goes_below_zero(start: int, operations: list[tuple[str, int]]) -> None:
    product = Product.create("VC", "Voucher", 10_000, start)
    expected = start
    for op, n in operations:
        try:
            {"take": product.take, "give": product.give_back, "add": product.add_stock, "set": product.set_stock}[op](n)
        except DomainError:
            assert product.stock == expected
            continue
        expected = {"take": expected - n, "give": expected + n, "add": expected + n, "set": n}[op]
        assert product.stock == expected >= 0
