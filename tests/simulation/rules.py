"""The data the simulation is driven by and judged by, in one place.

- `PROVIDER_REPORTS`: every Midtrans status (and card fraud verdict) the provider may report;
  each is turned into the application's `PaymentStatus` by `payment_status`, through the
  production mapping (`adapters/payments/midtrans.py` `map_state`).
- `money_in`: whether a report means the provider holds the customer's money for the order.
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
from domain.order import Order


@dataclass(frozen=True)
class ProviderReport:
    """What the provider says about an order: Midtrans' transaction_status, the fraud status
    of a card capture, and the gross amount ('right' = the order's total, else off by some)."""

    transaction_status: str
    fraud_status: str | None = None

    def __str__(self) -> str:
        return self.transaction_status + (f"/{self.fraud_status}" if self.fraud_status else "")


PROVIDER_REPORTS: tuple[ProviderReport, ...] = (
    ProviderReport("settlement"),
    ProviderReport("capture", "accept"),
    ProviderReport("capture", "challenge"),
    ProviderReport("capture", "deny"),
    ProviderReport("authorize"),
    ProviderReport("pending"),
    ProviderReport("deny"),
    ProviderReport("cancel"),
    ProviderReport("expire"),
    ProviderReport("failure"),
    ProviderReport("refund"),
    ProviderReport("partial_refund"),
    ProviderReport("chargeback"),
    ProviderReport("partial_chargeback"),
)


def state_of(report: ProviderReport) -> PaymentState:
    return map_state(report.transaction_status, report.fraud_status)


def payment_status(order_id: str, report: ProviderReport, amount: Rupiah) -> PaymentStatus:
    """The application's view of a provider report (what the status API answers)."""
    return PaymentStatus(order_id, state_of(report), amount)


def money_in(report: ProviderReport, amount: Rupiah, order: Order) -> bool:
    """The provider holds the customer's money for this order and the shop must account for it
    exactly once (today: a settled payment of the right amount)."""
    return state_of(report) is PaymentState.PAID and amount == order.total


# An order's money landing in saldo: a top-up's credit, or a payment that came too late.
CREDIT_REASONS = frozenset({"topup", "late_payment", "payment_mismatch"})

EFFECT_CALLS = frozenset({
    "orders.add", "orders.save", "wallets.save", "products.add", "products.save", "products.take",
    "products.add_items", "products.take_items", "products.release_items", "settings.put", "customers.save",
})

# Direct messages (sent without the outbox) that are not the message's answer: none today.
NOTICE_KEYS: frozenset[str] = frozenset()

SYSTEM_ERROR_TEXTS = frozenset(text("error.system", lang) for lang in ("id", "en"))
NOTICE_TEXTS = frozenset(text(key, lang) for key in NOTICE_KEYS for lang in ("id", "en"))


@dataclass(frozen=True)
class KnownBug:
    id: str
    summary: str
    regression_test: str


# Open bugs found by the simulation. A violation of one of them is reported under its id; the
# fixed-budget run in `make test` tolerates exactly these (and says so), every other violation fails.
KNOWN_BUGS: dict[str, KnownBug] = {
    "answer.failed_but_committed": KnownBug(
        "SIM-1", "the database fails after the use case committed (saving a payment link, queueing the low-stock "
        "alert): the message is finished with 'error.system' (try again) although the order/debit stands",
        "tests/simulation/test_regressions.py::test_sim1_*"),
}
