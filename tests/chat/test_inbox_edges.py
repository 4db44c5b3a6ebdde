"""Messages at the edges: ones that keep failing (dead letters), ones that arrive late, ones that
take longer than their lease, and admin edits run twice. On the in-memory and SQLite wirings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from adapters.memory.repositories import MemoryOutboxRepository
from adapters.storage.records import SqlAlchemyOutboxRepository
from application.chat.commands import Commands
from application.chat.parser import ParsedCommand
from application.errors import StorageUnavailable
from application.outbox import OutboxSender
from application.ports import IncomingMessage
from application.replies import Reply
from tests.support.shop import ADMIN, ALICE, BOB, Shop, settings
from tests.support.wiring import close, production_adapters

PENDING = ("Sistem sedang gangguan. Pesan kamu sudah kami terima dan akan diproses otomatis begitu sistem pulih, "
           "tidak perlu dikirim ulang.")
TOO_LATE = ("Perintah ini baru sampai ke kami lebih dari 10 menit setelah kamu kirim, jadi tidak kami jalankan "
            "demi keamanan saldo kamu. Silakan kirim ulang perintahnya.")
APOLOGY = ("Maaf, pesan kamu tidak berhasil kami proses dan admin sudah kami beri tahu. "
           "Silakan coba lagi nanti, atau hubungi admin toko.")


@pytest.fixture(params=["memory", "sqlite"])
async def any_shop(request: pytest.FixtureRequest) -> AsyncIterator[Shop]:
    """A stocked shop on the in-memory wiring or on SQLite (the production wiring)."""
    if request.param == "memory":
        shop = Shop()
    else:
        shop = Shop(production_adapters(request.getfixturevalue("sqlite_url")))
    await shop.stock_products()
    try:
        yield shop
    finally:
        if request.param != "memory":
            await close(shop.adapters)


class Beats:
    """The heartbeat's sleep, run by the test: each sleep waits until the test lets it end."""

    def __init__(self) -> None:
        self.sleeping: asyncio.Queue[asyncio.Event] = asyncio.Queue()

    async def __call__(self, delay: float) -> None:
        wake = asyncio.Event()
        await self.sleeping.put(wake)
        await wake.wait()

    async def beat_once(self) -> None:
        """Let one sleeping heartbeat renew its lease, and wait until it has (it sleeps again)."""
        (await self.sleeping.get()).set()
        await self.sleeping.get()


