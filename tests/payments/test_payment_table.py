"""Every cell of the payment table (`domain/payment_rules.py`), carried out on a whole shop.

For each (provider status, order kind, order standing) the order is brought to that standing
through the real payment use case, the status is reported, and what a customer and an admin
can see afterwards (order, saldo, stock, messages, alerts) must be what the cell's action
means. A few cells are pinned to the rule the product asks for, so the table cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from application.ports import PaymentStatus
from domain.money import Rupiah
from domain.order import Order, OrderKind, OrderStatus
from domain.payment_rules import PAYMENT_RULES, Action, ProviderStatus, Rule, Standing, rule_for
from tests.support.shop import BOB, Shop

CELLS = sorted(PAYMENT_RULES, key=lambda cell: (cell[2].value, cell[1].value, cell[0].value))
WRONG_AMOUNT = Rupiah(1_000)


@dataclass(frozen=True)
class Seen:
    order: Order
    balance: int
    stock: int
    bob_messages: int
    alerts: list[str]


async def _seen(shop: Shop, order_id: str) -> Seen:
    async with shop.adapters.unit_of_work() as uow:
        alerts = [a.kind for a in await uow.alerts.recent(1000)]
    return Seen(await shop.order(order_id), await shop.balance(BOB), await shop.stock("NF1"),
                len(shop.inbox(BOB)), alerts)


async def _report(shop: Shop, order_id: str, status: ProviderStatus, gross: Rupiah | None = None,
                  reversed_amount: Rupiah | None = None) -> None:
    order = await shop.order(order_id)
    await shop.uc.apply_payment(PaymentStatus(order_id, status, gross or order.total, reversed_amount=reversed_amount))


async def _order_standing(shop: Shop, kind: OrderKind, standing: Standing) -> str:
    reply = await shop.say(BOB, ".buy NF1" if kind is OrderKind.PURCHASE else ".deposit 50rb")
    order = await shop.last_order_of(BOB)
    assert order is not None and order.status is OrderStatus.PENDING, reply
    steps: dict[Standing, list[tuple[ProviderStatus, Rupiah | None]]] = {
        Standing.PENDING: [],
        Standing.PAID: [(ProviderStatus.SETTLEMENT, None)],
        Standing.EXPIRED: [(ProviderStatus.EXPIRE, None)],
        Standing.CANCELLED: [(ProviderStatus.CANCEL, None)],
        Standing.FAILED: [(ProviderStatus.DENY, None)],
        Standing.CREDITED: [(ProviderStatus.EXPIRE, None), (ProviderStatus.SETTLEMENT, WRONG_AMOUNT)],
        Standing.REFUNDED: [(ProviderStatus.SETTLEMENT, None), (ProviderStatus.REFUND, None)],
    }
    for status, gross in steps[standing]:
        await _report(shop, order.id, status, gross)
    reached = await shop.order(order.id)
    assert Standing.of(reached) is standing
    return order.id


@pytest.mark.parametrize(("status", "kind", "standing"), CELLS,
                         ids=[f"{s.value}-{k.value}-{t.value}" for s, k, t in CELLS])
async def test_each_cell_does_what_its_action_says(status: ProviderStatus, kind: OrderKind, standing: Standing) -> None:
    shop = Shop()
    await shop.stock_products()
    order_id = await _order_standing(shop, kind, standing)
    before = await _seen(shop, order_id)
    rule = rule_for(status, before.order)
    half = Rupiah(before.order.money_in.value // 2) if rule.partial or status.reversal else None
    reported = half if status in (ProviderStatus.PARTIAL_REFUND, ProviderStatus.PARTIAL_CHARGEBACK) else None

    await _report(shop, order_id, status, reversed_amount=reported)

    after = await _seen(shop, order_id)
    new_alerts = after.alerts[: len(after.alerts) - len(before.alerts)]
    _check(rule, kind, before, after, new_alerts, reported)

    await _report(shop, order_id, status, reversed_amount=reported)  # a repeat changes nothing
    again = await _seen(shop, order_id)
    assert (again.order, again.balance, again.stock, again.bob_messages) == (
        after.order, after.balance, after.stock, after.bob_messages)


def _check(rule: Rule, kind: OrderKind, before: Seen, after: Seen, new_alerts: list[str],
           reported: Rupiah | None) -> None:
    purchase = kind is OrderKind.PURCHASE
    total = before.order.total.value
    if rule.action is Action.NOTHING:
        assert (after.order, after.balance, after.stock, after.bob_messages, new_alerts) == (
            before.order, before.balance, before.stock, before.bob_messages, [])
    elif rule.action is Action.FULFIL:
        assert after.order.status is OrderStatus.PAID and after.bob_messages == before.bob_messages + 1
        assert (after.stock, after.balance) == ((before.stock, before.balance) if purchase
                                                else (before.stock, before.balance + total))
    elif rule.action is Action.GIVE_UP:
        assert after.order.status is rule.target and after.balance == before.balance
        assert after.stock == before.stock + (1 if purchase else 0)
    elif rule.action is Action.LATE_PAYMENT:
        assert after.order.status is OrderStatus.PAID and "alert.late_paid" in new_alerts
        assert (after.stock, after.balance) == ((before.stock - 1, before.balance) if purchase
                                                else (before.stock, before.balance + total))
    elif rule.action is Action.REVIEW:
        assert after.order == before.order and new_alerts == ["alert.payment_review"]
    elif rule.action is Action.RECORD:
        assert after.order == before.order and new_alerts == ["alert.payment_needs_action"]
        assert (after.balance, after.stock) == (before.balance, before.stock)
    elif rule.action is Action.TAKE_BACK_CREDIT:
        taken_back = (reported or before.order.money_in).value
        assert after.balance == before.balance - min(taken_back, before.balance)
        assert after.order.reversed_amount.value == taken_back and after.stock == before.stock
        assert after.order.status is (before.order.status if rule.partial else OrderStatus.REFUNDED)
        assert "alert.reversed_credit" in new_alerts
    elif rule.action is Action.FLAG_DELIVERED:
        taken_back = (reported or before.order.money_in).value
        assert after.order.reversed_amount.value == taken_back
        assert (after.balance, after.stock) == (before.balance, before.stock)  # goods cannot come back
        assert after.order.status is (OrderStatus.PAID if rule.partial else OrderStatus.REFUNDED)
        assert new_alerts == ["alert.reversed_after_delivery"]
    else:
        pytest.fail(f"no check for {rule}")


@pytest.mark.parametrize(("status", "kind", "standing", "action"), [
    (ProviderStatus.SETTLEMENT, OrderKind.PURCHASE, Standing.FAILED, Action.LATE_PAYMENT),  # denied, then paid
    (ProviderStatus.SETTLEMENT, OrderKind.TOPUP, Standing.EXPIRED, Action.LATE_PAYMENT),
    (ProviderStatus.CAPTURE_ACCEPT, OrderKind.PURCHASE, Standing.PENDING, Action.FULFIL),
    (ProviderStatus.CAPTURE_CHALLENGE, OrderKind.PURCHASE, Standing.PENDING, Action.REVIEW),
    (ProviderStatus.CAPTURE_DENY, OrderKind.PURCHASE, Standing.PENDING, Action.GIVE_UP),
    (ProviderStatus.REFUND, OrderKind.TOPUP, Standing.PAID, Action.TAKE_BACK_CREDIT),
    (ProviderStatus.CANCEL, OrderKind.TOPUP, Standing.PAID, Action.TAKE_BACK_CREDIT),  # capture cancelled
    (ProviderStatus.CHARGEBACK, OrderKind.PURCHASE, Standing.PAID, Action.FLAG_DELIVERED),
    (ProviderStatus.PARTIAL_REFUND, OrderKind.PURCHASE, Standing.PAID, Action.FLAG_DELIVERED),
    (ProviderStatus.REFUND, OrderKind.PURCHASE, Standing.CREDITED, Action.TAKE_BACK_CREDIT),
    (ProviderStatus.SETTLEMENT, OrderKind.PURCHASE, Standing.PAID, Action.NOTHING),
    (ProviderStatus.EXPIRE, OrderKind.PURCHASE, Standing.PAID, Action.FLAG_DELIVERED),
    (ProviderStatus.SETTLEMENT, OrderKind.PURCHASE, Standing.REFUNDED, Action.NOTHING),
])
def test_the_cells_the_product_asks_for(status: ProviderStatus, kind: OrderKind, standing: Standing,
                                        action: Action) -> None:
    assert PAYMENT_RULES[(status, kind, standing)].action is action


def test_every_midtrans_status_is_in_the_table() -> None:
    midtrans = {"authorize", "capture", "settlement", "pending", "deny", "cancel", "expire", "failure", "refund",
                "partial_refund", "chargeback", "partial_chargeback"}
    assert {s.midtrans[0] for s in ProviderStatus} == midtrans
    assert len(PAYMENT_RULES) == len(list(ProviderStatus)) * len(OrderKind) * len(Standing) == 196


async def test_a_refunded_top_up_already_spent_takes_back_what_is_left_and_records_the_rest() -> None:
    shop = Shop()
    await shop.stock_products()
    await shop.say(BOB, ".deposit 50rb")
    order = await shop.last_order_of(BOB)
    await _report(shop, order.id, ProviderStatus.SETTLEMENT)
    assert "Pembelian berhasil" in await shop.say(BOB, ".buy NF1 saldo")  # spends 35.000 of it
    await _report(shop, order.id, ProviderStatus.REFUND)
    refunded = await shop.order(order.id)
    assert await shop.balance(BOB) == 0
    assert (refunded.status, refunded.shortfall) == (OrderStatus.REFUNDED, Rupiah(35_000))
    async with shop.adapters.unit_of_work() as uow:
        open_alerts = await uow.alerts.open()
    owed = [a for a in open_alerts if a.kind == "alert.reversed_credit"]
    assert len(owed) == 1 and owed[0].amount == Rupiah(35_000)  # the shop must chase it: needs action


README = Path(__file__).resolve().parents[2] / "docs" / "operations.md"  # "How payments stay correct"
_WORDS = {"deliver": {Action.FULFIL}, "late payment": {Action.LATE_PAYMENT}, "review": {Action.REVIEW},
          "record": {Action.RECORD}, "—": {Action.NOTHING},
          "reverse": {Action.TAKE_BACK_CREDIT, Action.FLAG_DELIVERED},
          "reverse part": {Action.TAKE_BACK_CREDIT, Action.FLAG_DELIVERED},
          "take saldo back": {Action.TAKE_BACK_CREDIT}, "take part of saldo back": {Action.TAKE_BACK_CREDIT}}
_COLUMNS = [Standing.PENDING, Standing.PAID, (Standing.EXPIRED, Standing.CANCELLED, Standing.FAILED),
            Standing.CREDITED, Standing.REFUNDED]


def _readme_statuses(cell: str) -> list[ProviderStatus]:
    found = []
    for part in cell.split(","):
        name, _, fraud = part.strip().partition(" ")
        state = ProviderStatus.from_midtrans(name.strip("`"), fraud.strip("()") or None)
        assert state is not None, part
        found.append(state)
    return found


def test_the_readme_table_says_what_the_domain_table_does() -> None:
    text = README.read_text()
    block = text.split("<!-- payment-table")[1].split("<!-- /payment-table -->")[0]
    rows = [line.strip("|").split("|") for line in block.splitlines() if line.startswith("| `")]
    covered = set()
    for statuses, *cells in rows:
        for status in _readme_statuses(statuses):
            for column, said in zip(_COLUMNS, cells, strict=True):
                said = said.strip()
                for standing in column if isinstance(column, tuple) else (column,):
                    for kind in OrderKind:
                        rule = PAYMENT_RULES[(status, kind, standing)]
                        if said.startswith("give up: "):
                            assert (rule.action, rule.target) == (Action.GIVE_UP, OrderStatus(said[9:])), (status, standing)
                        else:
                            assert rule.action in _WORDS[said], (status, kind, standing, said)
                            assert rule.partial == ("part" in said or (said == "record" and rule.partial))
                        covered.add((status, kind, standing))
    assert covered == set(PAYMENT_RULES)  # every cell is in the documentation
