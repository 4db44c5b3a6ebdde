"""Nothing lost: a worker killed after accepting a message, or after its purchase committed;
WhatsApp down for minutes. Two instances share one PostgreSQL, as in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from dependency_injector import providers

from adapters.storage.records import SqlAlchemyOutboxRepository
from application.errors import MessengerUnavailable, StorageUnavailable
from application.ports import IncomingMessage
from application.replies import Reply
from tests.fixtures.storage import truncate_all
from tests.support.shop import ADMIN, ALICE, BOB, Shop
from tests.support.wiring import close, production_adapters


class FlakyWhatsApp:
    """A transport that can be switched off, like the Graph API during an outage."""

    def __init__(self) -> None:
        self.down = False
        self.sent: list[tuple[str, str]] = []

    async def send(self, to: str, reply: Reply) -> None:
        if self.down:
            raise MessengerUnavailable("503 from the Graph API")
        self.sent.append((to, reply.text))


@pytest.fixture
async def instances(pg_url: str) -> AsyncIterator[tuple[Shop, Shop]]:
    """Two instances on one database; the second one's clock runs three minutes ahead."""
    await truncate_all(pg_url)
    first, second = production_adapters(pg_url), production_adapters(pg_url)
    a = Shop(first)
    b = Shop(second)
    b.clock.advance(minutes=3)
    await a.stock_products()
    try:
        yield a, b
    finally:
        await close(first)
        await close(second)


async def test_a_message_accepted_by_a_worker_that_died_is_processed_by_another(instances: tuple[Shop, Shop]) -> None:
    a, b = instances
    message = IncomingMessage("wamid.killed-1", ALICE, ".buy NF1")
    assert await a.pipeline.accept(message)  # ... and then instance a is killed -9
    assert await b.pipeline.recover() == 1
    assert await b.balance(ALICE) == 65_000
    replies = b.inbox(ALICE)
    assert len(replies) == 1 and "Pembelian berhasil" in replies[0] and "user1@mail.test|pw1" in replies[0]
    assert await b.pipeline.recover() == 0  # finished: never again


async def test_killed_after_the_purchase_committed_buys_once_and_replies_once(
        instances: tuple[Shop, Shop], monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = instances
    queue_and_finish = SqlAlchemyOutboxRepository.add

    async def dies_before_finishing(self: SqlAlchemyOutboxRepository, *args: Any, **kwargs: Any) -> int:
        raise StorageUnavailable("the process died here")  # before the reply is queued and the message finished

    monkeypatch.setattr(SqlAlchemyOutboxRepository, "add", dies_before_finishing)
    # The customer hears it will be processed once the database is back, never that it failed.
    assert "diproses otomatis" in await a.say(ALICE, ".buy NF1", message_id="wamid.killed-2")
    assert await a.balance(ALICE) == 65_000  # the purchase itself had committed
    monkeypatch.setattr(SqlAlchemyOutboxRepository, "add", queue_and_finish)
    assert await b.pipeline.recover() == 1
    assert await b.balance(ALICE) == 65_000 and await b.stock("NF1") == 2
    async with b.adapters.unit_of_work() as uow:
        orders = await uow.orders.recent_of(ALICE)
    assert len(orders) == 1
    replies = b.inbox(ALICE)
    assert len(replies) == 1 and "user1@mail.test|pw1" in replies[0]


async def test_whatsapp_down_for_minutes_every_message_goes_out_once_when_it_returns(pg_url: str) -> None:
    await truncate_all(pg_url)
    adapters = production_adapters(pg_url)
    whatsapp = FlakyWhatsApp()
    adapters.messenger.override(providers.Object(whatsapp))
    shop = Shop(adapters)
    try:
        await shop.stock_products()
        whatsapp.sent.clear()
        whatsapp.down = True
        await shop.say(ALICE, ".buy VC")
        await shop.say(BOB, ".buy NF1")
        order = await shop.last_order_of(BOB)
        await shop.pay(order.id)  # the delivery is queued too
        outbox = shop.app.outbox()
        assert await outbox.drain() == 0  # postponed: nothing due yet
        shop.clock.advance(minutes=2)
        assert await outbox.drain() == 3 and whatsapp.sent == []  # still down: postponed again
        whatsapp.down = False
        shop.clock.advance(minutes=5)
        while await outbox.drain():
            pass
        texts = [t for _, t in whatsapp.sent]
        assert sum("Pembelian berhasil" in t for t in texts) == 1
        assert sum("/pay/INV-" in t for t in texts) == 1
        assert sum("user1@mail.test|pw1" in t for t in texts) == 1
        shop.clock.advance(hours=1)
        assert await outbox.drain() == 0 and len(whatsapp.sent) == len(texts)
    finally:
        await close(adapters)


async def test_a_text_with_a_nul_is_stored_and_answered_on_postgresql(instances: tuple[Shop, Shop]) -> None:
    a, _ = instances
    # PostgreSQL's JSONB refuses \u0000: the text is cleaned before it is stored.
    assert await a.say(ALICE, ".sal\x00do") == "Saldo kamu: *Rp 100.000*"
    assert "Pembelian berhasil" in await a.say(ALICE, ".buy\x00 VC\x07")