def runs_failing_for(user: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every command of `user` raises (a bug); returns the list of their runs."""
    runs: list[str] = []
    run = Commands.run

    async def failing(self: Commands, cmd: ParsedCommand, ctx: Any) -> Reply:
        if ctx.user_id == user:
            runs.append(ctx.message_id)
            raise RuntimeError("a bug in one command")
        return await run(self, cmd, ctx)

    monkeypatch.setattr(Commands, "run", failing)
    return runs


async def first_run_fails(shop: Shop, message: IncomingMessage) -> None:
    assert await shop.pipeline.accept(message)
    with pytest.raises(RuntimeError):
        await shop.pipeline.process(message)


# --- dead letters -----------------------------------------------------------------------------


async def test_a_message_that_keeps_failing_is_given_up_after_five_runs(
        any_shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = any_shop
    runs = runs_failing_for(BOB, monkeypatch)
    poison = IncomingMessage("wamid.poison", BOB, ".riwayat")
    await first_run_fails(shop, poison)
    for _ in range(4):
        shop.clock.advance(minutes=3)  # the lease runs out; another run
        assert await shop.pipeline.recover() == 1
    assert runs == ["wamid.poison"] * 5 and shop.inbox(BOB) == [] and shop.inbox(ADMIN)[-1].startswith("Saldo")
    shop.clock.advance(minutes=3)
    assert await shop.pipeline.recover() == 1  # claimed once more, but not run: given up
    assert len(runs) == 5
    assert shop.inbox(BOB) == [APOLOGY]
    alerts = [t for t in shop.inbox(ADMIN) if "wamid.poison" in t]
    assert alerts == [f'🚨 Pesan wamid.poison dari {BOB} gagal diproses 5 kali dan dihentikan: ".riwayat". '
                      "Pelanggan sudah diberi tahu; lihat daftar di /api/v1/dead-letters.\nTandai selesai: .ok 1"]
    async with shop.adapters.unit_of_work() as uow:
        dead = await uow.inbox.dead_letters()
    assert [(d.message_id, d.sender, d.text, d.attempts) for d in dead] == [("wamid.poison", BOB, ".riwayat", 5)]
    shop.clock.advance(hours=1)
    assert await shop.pipeline.recover() == 0  # kept, but never again
    assert shop.inbox(BOB) == [APOLOGY] and len([t for t in shop.inbox(ADMIN) if "wamid.poison" in t]) == 1


async def test_how_many_runs_a_message_gets_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    shop = Shop(config=settings(TOKOWA_MAX_ATTEMPTS="2"))
    runs = runs_failing_for(BOB, monkeypatch)
    await first_run_fails(shop, IncomingMessage("wamid.poison-2", BOB, ".saldo"))
    shop.clock.advance(minutes=3)
    await shop.pipeline.recover()
    shop.clock.advance(minutes=3)
    await shop.pipeline.recover()
    assert len(runs) == 2 and shop.inbox(BOB) == [APOLOGY]


async def test_one_customers_dead_letter_holds_up_neither_them_nor_others(
        any_shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = any_shop
    run = Commands.run

    async def fails_on_riwayat(self: Commands, cmd: ParsedCommand, ctx: Any) -> Reply:
        if cmd.name == "riwayat":
            raise RuntimeError("a bug in .riwayat")
        return await run(self, cmd, ctx)

    monkeypatch.setattr(Commands, "run", fails_on_riwayat)
    await first_run_fails(shop, IncomingMessage("wamid.bad", ALICE, ".riwayat"))
    assert await shop.say(ALICE, ".saldo") == "Saldo kamu: *Rp 100.000*"  # the same sender, right after
    assert await shop.say(BOB, ".saldo") == "Saldo kamu: *Rp 0*"
    for _ in range(5):
        shop.clock.advance(minutes=3)
        await shop.pipeline.recover()
    assert shop.inbox(ALICE)[-1] == APOLOGY
    assert "Pembelian berhasil" in await shop.say(ALICE, ".buy VC")


# --- late messages ----------------------------------------------------------------------------


def sent(shop: Shop, minutes_ago: float, user: str, text: str, message_id: str | None = None) -> IncomingMessage:
    return IncomingMessage(message_id or f"wamid.late-{user}-{text}-{minutes_ago}", user, text,
                           sent_at=shop.clock.now() - timedelta(minutes=minutes_ago))


async def reply_to(shop: Shop, message: IncomingMessage) -> str:
    return "\n".join(r.text for r in await shop.pipeline.handle(message))


async def test_money_commands_arriving_over_ten_minutes_late_are_not_run(any_shop: Shop) -> None:
    shop = any_shop
    assert await reply_to(shop, sent(shop, 11, ALICE, ".buy VC")) == TOO_LATE
    assert await reply_to(shop, sent(shop, 11, BOB, ".deposit 50rb")) == TOO_LATE
    assert await reply_to(shop, sent(shop, 11, ADMIN, f".addsaldo {BOB} 50rb")) == TOO_LATE
    assert await reply_to(shop, sent(shop, 11, ADMIN, f".kurangsaldo {ALICE} 10rb")) == TOO_LATE
    assert await shop.balance(ALICE) == 100_000 and await shop.balance(BOB) == 0 and await shop.stock("VC") == 20
    assert await shop.last_order_of(BOB) is None
    # Reads are answered as usual; sent again (now), the purchase goes through.
    assert await reply_to(shop, sent(shop, 30, ALICE, ".saldo")) == "Saldo kamu: *Rp 100.000*"
    assert "Pembelian berhasil" in await shop.say(ALICE, ".buy VC")
    assert "Pembelian berhasil" in await reply_to(shop, sent(shop, 9, ALICE, ".buy VC 2"))  # another quantity: no double-tap question
    assert await shop.balance(ALICE) == 70_000


async def first_run_commits_then_the_database_goes(shop: Shop, message: IncomingMessage,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The message's effect commits, then queueing its reply fails: it stays unfinished."""
    repository: Any = MemoryOutboxRepository if "store" in shop.adapters.providers else SqlAlchemyOutboxRepository
    queue = repository.add

    async def database_gone(self: Any, *args: Any, **kwargs: Any) -> int:
        raise StorageUnavailable("connection lost")

    monkeypatch.setattr(repository, "add", database_gone)
    assert await reply_to(shop, message) == PENDING
    monkeypatch.setattr(repository, "add", queue)


async def test_a_late_rerun_of_a_purchase_that_went_through_tells_the_real_outcome(
        any_shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = any_shop
    await first_run_commits_then_the_database_goes(shop, sent(shop, 1, ALICE, ".buy VC", "wamid.buy-late"), monkeypatch)
    assert await shop.balance(ALICE) == 90_000
    shop.clock.advance(minutes=12)  # the re-run comes 13 minutes after Ani sent it
    assert await shop.pipeline.recover() == 1
    assert "Pembelian berhasil" in shop.inbox(ALICE)[-1]
    assert await shop.balance(ALICE) == 90_000 and await shop.stock("VC") == 19


async def test_a_late_rerun_of_a_balance_change_that_went_through_tells_the_real_outcome(
        any_shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = any_shop
    message = sent(shop, 2, ADMIN, f".addsaldo {BOB} 25rb", "wamid.addsaldo-late")
    await first_run_commits_then_the_database_goes(shop, message, monkeypatch)
    shop.clock.advance(minutes=15)
    assert await shop.pipeline.recover() == 1
    assert shop.inbox(ADMIN)[-1].startswith("Saldo") and "Rp 25.000" in shop.inbox(ADMIN)[-1]
    assert await shop.balance(BOB) == 25_000


async def test_a_late_rerun_of_a_top_up_that_went_through_sends_its_link(
        any_shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = any_shop
    await first_run_commits_then_the_database_goes(shop, sent(shop, 0, BOB, ".deposit 50rb", "wamid.dep"), monkeypatch)
    order = await shop.last_order_of(BOB)
    shop.clock.advance(minutes=11)
    assert await shop.pipeline.recover() == 1
    assert f"http://shop.test/pay/{order.id}" in shop.inbox(BOB)[-1]
    async with shop.adapters.unit_of_work() as uow:
        assert len(await uow.orders.recent_of(BOB)) == 1


# --- leases held while work runs --------------------------------------------------------------


async def test_a_message_still_running_is_not_taken_up_by_another_worker(
        any_shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = any_shop
    beats = Beats()
    shop.app.pipeline.add_kwargs(sleep=beats)
    shop.app.pipeline.reset()
    pipeline = shop.app.pipeline()
    started, release = asyncio.Event(), asyncio.Event()
    run = Commands.run

    async def slow(self: Commands, cmd: ParsedCommand, ctx: Any) -> Reply:
        if cmd.name == "addstok" and not started.is_set():  # the first run is slow
            started.set()
            await release.wait()  # e.g. a reply send retried for minutes, a slow provider
        return await run(self, cmd, ctx)

    monkeypatch.setattr(Commands, "run", slow)
    message = IncomingMessage("wamid.slow-addstok", ADMIN, ".addstok VC 50")
    assert await pipeline.accept(message)
    task = asyncio.create_task(pipeline.process(message))
    await started.wait()
    shop.clock.advance(minutes=3)  # longer than the 2-minute lease the message was accepted with
    await beats.beat_once()
    assert await pipeline.recover() == 0  # the lease was renewed: nobody runs it a second time
    release.set()
    assert [r.text for r in await task] == ["Stok VC sekarang 70."]
    shop.clock.advance(minutes=3)
    assert await pipeline.recover() == 0
    assert await shop.stock("VC") == 70
    assert [t for t in shop.inbox(ADMIN) if t.startswith("Stok VC")] == ["Stok VC sekarang 70."]


class SlowMessenger:
    def __init__(self) -> None:
        self.started, self.release = asyncio.Event(), asyncio.Event()
        self.sent: list[tuple[str, str]] = []

    async def send(self, to: str, reply: Reply) -> None:
        if not self.started.is_set():  # the first send is slow
            self.started.set()
            await self.release.wait()  # the transport retrying with backoff
        self.sent.append((to, reply.text))


async def test_a_reply_being_sent_is_not_sent_again_by_another_worker(any_shop: Shop) -> None:
    shop = any_shop
    beats, messenger = Beats(), SlowMessenger()
    outbox = OutboxSender(shop.adapters.unit_of_work, messenger, shop.clock, lease=timedelta(seconds=60), sleep=beats)
    async with shop.adapters.unit_of_work() as uow:
        queued = [await outbox.queue(uow, ALICE, Reply("Pesanan kamu sedang dikirim"))]
        await uow.commit()
    task = asyncio.create_task(outbox.deliver(queued))
    await messenger.started.wait()
    shop.clock.advance(minutes=2)  # past the outbox lease
    await beats.beat_once()
    assert await outbox.drain() == 0  # still leased to the send in progress
    messenger.release.set()
    await task
    shop.clock.advance(minutes=5)
    assert await outbox.drain() == 0
    assert messenger.sent == [(ALICE, "Pesanan kamu sedang dikirim")]


# --- admin edits run twice --------------------------------------------------------------------


@pytest.mark.parametrize(("command", "reply", "check"), [
    (".addstok VC 50", "Stok VC sekarang 70.", ("VC", 70)),
    (".setstok VC 5", "Stok VC sekarang 5.", ("VC", 5)),
    (".addstok NF1\nuser4@mail.test|pw4", "1 item ditambahkan ke NF1. Stok sekarang 4.", ("NF1", 4)),
    (".addproduk GP|Google Play 20rb|20000|7", "Produk GP ditambahkan: Google Play 20rb, Rp 20.000, stok 7.", ("GP", 7)),
])
async def test_an_admin_edit_rerun_applies_once_and_tells_the_current_state(
        any_shop: Shop, monkeypatch: pytest.MonkeyPatch, command: str, reply: str, check: tuple[str, int]) -> None:
    shop = any_shop
    await first_run_commits_then_the_database_goes(shop, IncomingMessage("wamid.edit", ADMIN, command), monkeypatch)
    code, stock = check
    assert await shop.stock(code) == stock  # the edit had committed
    shop.clock.advance(minutes=3)
    assert await shop.pipeline.recover() == 1
    assert shop.inbox(ADMIN)[-1] == reply
    assert await shop.stock(code) == stock


async def test_a_later_edit_is_not_undone_by_a_rerun_of_an_earlier_one(
        any_shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = any_shop
    await first_run_commits_then_the_database_goes(
        shop, IncomingMessage("wamid.price-1", ADMIN, ".setharga VC 12rb"), monkeypatch)
    assert "15.000" in await shop.say(ADMIN, ".setharga VC 15rb")
    await first_run_commits_then_the_database_goes(
        shop, IncomingMessage("wamid.setting-1", ADMIN, ".setting shop_name Toko Lama"), monkeypatch)
    await shop.say(ADMIN, ".setting shop_name Toko Baru")
    shop.clock.advance(minutes=3)
    assert await shop.pipeline.recover() == 2
    async with shop.adapters.unit_of_work() as uow:
        assert (await uow.products.get("VC")).price.value == 15_000  # type: ignore[union-attr]
        assert (await uow.settings.all())["shop_name"] == "Toko Baru"
