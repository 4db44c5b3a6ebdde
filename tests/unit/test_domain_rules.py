"""The rules of product.md's 'Money, orders, wallet', one by one."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from domain.errors import (
    IllegalTransition, InsufficientBalance, InvalidAmount, InvalidProductField, InvalidSetting, InvalidStockItems,
    OutOfStock, StockKindMismatch,
)
from domain.money import Rupiah
from domain.order import Order, OrderStatus, PaymentMethod, earlier_order_ids, new_order_id
from domain.product import Product, Tier
from domain.settings import ShopSettings
from domain.wallet import Wallet

NOW = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)


def _order(method: PaymentMethod = PaymentMethod.MIDTRANS) -> Order:
    return Order.purchase("INV-20261129-ABCDEFGHJKLM", "62811", "NF1", "Netflix", 2, Rupiah(35_000), method, NOW, NOW)


def test_order_ids_are_jakarta_dated_and_valid_midtrans_ids() -> None:
    order_id = new_order_id(NOW)
    assert re.fullmatch(r"INV-20261129-[A-Z0-9]{12}", order_id) and len(order_id) <= 50


ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 letters: 5 bits each


def test_order_ids_carry_60_bits_derived_from_the_message_id() -> None:
    """12 letters of a 32-letter alphabet: 10,000 messages of one day get 10,000 ids."""
    ids = [new_order_id(NOW, f"wamid.HBgM{n:08d}") for n in range(10_000)]
    suffixes = [order_id.removeprefix("INV-20261129-") for order_id in ids]
    assert len(set(ids)) == 10_000
    assert all(len(suffix) == 12 and set(suffix) <= set(ID_ALPHABET) for suffix in suffixes)
    assert new_order_id(NOW, "wamid.HBgM00000042") == ids[42]  # a re-run names the same order


def test_a_rerun_finds_its_order_under_todays_yesterdays_and_the_short_ids_of_old_releases() -> None:
    # Before the ids grew, the same message was given INV-20261129-EG8G3G (and the day before, -28-).
    assert earlier_order_ids(NOW, "wamid.X") == (
        "INV-20261129-EG8G3G6SD2KZ", "INV-20261128-EG8G3G6SD2KZ", "INV-20261129-EG8G3G", "INV-20261128-EG8G3G")


def test_order_ids_without_a_message_id_are_random() -> None:
    assert len({new_order_id(NOW) for _ in range(1_000)}) == 1_000


def test_stock_never_goes_below_zero() -> None:
    product = Product.create("nf1", "Netflix", 35_000, 2)
    with pytest.raises(OutOfStock):
        product.take(3)
    product.take(2)
    assert product.stock == 0 and product.code == "NF1"


def test_tier_prices_fall_back_to_the_base_price() -> None:
    product = Product.create("VC", "Voucher", 10_000, 5)
    product.set_field("harga_silver", "9.000")
    assert product.price_for(Tier.BRONZE) == Rupiah(10_000)
    assert product.price_for(Tier.SILVER) == Rupiah(9_000)
    assert product.price_for(Tier.GOLD) == Rupiah(9_000)
    product.set_field("harga_gold", "8000")
    assert product.price_for(Tier.GOLD) == Rupiah(8_000)


def test_a_product_created_with_zero_stock_becomes_an_item_product() -> None:
    product = Product.create("NF1", "Netflix", 35_000, 0)
    assert product.accept_items([" a|1 ", "b|2"]) == ["a|1", "b|2"]
    assert product.uses_items and product.stock == 2
    with pytest.raises(StockKindMismatch):
        product.add_stock(1)
    with pytest.raises(StockKindMismatch):
        product.set_stock(5)


def test_a_counted_product_refuses_item_lines() -> None:
    with pytest.raises(StockKindMismatch):
        Product.create("VC", "Voucher", 10_000, 5).accept_items(["code-1"])


def test_blank_and_duplicate_item_lines_refuse_the_whole_batch() -> None:
    product = Product.create("NF1", "Netflix", 35_000, 0)
    with pytest.raises(InvalidStockItems) as refused:
        product.accept_items(["a", "", "a", "b"])
    assert refused.value.details == {"blank": 1, "duplicates": 1,
                                     "refused": ((2, "", "blank"), (3, "a", "repeated"))} and product.stock == 0


def test_lines_stored_already_are_named_with_the_batch_own_repeats() -> None:
    product = Product.create("NF1", "Netflix", 35_000, 0)
    with pytest.raises(InvalidStockItems) as refused:
        product.accept_items([" old ", "new", "new"], stored={"old"})
    assert refused.value.details["refused"] == ((1, "old", "in_stock"), (3, "new", "repeated"))
    assert product.accept_items(["new", "other"], stored={"old"}) == ["new", "other"] and product.stock == 2


@pytest.mark.parametrize("field, value", [("warna", "biru"), ("harga", "0"), ("harga", "abc"), ("nama", ""), ("minstok", "-1")])
def test_bad_product_fields_are_refused(field: str, value: str) -> None:
    with pytest.raises((InvalidProductField, InvalidAmount)):
        Product.create("VC", "Voucher", 10_000, 5).set_field(field, value)


def test_wallet_balance_never_negative_and_debits_are_refused_not_clamped() -> None:
    wallet = Wallet("62811")
    wallet.credit(Rupiah(10_000), "topup", "INV-1", NOW)
    with pytest.raises(InsufficientBalance):
        wallet.debit(Rupiah(10_001), "purchase", "INV-2", NOW)
    assert wallet.balance == Rupiah(10_000)
    wallet.debit(Rupiah(10_000), "purchase", "INV-2", NOW)
    assert wallet.balance == Rupiah(0)


def test_every_wallet_change_is_a_ledger_entry_with_the_balance_after() -> None:
    wallet = Wallet("62811")
    wallet.credit(Rupiah(5_000), "admin_credit", None, NOW)
    wallet.debit(Rupiah(2_000), "purchase", "INV-1", NOW)
    assert [(e.delta.value, e.balance_after.value, e.reference) for e in wallet.new_entries] == [
        (5_000, 5_000, None), (-2_000, 3_000, "INV-1")]


@pytest.mark.parametrize("amount", [0, -5])
def test_wallet_refuses_non_positive_changes(amount: int) -> None:
    with pytest.raises(InvalidAmount):
        Wallet("62811").credit(Rupiah(amount), "x", None, NOW)


def test_saldo_purchase_is_paid_at_creation_with_the_captured_price() -> None:
    order = _order(PaymentMethod.SALDO)
    assert order.status is OrderStatus.PAID and order.total == Rupiah(70_000) and order.paid_at == NOW


@pytest.mark.parametrize("target", [OrderStatus.PAID, OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.FAILED])
def test_pending_moves_to_every_outcome_and_repeats_change_nothing(target: OrderStatus) -> None:
    order = _order()
    assert order.move_to(target, NOW) is True
    assert order.move_to(target, NOW) is False and order.status is target


def test_paid_can_only_be_refunded() -> None:
    order = _order()
    order.move_to(OrderStatus.PAID, NOW)
    for target in (OrderStatus.PENDING, OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.FAILED):
        with pytest.raises(IllegalTransition):
            order.move_to(target, NOW)
    assert order.move_to(OrderStatus.REFUNDED, NOW)


@pytest.mark.parametrize("terminal", [OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.FAILED, OrderStatus.REFUNDED])
def test_terminal_states_refuse_other_moves(terminal: OrderStatus) -> None:
    order = _order()
    order.status = terminal
    with pytest.raises(IllegalTransition):
        order.move_to(OrderStatus.PENDING, NOW)


@pytest.mark.parametrize("given_up", [OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.FAILED])
def test_late_payment_is_the_only_exit_from_a_given_up_order(given_up: OrderStatus) -> None:
    # FAILED too: a card denied, then paid another way under the same order id.
    order = _order()
    order.move_to(given_up, NOW)
    order.settle_late(NOW)
    assert order.status is OrderStatus.PAID


def test_a_payment_credited_to_saldo_cannot_be_settled_again() -> None:
    order = _order()
    order.move_to(OrderStatus.EXPIRED, NOW)
    order.credit_instead(order.total, NOW)
    with pytest.raises(IllegalTransition):
        order.settle_late(NOW)


def test_a_wrong_amount_gives_a_pending_order_up_and_remembers_what_came() -> None:
    order = _order()
    order.credit_instead(Rupiah(1000), NOW)
    assert (order.status, order.money_in) == (OrderStatus.FAILED, Rupiah(1000))


def test_reversals_count_up_to_the_money_received_and_full_ones_refund_the_order() -> None:
    order = _order()
    order.move_to(OrderStatus.PAID, NOW)
    part = Rupiah(order.total.value // 2)
    assert order.reverse(part, "refund", NOW) == part
    assert order.reverse(part, "refund", NOW) == Rupiah(0)  # a repeat of the same running total
    assert order.status is OrderStatus.PAID
    assert order.reverse(order.total * 2, "chargeback", NOW) == order.total - part  # capped at what came in
    assert (order.status, order.reversed_amount, order.reversal) == (OrderStatus.REFUNDED, order.total, "chargeback")


def test_settings_have_the_documented_defaults_and_validate() -> None:
    shop = ShopSettings()
    assert (shop.payment_expiry_minutes, shop.max_qty, shop.deposit_min, shop.deposit_max) == (15, 10, 10_000, 10_000_000)
    assert (shop.buy_rate_limit_per_minute, shop.rate_limit_per_minute, shop.low_stock_threshold) == (3, 20, 3)
    assert shop.with_value("MAX_QTY", "5").max_qty == 5
    with pytest.raises(InvalidSetting):
        shop.with_value("deposit_min", "20000000")
    assert ShopSettings.from_stored({"max_qty": "banyak", "shop_name": "Toko"}).max_qty == 10
