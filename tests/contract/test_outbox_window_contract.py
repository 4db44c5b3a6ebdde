"""The outbox's contract for messages WhatsApp refused outside the 24-hour window, on every store
(memory, SQLite, PostgreSQL): a sent message keeps the transport's id and a later refusal finds
it once; a held message is neither sent, retried, given up nor pruned until its recipient writes
again, and then goes to one releaser only, oldest first."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from application.ports import Accepted, IncomingMessage, QueuedMessage
from application.replies import Reply
from tests.contract.test_storage_contract import OTHER, T0, USER, Factory, at
from tests.contract.test_storage_contract import new_uow as new_uow  # the fixture: every kind of store
from tests.contract.test_storage_contract import uows as uows  # the fixture: with single-statement units

DAY = timedelta(days=1)


async def test_a_sent_message_is_found_by_its_provider_id_once(new_uow: Factory) -> None:
    async with new_uow() as uow:
        first = await uow.outbox.add(USER, Reply("Kode: ABC"), T0, at(1))
        second = await uow.outbox.add(OTHER, Reply("ok"), T0, at(1))
        without_id = await uow.outbox.add(OTHER, Reply("no id"), T0, at(1))
        await uow.outbox.mark_sent([first, second, without_id], at(1), {first: "wamid.A", second: "wamid.B"})
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.take_refused("wamid.A") == QueuedMessage(first, USER, Reply("Kode: ABC"), 0)
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.take_refused("wamid.A") is None  # the same report again: nothing
        assert await uow.outbox.take_refused("wamid.unknown") is None
        assert await uow.outbox.pending_count() == 0  # taking it does not make it unsent
        assert (await uow.outbox.take_refused("wamid.B")) is not None


async def test_an_uncommitted_take_is_undone(new_uow: Factory) -> None:
    async with new_uow() as uow:
        sent = await uow.outbox.add(USER, Reply("hi"), T0, at(1))
        await uow.outbox.mark_sent([sent], at(1), {sent: "wamid.A"})
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.take_refused("wamid.A") is not None  # rolled back: not committed
    async with new_uow() as uow:
        assert await uow.outbox.take_refused("wamid.A") is not None


async def test_a_held_message_waits_without_retries_until_released(new_uow: Factory) -> None:
    async with new_uow() as uow:
        held = await uow.outbox.add(USER, Reply("Kode: ABC"), T0, at(1))
        other = await uow.outbox.add(OTHER, Reply("ok"), T0, at(1))
        await uow.outbox.hold(held, at(1))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.held_count() == 1 and await uow.outbox.held_count(USER) == 1
        assert await uow.outbox.held_count(OTHER) == 0
        assert await uow.outbox.pending_count() == 1  # only the other one
        assert [m.id for m in await uow.outbox.claim_due(at(60 * 24 * 30), at(60 * 24 * 30 + 1))] == [other]
        assert await uow.outbox.release_held(OTHER, at(2)) == []
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.release_held(USER, at(3)) == [QueuedMessage(held, USER, Reply("Kode: ABC"), 0)]
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.held_count() == 0
        assert await uow.outbox.release_held(USER, at(3)) == []  # released once
        assert await uow.outbox.claim_due(at(2), at(5)) == []  # leased to the releaser until at(3)
        assert [m.id for m in await uow.outbox.claim_due(at(3), at(5))] == [held]  # then anyone's


async def test_released_messages_come_oldest_first_with_their_attempts_reset(new_uow: Factory) -> None:
    async with new_uow() as uow:
        ids = [await uow.outbox.add(USER, Reply(f"pesan {n}"), at(n), at(n + 1)) for n in range(3)]
        await uow.outbox.postpone(ids[1], at(9))  # tried before the refusal
        for message_id in reversed(ids):
            await uow.outbox.hold(message_id, at(10))
        await uow.commit()
    async with new_uow() as uow:
        released = await uow.outbox.release_held(USER, at(20))
        await uow.commit()
    assert [m.id for m in released] == ids and [m.reply.text for m in released] == ["pesan 0", "pesan 1", "pesan 2"]
    assert {m.attempts for m in released} == {0}


async def test_a_message_refused_after_it_was_sent_can_be_held(new_uow: Factory) -> None:
    async with new_uow() as uow:
        sent = await uow.outbox.add(USER, Reply("Kode: ABC"), T0, at(1))
        await uow.outbox.mark_sent([sent], at(1), {sent: "wamid.A"})
        await uow.commit()
    async with new_uow() as uow:
        taken = await uow.outbox.take_refused("wamid.A")
        assert taken is not None
        await uow.outbox.hold(taken.id, at(2))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.held_count(USER) == 1
        released = await uow.outbox.release_held(USER, at(3))
        assert [m.reply.text for m in released] == ["Kode: ABC"]
        await uow.outbox.mark_sent([sent], at(3), {sent: "wamid.B"})  # sent again, a new id
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.take_refused("wamid.A") is None
        assert (await uow.outbox.take_refused("wamid.B")) is not None  # refused again: found again


async def test_retention_keeps_held_messages_however_old(new_uow: Factory) -> None:
    async with new_uow() as uow:
        held = await uow.outbox.add(USER, Reply("Kode: ABC"), T0, at(1))
        sent = await uow.outbox.add(OTHER, Reply("ok"), T0, at(1))
        await uow.outbox.hold(held, at(1))
        await uow.outbox.mark_sent([sent], at(1))
        await uow.commit()
    async with new_uow() as uow:
        await uow.housekeeping.prune_outbox(T0 + 400 * DAY, limit=10)
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.held_count(USER) == 1
        assert [m.id for m in await uow.outbox.release_held(USER, at(2))] == [held]


async def test_two_releases_at_once_share_nothing(uows: tuple[Factory, Factory]) -> None:
    """A customer who writes twice at once: each held message goes to exactly one of the two."""
    new_uow, single = uows
    async with new_uow() as uow:
        ids = [await uow.outbox.add(USER, Reply(f"pesan {n}"), T0, at(1)) for n in range(5)]
        for message_id in ids:
            await uow.outbox.hold(message_id, at(1))
        await uow.commit()

    async def release() -> list[int]:
        async with single() as uow:
            released = await uow.outbox.release_held(USER, at(5))
            await uow.commit()
        return [m.id for m in released]

    first, second = await asyncio.gather(release(), release())
    assert sorted(first + second) == ids and not set(first) & set(second)


async def test_whether_the_recipient_wrote_since_a_message_was_queued(new_uow: Factory) -> None:
    from application.ports import IncomingMessage

    async with new_uow() as uow:
        earlier = await uow.outbox.add(USER, Reply("sebelum"), at(10), at(11))
        later = await uow.outbox.add(USER, Reply("sesudah"), at(30), at(31))
        await uow.inbox.record(IncomingMessage("wamid.other", OTHER, ".menu"), at(40), at(41))
        await uow.inbox.record(IncomingMessage("wamid.user", USER, ".saldo"), at(20), at(21))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.recipient_wrote_since_queued(earlier) is True
        assert await uow.outbox.recipient_wrote_since_queued(later) is False
        assert await uow.outbox.recipient_wrote_since_queued(999_999) is False


async def test_a_message_refused_later_can_be_retried_like_a_failed_send(new_uow: Factory) -> None:
    async with new_uow() as uow:
        sent = await uow.outbox.add(USER, Reply("Kode: ABC"), T0, at(1))
        await uow.outbox.mark_sent([sent], at(1), {sent: "wamid.A"})
        await uow.commit()
    async with new_uow() as uow:
        taken = await uow.outbox.take_refused("wamid.A")
        assert taken is not None
        await uow.outbox.retry(taken.id, at(5))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.outbox.held_count() == 0 and await uow.outbox.pending_count() == 1
        assert await uow.outbox.claim_due(at(4), at(6)) == []
        assert await uow.outbox.claim_due(at(5), at(6)) == [QueuedMessage(sent, USER, Reply("Kode: ABC"), 1)]


async def test_accepting_a_message_tells_whether_its_sender_has_held_messages(new_uow: Factory) -> None:
    async with new_uow() as uow:
        held = await uow.outbox.add(USER, Reply("Kode: ABC"), T0, at(1))
        await uow.outbox.add(OTHER, Reply("ok"), T0, at(1))  # queued, not held: not counted
        await uow.outbox.hold(held, at(1))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.inbox.accept(IncomingMessage("wamid.u", USER, ".saldo"), at(2), at(3)) == Accepted(True, True)
        assert await uow.inbox.accept(IncomingMessage("wamid.o", OTHER, ".saldo"), at(2), at(3)) == Accepted(True, False)
        # A redelivery changes nothing, so it has nothing to release either.
        assert await uow.inbox.accept(IncomingMessage("wamid.u", USER, ".saldo"), at(2), at(3)) == Accepted(False, False)
        await uow.commit()
    async with new_uow() as uow:
        await uow.outbox.release_held(USER, at(4))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.inbox.accept(IncomingMessage("wamid.u2", USER, ".saldo"), at(5), at(6)) == Accepted(True, False)
        await uow.commit()
