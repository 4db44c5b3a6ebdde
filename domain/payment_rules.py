"""What a payment provider's report does to an order: one table, as data.

The provider (Midtrans) reports a `transaction_status` (with `fraud_status` for card captures);
the order is a purchase or a top-up and stands somewhere in its life. Each of the
`len(ProviderStatus) x len(OrderKind) x len(Standing)` cells of `PAYMENT_RULES` names one
`Rule`: the action and, for giving up, the status the order ends in. The payment use case only
carries out what the cell says; `tests/payments/test_payment_table.py` runs every cell.

The principles the table follows:
- Money received is never dropped: it becomes the goods, saldo, or a record admins must act on.
- Money reversed after the fact (refund, chargeback, their partial forms, a capture cancelled or
  denied before settlement) takes back what can be taken back (a saldo credit, through the
  ledger, up to the balance) and tells admins what could not (goods already delivered).
- Repeats and stale reorderings change nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from domain.order import Order, OrderKind, OrderStatus


class ProviderStatus(str, enum.Enum):
    """Midtrans' transaction statuses, card captures split by their fraud status.

    The order's own status names are aliases of the provider status they usually come from
    (PAID = settlement, EXPIRED = expire, ...), so code that speaks in order terms can say
    `ProviderStatus.PAID`."""

    AUTHORIZE = "authorize"
    CAPTURE_ACCEPT = "capture"
    CAPTURE_CHALLENGE = "capture_challenge"
    CAPTURE_DENY = "capture_deny"
    SETTLEMENT = "settlement"
    PENDING = "pending"
    DENY = "deny"
    CANCEL = "cancel"
    EXPIRE = "expire"
    FAILURE = "failure"
    REFUND = "refund"
    PARTIAL_REFUND = "partial_refund"
    CHARGEBACK = "chargeback"
    PARTIAL_CHARGEBACK = "partial_chargeback"
    # Aliases in the order's words.
    PAID = "settlement"
    EXPIRED = "expire"
    CANCELLED = "cancel"
    FAILED = "failure"
    REFUNDED = "refund"

    @classmethod
    def from_midtrans(cls, transaction_status: str, fraud_status: str | None) -> ProviderStatus | None:
        """None for a status Midtrans does not document (the caller treats it as 'nothing yet')."""
        if transaction_status == "capture":
            fraud = (fraud_status or "accept").lower()
            return {"accept": cls.CAPTURE_ACCEPT, "challenge": cls.CAPTURE_CHALLENGE,
                    "deny": cls.CAPTURE_DENY}.get(fraud)
        try:
            status = cls(transaction_status)
        except ValueError:
            return None
        return None if status in (cls.CAPTURE_CHALLENGE, cls.CAPTURE_DENY) else status

    @property
    def midtrans(self) -> tuple[str, str | None]:
        """(transaction_status, fraud_status) as Midtrans reports this status."""
        if self in (ProviderStatus.CAPTURE_ACCEPT, ProviderStatus.CAPTURE_CHALLENGE, ProviderStatus.CAPTURE_DENY):
            return "capture", self.value.removeprefix("capture_") if "_" in self.value else "accept"
        return self.value, None

    @property
    def money_received(self) -> bool:
        return self in RECEIVED

    @property
    def reversal(self) -> str | None:
        """'refund' or 'chargeback' for the statuses that take money back, else None."""
        if self in (ProviderStatus.REFUND, ProviderStatus.PARTIAL_REFUND):
            return "refund"
        if self in (ProviderStatus.CHARGEBACK, ProviderStatus.PARTIAL_CHARGEBACK):
            return "chargeback"
        return None


RECEIVED = frozenset({ProviderStatus.SETTLEMENT, ProviderStatus.CAPTURE_ACCEPT})
WAITING = frozenset({ProviderStatus.PENDING, ProviderStatus.AUTHORIZE})
NOT_PAID = {
    ProviderStatus.DENY: OrderStatus.FAILED,
    ProviderStatus.CAPTURE_DENY: OrderStatus.FAILED,
    ProviderStatus.FAILURE: OrderStatus.FAILED,
    ProviderStatus.CANCEL: OrderStatus.CANCELLED,
    ProviderStatus.EXPIRE: OrderStatus.EXPIRED,
}
FULL_REVERSAL = frozenset({ProviderStatus.REFUND, ProviderStatus.CHARGEBACK})
PART_REVERSAL = frozenset({ProviderStatus.PARTIAL_REFUND, ProviderStatus.PARTIAL_CHARGEBACK})


class Standing(str, enum.Enum):
    """Where an order stands, as far as money goes: its status, with one split — an order given
    up on (EXPIRED/CANCELLED/FAILED) whose late or wrong payment went to saldo is CREDITED."""

    PENDING = "PENDING"
    PAID = "PAID"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    CREDITED = "CREDITED"
    REFUNDED = "REFUNDED"

    @classmethod
    def of(cls, order: Order) -> Standing:
        if order.status in (OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.FAILED) and order.paid_at is not None:
            return cls.CREDITED
        return cls(order.status.value)


class Action(str, enum.Enum):
    NOTHING = "nothing"  # a repeat, a stale reordering, or nothing decided yet
    FULFIL = "fulfil"  # PENDING -> PAID: deliver the goods, or credit the top-up
    GIVE_UP = "give_up"  # PENDING -> the rule's status; reserved stock returns
    LATE_PAYMENT = "late_payment"  # paid after we gave up: goods if stock allows (top-up: credit), else saldo
    REVIEW = "review"  # the provider holds the payment for the shop's review: admins are told
    TAKE_BACK_CREDIT = "take_back_credit"  # money reversed: the saldo it became is debited, up to the balance
    FLAG_DELIVERED = "flag_delivered"  # money reversed after delivery: recorded, admins told
    RECORD = "record"  # money moved for an order that holds none of it: admins told, nothing else
    CREDIT_MISMATCH = "credit_mismatch"  # a wrong amount received: it goes to saldo, the order is given up


@dataclass(frozen=True)
class Rule:
    action: Action
    target: OrderStatus | None = None  # GIVE_UP: the status the order ends in
    partial: bool = False  # a reversal of part of the amount (the order keeps its status)


_NOTHING = Rule(Action.NOTHING)


def _rule(status: ProviderStatus, kind: OrderKind, standing: Standing) -> Rule:
    """The principles above, cell by cell (read top to bottom: the first match decides)."""
    partial = status in PART_REVERSAL
    reversed_ = status in FULL_REVERSAL or partial
    if standing is Standing.PENDING:
        if status in RECEIVED:
            return Rule(Action.FULFIL)
        if status is ProviderStatus.CAPTURE_CHALLENGE:
            return Rule(Action.REVIEW)
        if status in NOT_PAID:
            return Rule(Action.GIVE_UP, NOT_PAID[status])
        if status in FULL_REVERSAL:
            # Paid and already given back before we heard of the payment: nothing is owed.
            return Rule(Action.GIVE_UP, OrderStatus.CANCELLED)
        if partial:
            return Rule(Action.RECORD, partial=True)  # part of a payment we never saw is kept
        return _NOTHING
    if standing in (Standing.EXPIRED, Standing.CANCELLED, Standing.FAILED):
        if status in RECEIVED:
            return Rule(Action.LATE_PAYMENT)
        if partial:
            return Rule(Action.RECORD, partial=True)
        return _NOTHING  # not paid (again), or paid and fully given back: nothing is owed
    if standing is Standing.PAID:
        if reversed_ or status in NOT_PAID:
            # Refund/chargeback after settlement; cancel/deny/expire of a capture before settlement.
            action = Action.TAKE_BACK_CREDIT if kind is OrderKind.TOPUP else Action.FLAG_DELIVERED
            return Rule(action, partial=partial)
        return _NOTHING  # received again (a repeat) or a stale waiting status
    if standing is Standing.CREDITED:
        if reversed_ or status in NOT_PAID:
            return Rule(Action.TAKE_BACK_CREDIT, partial=partial)
        return _NOTHING
    # REFUNDED: everything was given back; whatever comes now changes nothing.
    return _NOTHING


PAYMENT_RULES: Mapping[tuple[ProviderStatus, OrderKind, Standing], Rule] = {
    (status, kind, standing): _rule(status, kind, standing)
    for status in ProviderStatus for kind in OrderKind for standing in Standing
}


def rule_for(status: ProviderStatus, order: Order, *, amount_matches: bool = True) -> Rule:
    """The cell for this report and order. Money received in another amount than the order's
    total (or currency) is never delivered against: where the cell would fulfil or settle late,
    the amount received is credited to saldo instead and the order stays (or becomes) FAILED."""
    rule = PAYMENT_RULES[(status, order.kind, Standing.of(order))]
    if not amount_matches and rule.action in (Action.FULFIL, Action.LATE_PAYMENT):
        return Rule(Action.CREDIT_MISMATCH, OrderStatus.FAILED)
    return rule
