"""The contract of the money records: alerts (one open per kind and subject) and the fields an
order keeps about reversals and re-checks — on memory, SQLite and PostgreSQL alike."""

from __future__ import annotations

from application.ports import Alert
from domain.money import Rupiah
from domain.order import OrderStatus
from tests.contract.test_storage_contract import Factory, T0, at, link_order
from tests.contract.test_storage_contract import new_uow as new_uow  # the fixture: every kind of store


def alert(kind: str = "alert.late_paid", subject: str = "INV-1", minutes: int = 0, owed: int | None = None) -> Alert:
    return Alert(kind, subject, {"order_id": subject}, at(minutes), Rupiah(owed) if owed is not None else None)


async def test_an_open_alert_of_the_same_kind_and_subject_is_not_raised_twice(new_uow: Factory) -> None:
    async with new_uow() as uow:
        first = await uow.alerts.raise_(alert())
        assert first is not None
        assert await uow.alerts.raise_(alert(minutes=1)) is None
        assert await uow.alerts.raise_(alert(subject="INV-2")) is not None
        assert await uow.alerts.raise_(alert(kind="alert.unknown_order")) is not None
        await uow.commit()
    async with new_uow() as uow:
        assert [(a.kind, a.subject) for a in await uow.alerts.open()] == [
            ("alert.unknown_order", "INV-1"), ("alert.late_paid", "INV-2"), ("alert.late_paid", "INV-1")]


async def test_an_acknowledged_alert_can_be_raised_again_and_keeps_its_history(new_uow: Factory) -> None:
    async with new_uow() as uow:
        first = await uow.alerts.raise_(alert(owed=35_000))
        await uow.commit()
    assert first is not None
    async with new_uow() as uow:
        assert await uow.alerts.acknowledge(first, at(5)) is True
        assert await uow.alerts.acknowledge(first, at(6)) is False  # once
        assert await uow.alerts.acknowledge(999_999, at(6)) is False
        again = await uow.alerts.raise_(alert(minutes=10))
        await uow.commit()
    assert again is not None and again != first
    async with new_uow() as uow:
        open_now = await uow.alerts.open()
        everything = await uow.alerts.recent()
    assert [a.id for a in open_now] == [again]
    assert [a.id for a in everything] == [again, first]  # newest first
    old = everything[1]
    assert (old.amount, old.acknowledged_at, old.params) == (Rupiah(35_000), at(5), {"order_id": "INV-1"})


async def test_an_alert_raised_in_a_unit_of_work_that_is_not_committed_is_not_kept(new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.alerts.raise_(alert())
    async with new_uow() as uow:
        assert await uow.alerts.open() == []
        assert await uow.alerts.raise_(alert()) is not None


async def test_an_order_keeps_what_was_received_reversed_and_when_to_look_again(new_uow: Factory) -> None:
    order = link_order("INV-A")
    async with new_uow() as uow:
        await uow.customers.ensure(order.user_id, T0)
        await uow.orders.add(order)
        await uow.commit()
    order.move_to(OrderStatus.EXPIRED, at(20))
    order.credit_instead(Rupiah(9_000), at(30))
    order.reverse(Rupiah(4_000), "chargeback", at(40))
    order.record_shortfall(Rupiah(1_500))
    order.recheck_at = at(50)
    async with new_uow() as uow:
        await uow.orders.save(order)
        await uow.commit()
    async with new_uow() as uow:
        stored = await uow.orders.get("INV-A")
    assert stored is not None
    assert (stored.amount_received, stored.reversed_amount, stored.shortfall, stored.reversal, stored.recheck_at) == (
        Rupiah(9_000), Rupiah(4_000), Rupiah(1_500), "chargeback", at(50))


async def test_orders_due_for_a_recheck_come_soonest_first_and_only_when_due(new_uow: Factory) -> None:
    async with new_uow() as uow:
        for n, recheck in enumerate([30, 10, None, 90]):
            order = link_order(f"INV-{n}", user=f"62811000000{n}")
            await uow.customers.ensure(order.user_id, T0)
            await uow.orders.add(order)
            order.move_to(OrderStatus.EXPIRED, at(1))
            order.recheck_at = at(recheck) if recheck is not None else None
            await uow.orders.save(order)
        await uow.commit()
    async with new_uow() as uow:
        assert [o.id for o in await uow.orders.due_for_recheck(at(60))] == ["INV-1", "INV-0"]
        assert [o.id for o in await uow.orders.due_for_recheck(at(60), limit=1)] == ["INV-1"]
        assert await uow.orders.due_for_recheck(at(5)) == []
