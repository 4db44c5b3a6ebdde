"""Consistency checks (`tokowa doctor` and the server's periodic job).

Correctness lives in the database, so these should never find anything; when they do, a
person must look: each finding is logged as an error and sent to the admins. Nothing is
repaired automatically.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.ports import UnitOfWork, UnitOfWorkFactory
from application.services import Notifier
from domain.order import OrderKind, OrderStatus

log = logging.getLogger("tokowa.doctor")

RECENT_PAID_ORDERS = 500


@dataclass(frozen=True)
class Finding:
    """One broken invariant. `check` names it; `subject` is the user, product or order."""

    check: str
    subject: str
    expected: int
    actual: int

    @property
    def key(self) -> str:
        return f"{self.check}:{self.subject}:{self.expected}:{self.actual}"


class CheckConsistency:
    """Look for broken invariants and tell the admins.

    - Every wallet's balance equals the sum of its ledger.
    - An item product's stock equals its unsold stock items.
    - A PAID purchase of an item product holds one item per unit (checked over the most recent
      PAID orders).
    - `only_new=True` (the periodic job) alerts each finding once while it persists, so a
      standing problem does not message the admins every round.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, notifier: Notifier) -> None:
        self._uow_factory, self._notifier = uow_factory, notifier
        self._reported: set[str] = set()

    async def __call__(self, *, only_new: bool = False) -> list[Finding]:
        async with self._uow_factory() as uow:
            findings = await _ledgers(uow) + await _stock(uow) + await _deliveries(uow)
        keys = {f.key for f in findings}
        fresh = [f for f in findings if not (only_new and f.key in self._reported)]
        self._reported = keys
        for finding in fresh:
            log.error("inconsistency: %s", finding.check,
                      extra={"check": finding.check, "subject": finding.subject,
                             "expected": finding.expected, "actual": finding.actual})
            await self._notifier.alert_admins(f"alert.{finding.check}", subject=finding.subject,
                                              expected=finding.expected, actual=finding.actual)
        return findings


async def _ledgers(uow: UnitOfWork) -> list[Finding]:
    return [Finding("ledger_mismatch", user_id, summed.value, balance.value)
            for user_id, balance, summed in await uow.wallets.off_ledger()]


async def _stock(uow: UnitOfWork) -> list[Finding]:
    free = await uow.products.free_item_counts()
    findings = []
    for code in sorted(free):
        product = await uow.products.get(code)
        if product is not None and product.stock != free[code]:
            findings.append(Finding("stock_mismatch", code, free[code], product.stock))
    for product in await uow.products.list_active():
        if product.uses_items and product.code not in free and product.stock != 0:
            findings.append(Finding("stock_mismatch", product.code, 0, product.stock))
    return findings


async def _deliveries(uow: UnitOfWork) -> list[Finding]:
    findings = []
    item_products: dict[str, bool] = {}
    for order in await uow.orders.recent(OrderStatus.PAID, RECENT_PAID_ORDERS):
        if order.kind is not OrderKind.PURCHASE or order.product_code is None:
            continue
        code = order.product_code
        if code not in item_products:
            product = await uow.products.get(code)
            item_products[code] = product is not None and product.uses_items
        if not item_products[code]:
            continue
        held = len(await uow.products.items_of_order(order.id))
        if held < order.qty:
            findings.append(Finding("undelivered", order.id, order.qty, held))
    return findings
