"""Edges of messages WhatsApp refuses outside the 24-hour window, on the in-memory wiring and
on SQLite: a customer who writes while a message to her is on its way, and the retries a held
message does not burn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from application.chat.pipeline import IncomingMessage
from application.errors import RecipientOutsideWindow
from application.outbox import OutboxSender, WindowRules
from application.replies import Reply
from tests.chat.test_inbox_edges import any_shop as any_shop  # the fixture: memory and SQLite
from tests.support.shop import ADMIN, ALICE, Shop


class ClosedWindow:
    """Refuses free-form messages to `closed` numbers (131047); `writes_meanwhile`: the customer's
    message that reaches the shop while the refused send is on its way."""

    def __init__(self, shop: Shop, *closed: str, writes_meanwhile: bool = False) -> None:
        self.shop, self.closed, self.writes_meanwhile = shop, set(closed), writes_meanwhile
        self.tries: list[str] = []

    async def send(self, to: str, reply: Reply) -> str | None:
        self.tries.append(to)
        if to in self.closed:
            if self.writes_meanwhile:
                self.writes_meanwhile = False
                self.shop.clock.advance(seconds=1)
                await self.shop.pipeline.accept(IncomingMessage("wamid.meanwhile", to, ".saldo"))
            raise RecipientOutsideWindow("131047")
        return None


async def counts(shop: Shop, to: str) -> tuple[int, int]:
    async with shop.adapters.unit_of_work() as uow:
        return await uow.outbox.pending_count(), await uow.outbox.held_count(to)


async def queue_and_send(outbox: OutboxSender, shop: Shop, to: str, text: str) -> None:
    async with shop.adapters.unit_of_work() as uow:
        queued = [await outbox.queue(uow, to, Reply(text))]
        await uow.commit()
    await outbox.deliver(queued)


async def test_a_held_message_burns_no_retries_and_is_never_given_up(any_shop: Shop) -> None:
    shop = any_shop
    messenger = ClosedWindow(shop, ALICE)
    outbox = OutboxSender(shop.adapters.unit_of_work, messenger, shop.clock, window=WindowRules(frozenset({ADMIN})))
    await queue_and_send(outbox, shop, ALICE, "Kode: ABC")
    for _ in range(20):  # days of drain rounds
        shop.clock.advance(hours=3)
        await outbox.drain()
    assert messenger.tries.count(ALICE) == 1 and messenger.tries.count(ADMIN) == 1  # the admin told once
    assert await counts(shop, ALICE) == (0, 1)  # held: not pending, not given up
    messenger.closed.clear()
    assert await outbox.release_held(ALICE) == 1
    assert messenger.tries.count(ALICE) == 2 and await counts(shop, ALICE) == (0, 0)


async def test_a_customer_who_writes_while_a_message_is_refused_gets_it_by_an_ordinary_retry(
        any_shop: Shop) -> None:
    """Her message's release of held messages may run before the refusal is recorded: the
    message is not held (it would wait for her next message) but retried as usual."""
    shop = any_shop
    messenger = ClosedWindow(shop, ALICE, writes_meanwhile=True)
    outbox = OutboxSender(shop.adapters.unit_of_work, messenger, shop.clock, window=WindowRules(frozenset({ADMIN})))
    await queue_and_send(outbox, shop, ALICE, "Kode: ABC")
    assert await counts(shop, ALICE) == (1, 0)  # waiting for a retry, not held, no alert queued
    messenger.closed.clear()
    shop.clock.advance(minutes=1)
    assert await outbox.drain() == 1
    assert messenger.tries == [ALICE, ALICE] and await counts(shop, ALICE) == (0, 0)
    async with shop.adapters.unit_of_work() as uow:
        assert await uow.alerts.open() == []


async def test_a_sender_with_held_messages_gets_them_first_then_the_reply(any_shop: Shop) -> None:
    """The step that accepts her message tells that something is held for her; the release
    runs then, before her message is processed, oldest first."""
    shop = any_shop
    async with shop.adapters.unit_of_work() as uow:
        ids = [await uow.outbox.add(ALICE, Reply(f"held {n}"), shop.clock.now(), shop.clock.now()) for n in (1, 2)]
        for message_id in ids:
            await uow.outbox.hold(message_id, shop.clock.now())
        await uow.commit()
    before = len(shop.inbox(ALICE))
    await shop.say(ALICE, ".saldo")
    assert shop.inbox(ALICE)[before:] == ["held 1", "held 2", "Saldo kamu: *Rp 100.000*"]
    assert await counts(shop, ALICE) == (0, 0)


async def test_a_sender_without_held_messages_costs_no_release_step(
        any_shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = any_shop
    releases: list[str] = []
    release = OutboxSender.release_held

    async def counted(self: OutboxSender, to: str, single: object = None) -> int:
        releases.append(to)
        return await release(self, to, single)  # type: ignore[arg-type]

    monkeypatch.setattr(OutboxSender, "release_held", counted)
    assert "Saldo kamu" in await shop.say(ALICE, ".saldo")
    assert releases == []
    async with shop.adapters.unit_of_work() as uow:  # now something is held for her
        held = await uow.outbox.add(ALICE, Reply("held"), shop.clock.now(), shop.clock.now())
        await uow.outbox.hold(held, shop.clock.now())
        await uow.commit()
    await shop.say(ALICE, ".saldo")
    assert releases == [ALICE]
    await shop.say(ALICE, ".saldo")
    assert releases == [ALICE]  # released once: nothing held any more
