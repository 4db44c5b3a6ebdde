"""The data the simulation is driven by and judged by, in one place.

- `PROVIDER_REPORTS`: every Midtrans status (and card fraud verdict) the provider may report
  (`domain/payment_rules.py` `ProviderStatus`); each is turned into the application's
  `PaymentStatus` by `payment_status`, through the production mapping of Midtrans' fields
  (`adapters/payments/midtrans.py` `map_state`).
- `money_in`: whether a report means the provider received the customer's money.
- `CREDIT_REASONS`: the ledger reasons under which an order's money may land in saldo.
- `EFFECT_CALLS`: repository calls that change the shop (not the inbox/outbox bookkeeping).
- `NOTICE_KEYS`: catalog keys of direct messages that tell the customer to wait, not an answer.
- `KNOWN_BUGS`: open bugs the long runs tolerate by name (each has an xfail regression test).
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.payments.midtrans import map_state
from application.chat.catalog import text
from application.ports import PaymentState, PaymentStatus
from domain.money import Rupiah
from domain.payment_rules import ProviderStatus

# Every status Midtrans reports (card captures split by fraud status), in production's terms.
PROVIDER_REPORTS: tuple[ProviderStatus, ...] = tuple(ProviderStatus)
# What a customer paying usually produces.
PAYING_REPORTS = (ProviderStatus.SETTLEMENT, ProviderStatus.CAPTURE_ACCEPT, ProviderStatus.PENDING)


def state_of(report: ProviderStatus) -> PaymentState:
    """As the Midtrans adapter reads the report's transaction_status and fraud_status."""
    return map_state(*report.midtrans)


def payment_status(order_id: str, report: ProviderStatus, amount: Rupiah, reversed_amount: Rupiah | None) -> PaymentStatus:
    """The application's view of a provider report (what the status API answers)."""
    state = state_of(report)
    return PaymentStatus(order_id, state, amount, reversed_amount=reversed_amount if state.reversal else None)


def money_in(report: ProviderStatus) -> bool:
    """The provider received the customer's money for the order (any amount): the shop must
    account for it exactly once, as goods, saldo, or an alert that needs an admin."""
    return state_of(report).money_received


# An order's money landing in saldo: a top-up's credit, or a payment that came too late.
CREDIT_REASONS = frozenset({"topup", "late_payment", "payment_mismatch"})

EFFECT_CALLS = frozenset({
    "orders.add", "orders.save", "wallets.save", "products.add", "products.save", "products.take",
    "products.add_items", "products.take_items", "products.release_items", "settings.put", "customers.save",
})

# Alerts that hold received money for an admin to act on (subject: the order id).
MONEY_ALERTS = frozenset({"alert.payment_needs_action", "alert.unknown_order"})
# The ledger reason under which reversed money is taken back from saldo (reference "<order>:<total reversed>").
REVERSAL_REASON = "reversal"
# The alert telling admins that money was reversed after the goods were delivered.
REVERSED_AFTER_DELIVERY = "alert.reversed_after_delivery"

# Direct messages (sent without the outbox) that are not the message's answer: "the database
# failed, your message will be processed automatically" (the re-run answers).
NOTICE_KEYS: frozenset[str] = frozenset({"error.system_pending"})

SYSTEM_ERROR_TEXTS = frozenset(text("error.system", lang) for lang in ("id", "en"))
NOTICE_TEXTS = frozenset(text(key, lang) for key in NOTICE_KEYS for lang in ("id", "en"))


@dataclass(frozen=True)
class KnownBug:
    id: str
    summary: str
    regression_test: str


# Open bugs found by the simulation. A violation of one of them is reported under its id; the
# fixed-budget run in `make test` tolerates exactly these (and says so), every other violation fails.
KNOWN_BUGS: dict[str, KnownBug] = {}
# Found and fixed on main meanwhile (their tests in tests/simulation/test_regressions.py):
# SIM-1 a saved link failing after the order committed answered 'error.system' (fixed by 621fd8e);
# SIM-2 link creation and then the database failing answered 'error.system' with the order
#       PENDING without a link (check answer.failed_after_order_without_link; fixed by e9f2241);
# SIM-3 an admin's .addstok applied twice on a re-run (check stock.added_twice; fixed by e9f2241).
