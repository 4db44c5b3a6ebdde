"""The Wallet aggregate: a balance that is the sum of its ledger and never goes below zero."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import InsufficientBalance, InvalidAmount
from domain.money import ZERO, Rupiah


@dataclass(frozen=True)
class LedgerEntry:
    """One change of a balance. `reference` (an order id, an idempotency key) makes credits
    exactly-once: storage refuses a second entry with the same reason and reference."""

    user_id: str
    delta: Rupiah
    balance_after: Rupiah
    reason: str
    reference: str | None
    at: datetime


@dataclass
class Wallet:
    """A customer's saldo.

    - Every change goes through `credit` or `debit` and leaves a ledger entry, so the balance
      always equals the sum of the ledger.
    - A debit larger than the balance is refused, never clamped.
    """

    user_id: str
    balance: Rupiah = ZERO
    new_entries: list[LedgerEntry] = field(default_factory=list)

    def credit(self, amount: Rupiah, reason: str, reference: str | None, at: datetime) -> LedgerEntry:
        if amount.value <= 0:
            raise InvalidAmount(value=amount.value)
        return self._record(amount, reason, reference, at)

    def debit(self, amount: Rupiah, reason: str, reference: str | None, at: datetime) -> LedgerEntry:
        if amount.value <= 0:
            raise InvalidAmount(value=amount.value)
        if amount > self.balance:
            raise InsufficientBalance(balance=self.balance.value, needed=amount.value)
        return self._record(-amount, reason, reference, at)

    def covers(self, amount: Rupiah) -> bool:
        return self.balance >= amount

    def _record(self, delta: Rupiah, reason: str, reference: str | None, at: datetime) -> LedgerEntry:
        self.balance = self.balance + delta
        entry = LedgerEntry(self.user_id, delta, self.balance, reason, reference, at)
        self.new_entries.append(entry)
        return entry
