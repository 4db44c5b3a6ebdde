"""The message pipeline: redeliveries, rate limits, locks, hints and a database that is down."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

import pytest
from dependency_injector import providers

from adapters.coordination.memory import ComposedGatekeeper, MemoryCache
from adapters.memory.storage import MemoryUnitOfWork
from application.errors import StorageUnavailable
from application.ports import Lock
from application.replies import Reply
from application.services import PRODUCT_LIST_KEY, balance_key, product_key
from application.use_cases.shopping import BuyCommand
from tests.support.shop import ADMIN, ALICE, BOB, Shop

PENDING = ("Sistem sedang gangguan. Pesan kamu sudah kami terima dan akan diproses otomatis begitu sistem pulih, "
           "tidak perlu dikirim ulang.")


async def test_a_redelivered_message_is_answered_once_and_buys_once(shop: Shop) -> None:
    first = await shop.say(ALICE, ".buy VC", message_id="wamid.same")
    again = await shop.say(ALICE, ".buy VC", message_id="wamid.same")
    assert "Pembelian berhasil" in first and again == ""
    assert await shop.balance(ALICE) == 90_000


async def test_buy_is_limited_to_three_a_minute_with_one_warning_then_silence(shop: Shop) -> None:
    replies = [await shop.say(ALICE, f".buy VC {n}") for n in (1, 2, 3, 1, 2)]
    assert all("Pembelian berhasil" in r for r in replies[:3])
    assert replies[3] == "Terlalu banyak permintaan. Coba lagi dalam 60 detik."
    assert replies[4] == ""
    assert await shop.balance(ALICE) == 40_000
    shop.clock.advance(seconds=61)
    assert "Pembelian berhasil" in await shop.say(ALICE, ".buy VC")


async def test_other_commands_have_their_own_window_from_settings(shop: Shop) -> None:
    await shop.say(ADMIN, ".setting rate_limit_per_minute 2")
    assert [bool(await shop.say(BOB, ".saldo")) for _ in range(4)] == [True, True, True, False]
    assert "Pembelian" not in await shop.say(BOB, ".buy VC saldo")  # buy counts separately
    assert "Saldo tidak cukup" in await shop.say(BOB, ".buy VC saldo")


async def test_admin_numbers_are_not_rate_limited(shop: Shop) -> None:
    replies = [await shop.say(ADMIN, ".cekstok VC") for _ in range(25)]
    assert all(r == "Stok VC: 20 tersisa." for r in replies)


async def test_write_command_while_the_users_lock_is_held_is_busy(shop: Shop) -> None:
    locks = shop.adapters.locks()
    held = await locks.acquire(f"lock:buy:{ALICE}", 30_000)
    assert held is not None
    assert await shop.say(ALICE, ".buy VC") == "Transaksi sedang diproses. Tunggu sebentar ya."
    assert await shop.say(ALICE, ".saldo") == "Saldo kamu: *Rp 100.000*"  # reads take no lock
    await locks.release(held)
    assert "Pembelian berhasil" in await shop.say(ALICE, ".buy VC")


async def test_a_rate_limited_message_never_takes_the_lock(shop: Shop) -> None:
    for _ in range(4):
        await shop.say(BOB, ".buy VC saldo")
    locks = shop.adapters.locks()
    assert await locks.acquire(f"lock:buy:{BOB}", 30_000) is not None


async def test_unknown_command_gets_a_hint(shop: Shop) -> None:
    assert await shop.say(ALICE, ".beliin VC") == "Perintah tidak dikenal. Ketik .menu untuk daftar perintah."


async def test_plain_chat_gets_the_menu_at_most_once_per_ten_minutes_then_short_hints(shop: Shop) -> None:
    assert "*Perintah*" in await shop.say(BOB, "halo kak")
    assert "Ketik *menu*" in await shop.say(BOB, "hmm ok")
    assert await shop.say(BOB, "hmm") == ""  # at most one hint a minute
    shop.clock.advance(minutes=1, seconds=1)
    assert "Ketik *menu*" in await shop.say(BOB, "hmm")
    shop.clock.advance(minutes=10, seconds=1)
    assert "*Perintah*" in await shop.say(BOB, "kak?")


async def test_media_gets_a_short_text_hint_at_most_once_per_ten_minutes(shop: Shop) -> None:
    assert await shop.say(BOB, None) == "Maaf, kirim perintah dalam bentuk teks ya. Ketik .menu untuk daftar perintah."
    assert await shop.say(BOB, None) == ""


async def test_interactive_row_ids_read_as_commands(shop: Shop) -> None:
    assert "Pembelian berhasil" in await shop.say(ALICE, "buy:VC")


class _DownUnitOfWork:
    async def __aenter__(self) -> _DownUnitOfWork:
        raise StorageUnavailable("connection refused")

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        return None


async def test_database_down_gets_the_trouble_reply_and_releases_the_lock(shop: Shop) -> None:
    await shop.say(ALICE, ".saldo")  # settings now cached, as they usually are
    shop.adapters.unit_of_work.override(providers.Factory(_DownUnitOfWork))
    assert await shop.say(ALICE, ".buy VC") == "Sistem sedang gangguan, coba lagi sebentar."
    shop.adapters.unit_of_work.reset_override()
    assert "Pembelian berhasil" in await shop.say(ALICE, ".buy VC")
    assert await shop.balance(ALICE) == 90_000


async def test_database_down_mid_command_leaves_nothing_half_written_and_the_message_runs_when_it_is_back(
        shop: Shop) -> None:
    calls = {"n": 0}

    class _FailsOnCommit(MemoryUnitOfWork):
        async def commit(self) -> None:
            calls["n"] += 1
            if calls["n"] > 1:  # the first commit is accept() recording the message id
                raise StorageUnavailable("connection lost")
            await super().commit()

    await shop.say(ALICE, ".saldo")
    shop.adapters.unit_of_work.override(providers.Factory(_FailsOnCommit, store=shop.adapters.store()))
    assert await shop.say(ALICE, ".buy VC") == PENDING
    shop.adapters.unit_of_work.reset_override()
    assert await shop.balance(ALICE) == 100_000 and await shop.stock("VC") == 20
    assert calls["n"] >= 2  # the purchase itself reached its commit, which failed
    shop.clock.advance(minutes=3)  # the lease runs out: the message was not finished
    assert await shop.pipeline.recover() == 1
    assert "Pembelian berhasil" in shop.inbox(ALICE)[-1]
    assert await shop.balance(ALICE) == 90_000 and await shop.stock("VC") == 19


async def test_a_failure_after_the_purchase_committed_is_never_told_as_a_failure(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.memory.repositories import MemoryOutboxRepository

    queue_and_finish = MemoryOutboxRepository.add

    async def database_gone(self: MemoryOutboxRepository, *args: object, **kwargs: object) -> int:
        raise StorageUnavailable("connection lost")  # after the purchase committed, before its reply was queued

    monkeypatch.setattr(MemoryOutboxRepository, "add", database_gone)
    assert await shop.say(ALICE, ".buy VC", message_id="wamid.after-commit") == PENDING
    assert await shop.balance(ALICE) == 90_000  # the purchase had committed
    monkeypatch.setattr(MemoryOutboxRepository, "add", queue_and_finish)
    assert await shop.pipeline.recover() == 0  # still leased to the worker that ran it
    shop.clock.advance(minutes=3)
    assert await shop.pipeline.recover() == 1
    assert shop.inbox(ALICE)[0] == PENDING and "Pembelian berhasil" in shop.inbox(ALICE)[1]
    assert len(shop.inbox(ALICE)) == 2
    assert await shop.balance(ALICE) == 90_000 and await shop.stock("VC") == 19
    async with shop.adapters.unit_of_work() as uow:
        assert len(await uow.orders.recent_of(ALICE)) == 1


class _WorkerKilled(BaseException):
    """The process dies at this point (nothing after it runs)."""


async def test_killed_before_the_payment_link_was_made_the_rerun_sends_a_working_link(shop: Shop) -> None:
    from adapters.payments.simulator import SimulatedPaymentGateway
    from application.ports import IncomingMessage, PaymentLink, PaymentRequest

    create = SimulatedPaymentGateway.create

    async def dies(self: SimulatedPaymentGateway, request: PaymentRequest) -> PaymentLink:
        raise _WorkerKilled()

    message = IncomingMessage("wamid.killed-link", BOB, ".buy NF1")
    assert await shop.pipeline.accept(message)
    SimulatedPaymentGateway.create = dies  # type: ignore[method-assign]
    try:
        await shop.pipeline.process(message)
    except _WorkerKilled:
        pass
    finally:
        SimulatedPaymentGateway.create = create  # type: ignore[method-assign]
    shop.clock.advance(minutes=3)  # the lease ran out
    assert await shop.pipeline.recover() == 1
    order = await shop.last_order_of(BOB)
    assert f"http://shop.test/pay/{order.id}" in shop.inbox(BOB)[-1]
    assert shop.gateway.amount_of(order.id) is not None


async def test_the_business_scoped_user_id_is_kept_beside_the_wa_id(shop: Shop) -> None:
    from application.ports import IncomingMessage

    await shop.pipeline.handle(IncomingMessage("wamid.bsuid-1", BOB, ".saldo", "ID.1234567890"))
    async with shop.adapters.unit_of_work() as uow:
        customer = await uow.customers.get(BOB)
    assert customer is not None and customer.business_user_id == "ID.1234567890"
    assert await shop.say(BOB, ".saldo") == "Saldo kamu: *Rp 0*"  # later messages without it keep it
    async with shop.adapters.unit_of_work() as uow:
        assert (await uow.customers.get(BOB)).business_user_id == "ID.1234567890"  # type: ignore[union-attr]


async def test_one_message_that_keeps_failing_does_not_hold_up_the_others_left_unfinished(shop: Shop) -> None:
    from application.chat.commands import Commands
    from application.ports import IncomingMessage

    broken = IncomingMessage("wamid.poison", BOB, ".riwayat")
    fine = IncomingMessage("wamid.fine", ALICE, ".saldo")
    assert await shop.pipeline.accept(broken) and await shop.pipeline.accept(fine)  # ... then the worker died
    run = Commands.run

    async def fails_for_bob(self: Commands, cmd: object, ctx: object) -> object:
        if getattr(ctx, "user_id", None) == BOB:
            raise RuntimeError("a bug in one command")
        return await run(self, cmd, ctx)  # type: ignore[arg-type]

    Commands.run = fails_for_bob  # type: ignore[method-assign, assignment]
    try:
        shop.clock.advance(minutes=3)
        await shop.pipeline.recover()
    finally:
        Commands.run = run  # type: ignore[method-assign]
    assert shop.inbox(ALICE) == ["Saldo kamu: *Rp 100.000*"]


async def test_a_purchase_rerun_after_midnight_finds_the_first_runs_order(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.memory.repositories import MemoryOutboxRepository

    queue_and_finish = MemoryOutboxRepository.add

    async def dies_before_finishing(self: MemoryOutboxRepository, *args: object, **kwargs: object) -> int:
        raise StorageUnavailable("the process died here")  # before the reply is queued and the message finished

    shop.clock.advance(hours=13, minutes=59)  # 23:59 in Jakarta
    monkeypatch.setattr(MemoryOutboxRepository, "add", dies_before_finishing)
    assert await shop.say(ALICE, ".buy VC", message_id="wamid.midnight") == PENDING
    assert await shop.balance(ALICE) == 90_000  # the purchase itself had committed
    monkeypatch.setattr(MemoryOutboxRepository, "add", queue_and_finish)
    shop.clock.advance(minutes=3)  # the lease ran out; it is the next day in Jakarta now
    assert await shop.pipeline.recover() == 1
    assert await shop.balance(ALICE) == 90_000 and await shop.stock("VC") == 19


async def test_a_saldo_purchase_drops_its_caches_with_the_locks_release_before_the_reply_goes(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """One coordination step after the purchase: lock released, balance and product caches
    dropped; the customer who reads the reply and asks again never sees the old saldo."""
    cache = shop.adapters.coordination().cache
    assert await shop.say(ALICE, ".saldo") == "Saldo kamu: *Rp 100.000*"  # now cached
    assert await cache.get(balance_key(ALICE)) == "100000"
    finished: list[tuple[object, list[str]]] = []
    deleted: list[tuple[str, ...]] = []
    finish, delete = ComposedGatekeeper.finish, MemoryCache.delete

    async def finishing(self: ComposedGatekeeper, lock: Lock | None, forget: Sequence[str] = ()) -> bool:
        finished.append((lock, list(forget)))
        return await finish(self, lock, forget)

    async def deleting(self: MemoryCache, *keys: str) -> None:
        deleted.append(keys)
        await delete(self, *keys)

    cached_when_sent: list[str | None] = []
    send = shop.messenger.send

    async def sending(to: str, reply: Reply) -> str | None:
        cached_when_sent.append(await cache.get(balance_key(ALICE)))
        return await send(to, reply)

    monkeypatch.setattr(ComposedGatekeeper, "finish", finishing)
    monkeypatch.setattr(MemoryCache, "delete", deleting)
    monkeypatch.setattr(shop.messenger, "send", sending)
    assert "Pembelian berhasil" in await shop.say(ALICE, ".buy VC")
    assert len(finished) == 1 and deleted == [(*finished[0][1],)]  # one step; no delete of its own
    lock, forget = finished[0]
    assert lock is not None and set(forget) == {PRODUCT_LIST_KEY, product_key("VC"), balance_key(ALICE)}
    assert cached_when_sent == [None]
    assert await shop.say(ALICE, ".saldo") == "Saldo kamu: *Rp 90.000*"


async def test_outside_the_chat_a_purchase_drops_its_caches_at_once(shop: Shop) -> None:
    """The deferral is the chat pipeline's: a use case called elsewhere forgets right away."""
    cache = shop.adapters.coordination().cache
    await shop.say(ALICE, ".saldo")
    assert await cache.get(balance_key(ALICE)) == "100000"
    await shop.uc.buy(BuyCommand(ALICE, "VC", 1, request_id="api-1"))
    assert await cache.get(balance_key(ALICE)) is None
