"""The contract of housekeeping: retention, cluster-wide job rounds, a customer's export and
forgetting — on memory, SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

from application.ports import Alert, IncomingMessage, StoredText
from application.replies import Reply
from domain.money import Rupiah
from domain.order import OrderStatus
from domain.product import Product
from tests.contract.test_storage_contract import OTHER, T0, USER, Factory, at, message, saldo_order
from tests.contract.test_storage_contract import new_uow as new_uow  # the fixture: every kind of store

DAY = timedelta(days=1)


async def test_one_caller_claims_a_job_round_until_it_runs_out(new_uow: Factory) -> None:
    async with new_uow() as uow:
        assert await uow.housekeeping.claim_job("retention", T0, at(60))
        assert not await uow.housekeeping.claim_job("retention", at(1), at(61))
        assert await uow.housekeeping.claim_job("other", at(1), at(61))  # each job its own round
        await uow.commit()
    async with new_uow() as uow:
        assert not await uow.housekeeping.claim_job("retention", at(59), at(119))
        assert await uow.housekeeping.claim_job("retention", at(60), at(120))
        await uow.commit()
    async with new_uow() as uow:
        assert not await uow.housekeeping.claim_job("retention", at(100), at(160))


async def test_retention_prunes_finished_messages_oldest_first_and_keeps_unfinished_ones(new_uow: Factory) -> None:
    async with new_uow() as uow:
        for n in range(5):
            await uow.inbox.record(message(f"wamid.{n}"), T0 + n * DAY, T0 + n * DAY + timedelta(minutes=2))
            if n != 1:
                await uow.inbox.finish(f"wamid.{n}", T0 + n * DAY)
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.housekeeping.prune_inbox(T0 + 3 * DAY, limit=1) == 1
        assert await uow.housekeeping.prune_inbox(T0 + 3 * DAY, limit=10) == 1  # wamid.1 is unfinished
        assert await uow.housekeeping.prune_inbox(T0 + 3 * DAY, limit=10) == 0
        await uow.commit()
    async with new_uow() as uow:
        # Pruned ids are new again; the kept ones still drop a redelivery.
        assert not await uow.inbox.record(message("wamid.3"), at(1), at(2))
        assert not await uow.inbox.record(message("wamid.1"), at(1), at(2))
        assert await uow.inbox.record(message("wamid.0"), T0 + 9 * DAY, T0 + 9 * DAY)


async def test_retention_prunes_only_sent_or_given_up_outgoing_messages(new_uow: Factory) -> None:
    async with new_uow() as uow:
        sent = await uow.outbox.add(USER, Reply("a"), T0, at(1))
        given_up = await uow.outbox.add(USER, Reply("b"), T0, at(1))
        waiting = await uow.outbox.add(USER, Reply("c"), T0, at(1))
        await uow.outbox.mark_sent([sent], at(1))
        await uow.outbox.give_up(given_up, at(1))
        await uow.commit()
    async with new_uow() as uow:
        await uow.housekeeping.prune_outbox(T0 + 15 * DAY, limit=10)
        assert await uow.housekeeping.prune_outbox(T0 + 15 * DAY, limit=10) == 0
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.pending_count() == 1
        assert (await uow.outbox.get(waiting)) is not None


async def test_retention_prunes_payment_notifications_received_before_the_cutoff(new_uow: Factory) -> None:
    async with new_uow() as uow:
        assert await uow.payments.record("INV-1", "INV-1:settlement", "{}", T0)
        assert await uow.payments.record("INV-2", "INV-2:settlement", "{}", T0 + 10 * DAY)
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.housekeeping.prune_payment_events(T0 + 5 * DAY, limit=10) == 1
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.payments.record("INV-1", "INV-1:settlement", "{}", T0 + 11 * DAY)  # new again
        assert not await uow.payments.record("INV-2", "INV-2:settlement", "{}", T0 + 11 * DAY)


async def test_the_messages_of_a_customer_are_theirs_both_ways_oldest_first(new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.inbox.record(message("wamid.1", ".saldo"), T0, at(2))
        await uow.inbox.record(IncomingMessage("wamid.2", OTHER, ".menu"), at(1), at(2))
        await uow.outbox.add(USER, Reply("Saldo kamu: Rp 0"), at(3), at(4), finishes="wamid.1")
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.housekeeping.messages_of(USER) == [
            StoredText("in", T0, ".saldo"), StoredText("out", at(3), "Saldo kamu: Rp 0")]


async def test_a_forgotten_customer_keeps_orders_and_ledger_under_a_pseudonym_and_loses_the_rest(
        new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.products.add(Product.create("NF1", "Netflix", 35000, 0))
        await uow.products.add_items("NF1", ["mine@mail.test|pw1", "other@mail.test|pw2"], T0)
        await uow.inbox.record(message("wamid.1", ".buy NF1"), T0, at(2))
        wallet = await uow.wallets.get(USER, for_update=True)
        wallet.credit(Rupiah(35000), "topup", "TOP-1", T0)
        wallet.debit(Rupiah(35000), "purchase", "INV-1", at(1))
        await uow.wallets.save(wallet)
        order = saldo_order("INV-1")
        await uow.orders.add(order)
        await uow.products.take_items("NF1", 1, "INV-1")
        await uow.outbox.add(USER, Reply("mine@mail.test|pw1"), at(1), at(2), finishes="wamid.1")
        await uow.payments.record("INV-1", "INV-1:settlement", f'{{"phone": "{USER}"}}', at(1))
        await uow.alerts.raise_(Alert("alert.late_paid", "INV-1", {"user": USER}, at(1)))
        await uow.commit()
    async with new_uow() as uow:
        await uow.housekeeping.forget_customer(USER, "anon-0001")
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.customers.get(USER) is None
        assert await uow.orders.recent_of(USER) == []
        assert await uow.wallets.ledger(USER) == []
        assert await uow.housekeeping.messages_of(USER) == []
        forgotten = await uow.customers.get("anon-0001")
        assert forgotten is not None and forgotten.business_user_id is None
        kept = await uow.orders.get("INV-1")
        assert kept is not None and kept.user_id == "anon-0001" and kept.status is OrderStatus.PAID
        assert kept.total == order.total
        assert [e.delta for e in reversed(await uow.wallets.ledger("anon-0001"))] == [Rupiah(35000), Rupiah(-35000)]
        assert await uow.wallets.ledger_sum("anon-0001") == Rupiah(0)
        assert await uow.housekeeping.messages_of("anon-0001") == []
        assert await uow.products.items_of_order("INV-1") == [""]  # the item's row counts, its secret is gone
        assert await uow.products.free_item_counts() == {"NF1": 1}
        assert [a.params for a in await uow.alerts.open()] == [{"user": "anon-0001"}]
        assert await uow.outbox.pending_count() == 0
        assert not await uow.payments.record("INV-1", "INV-1:settlement", "{}", at(5))  # the record stays


async def test_forgetting_someone_unknown_changes_nothing(new_uow: Factory) -> None:
    async with new_uow() as uow:
        await uow.customers.ensure(OTHER, T0)
        await uow.housekeeping.forget_customer(USER, "anon-0002")
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.customers.get("anon-0002") is None
        assert await uow.customers.get(OTHER) is not None
