"""Counterexamples the simulation found, as small explicit tests (each names its finding).

The open ones are strict xfails: they start passing (and so fail the suite) when the bug is
fixed, and then lose their marker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from domain.order import OrderStatus
from tests.simulation.rules import SYSTEM_ERROR_TEXTS
from tests.simulation.wiring import Wired, wire
from tests.support.shop import ADMIN, ALICE


@pytest.fixture
async def shop() -> AsyncIterator[Wired]:
    wired = wire("memory")
    try:
        yield wired
    finally:
        await wired.close()


# SIM-1, found by the simulation (memory wiring): open_shop; storage_fails(after=10);
# double_tap_same_id('.deposit 20rb', at_once=False); faults_stop_and_recovery_runs.
# Fixed on main by 621fd8e (a payment link the database could not save is still given).
async def test_sim1_a_top_up_whose_link_could_not_be_saved_is_not_answered_try_again(shop: Wired) -> None:
    shop.plan.fail_on = "orders.save"  # the unit of work that stores the payment link
    replies = await shop.shop.send(ALICE, ".deposit 20rb", "wamid.sim1-a")
    async with shop.clean() as uow:
        orders = await uow.orders.recent_of(ALICE, 5)
    assert [o.status for o in orders] == [OrderStatus.PENDING]  # the top-up order committed
    assert not any(r.text in SYSTEM_ERROR_TEXTS for r in replies)
