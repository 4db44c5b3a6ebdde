"""The contract of the seller's side on every store (memory, SQLite, PostgreSQL): manual orders
waiting and their reminders, an alert resolved by its cause, and the cluster-wide job lease;
on SQL, a manual delivery is unreadable at rest."""

from __future__ import annotations

from sqlalchemy import select

from adapters.storage.storage import SqlStorage
from adapters.storage.tables import transaksi
from domain.money import Rupiah
from domain.order import Order, OrderStatus, PaymentMethod
from domain.product import Fulfilment
from tests.contract.test_money_records_contract import alert
from tests.contract.test_storage_contract import USER, Factory, at, sql_url as sql_url
from tests.contract.test_storage_contract import new_uow as new_uow  # the fixture: every kind of store
from tests.fixtures.storage import truncate_all


def manual_order(order_id: str, minutes: int = 0, fulfilment: Fulfilment = Fulfilment.MANUAL) -> Order:
    order = Order.purchase(order_id, USER, "CANVA", "Canva", 1, Rupiah(25_000), PaymentMethod.SALDO, at(minutes),
                           fulfilment=fulfilment)
    order.await_seller(at(minutes + 30))
    return order


async def store(new_uow: Factory, *orders: Order) -> None:
    async with new_uow() as uow:
        await uow.customers.ensure(USER, at(0))
        for order in orders:
            await uow.orders.add(order)
        await uow.commit()


async def test_paid_manual_orders_wait_oldest_first_until_delivered(new_uow: Factory) -> None:
    later, earlier = manual_order("INV-B", minutes=5), manual_order("INV-A")
    automatic = manual_order("INV-C", fulfilment=Fulfilment.AUTOMATIC)
    await store(new_uow, later, earlier, automatic)
    async with new_uow() as uow:
        assert [o.id for o in await uow.orders.waiting_for_seller()] == ["INV-A", "INV-B"]
    earlier.deliver_by_hand("https://invite.test/x\nline 2", at(10))
    async with new_uow() as uow:
        await uow.orders.save(earlier)
        await uow.commit()
    async with new_uow() as uow:
        assert [o.id for o in await uow.orders.waiting_for_seller()] == ["INV-B"]
        stored = await uow.orders.get("INV-A")
    assert stored is not None
    assert (stored.fulfilment, stored.delivered_at, stored.delivery_note, stored.remind_at) == (
        Fulfilment.MANUAL, at(10), "https://invite.test/x\nline 2", None)


async def test_reminders_come_due_soonest_first_and_stop_for_refunded_orders(new_uow: Factory) -> None:
    first, second, refunded = manual_order("INV-A"), manual_order("INV-B", minutes=10), manual_order("INV-C")
    refunded.move_to(OrderStatus.REFUNDED, at(1))
    await store(new_uow, second, first, refunded)
    async with new_uow() as uow:
        assert await uow.orders.reminders_due(at(29)) == []
        assert [o.id for o in await uow.orders.reminders_due(at(30))] == ["INV-A"]
        assert [o.id for o in await uow.orders.reminders_due(at(60))] == ["INV-A", "INV-B"]


async def test_resolving_closes_the_open_alert_of_a_cause_once(new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.alerts.raise_(alert(kind="alert.low_stock", subject="VC"))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.alerts.resolve("alert.low_stock", "VC", at(5)) is True
        assert await uow.alerts.resolve("alert.low_stock", "VC", at(6)) is False
        assert await uow.alerts.resolve("alert.low_stock", "NF1", at(6)) is False
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.alerts.open() == []
        assert await uow.alerts.raise_(alert(kind="alert.low_stock", subject="VC", minutes=7)) is not None


async def test_a_job_lease_has_one_holder_until_it_runs_out(new_uow: Factory) -> None:
    async with new_uow() as uow:
        assert await uow.leases.claim("doctor", "worker-1", at(0), at(5)) is True
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.leases.claim("doctor", "worker-2", at(1), at(6)) is False
        assert await uow.leases.claim("reminders", "worker-2", at(1), at(6)) is True
        assert await uow.leases.claim("doctor", "worker-1", at(2), at(7)) is True  # its own, extended
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.leases.claim("doctor", "worker-2", at(6), at(11)) is False
        assert await uow.leases.claim("doctor", "worker-2", at(7), at(12)) is True  # ran out
        await uow.commit()


async def test_a_manual_delivery_is_unreadable_at_rest(sql_url: str, secret_key: str) -> None:
    storage = SqlStorage.from_url(sql_url, secret_key)
    try:
        await truncate_all(sql_url)
        order = manual_order("INV-A")
        await store(storage.uow_factory, order)
        order.deliver_by_hand("invite: https://secret.test/abc", at(3))
        async with storage.uow_factory() as uow:
            await uow.orders.save(order)
            await uow.commit()
        async with storage.engine.connect() as connection:
            stored = (await connection.execute(select(transaksi.c.delivery))).scalar_one()
        assert "secret.test" not in stored
    finally:
        await storage.aclose()
        await truncate_all(sql_url)
