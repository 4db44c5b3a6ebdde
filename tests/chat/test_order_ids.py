"""Order ids: a re-run finds its order, also one named the short way of older releases; an id
drawn at random that is taken already is drawn again, and nothing of the purchase goes astray."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from adapters.memory.repositories import MemoryOutboxRepository
from application.errors import DuplicateOrderId, StorageUnavailable
from application.use_cases import shopping, wallet
from application.use_cases.shopping import BuyCommand, MethodChoice
from application.use_cases.wallet import DepositCommand
from domain.money import Rupiah
from domain.order import Order, new_order_id
from tests.support.shop import ALICE, BOB, Shop


async def test_a_rerun_after_an_upgrade_finds_the_order_its_first_run_named_the_short_way(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    queue_and_finish = MemoryOutboxRepository.add

    async def dies_before_finishing(self: MemoryOutboxRepository, *args: object, **kwargs: object) -> int:
        raise StorageUnavailable("the process died here")

    def short_id(now: datetime, request_id: str | None = None) -> str:
        return new_order_id(now, request_id)[:-6]  # INV-YYYYMMDD-XXXXXX, as releases before gave

    monkeypatch.setattr(shopping, "new_order_id", short_id)
    monkeypatch.setattr(MemoryOutboxRepository, "add", dies_before_finishing)
    assert "diproses otomatis" in await shop.say(ALICE, ".buy VC", message_id="wamid.upgrade")  # told it will be done
    first = await shop.last_order_of(ALICE)
    assert len(first.id) == len("INV-20250101-XXXXXX")
    monkeypatch.undo()  # the new release starts, with the long ids
    shop.clock.advance(minutes=3)  # the lease ran out
    assert await shop.pipeline.recover() == 1
    assert await shop.balance(ALICE) == 90_000 and await shop.stock("VC") == 19
    assert f"Order: {first.id}" in shop.inbox(ALICE)[-1]


@pytest.fixture
def first_draw_taken(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The next id drawn at random is the one put in the list (an order that exists already)."""
    taken: list[str] = []

    def draws(now: datetime, request_id: str | None = None) -> str:
        if taken and request_id is None:
            return taken.pop()
        return new_order_id(now, request_id)

    monkeypatch.setattr(shopping, "new_order_id", draws)
    monkeypatch.setattr(wallet, "new_order_id", draws)
    yield taken


async def test_a_saldo_purchase_whose_drawn_id_is_taken_draws_again(shop: Shop, first_draw_taken: list[str]) -> None:
    earlier = (await shop.uc.buy(BuyCommand(ALICE, "VC", 1, MethodChoice.SALDO))).order
    first_draw_taken.append(earlier.id)
    purchase = await shop.uc.buy(BuyCommand(ALICE, "VC", 2, MethodChoice.SALDO))
    assert purchase.order.id != earlier.id and purchase.order.id.startswith("INV-")
    assert await shop.order(purchase.order.id) == purchase.order
    assert (await shop.order(earlier.id)).qty == 1  # the first order is untouched
    assert await shop.balance(ALICE) == 70_000 and await shop.stock("VC") == 17
    async with shop.adapters.unit_of_work() as uow:
        references = [entry.reference for entry in await uow.wallets.ledger(ALICE)]
    assert references.count(purchase.order.id) == 1 and references.count(earlier.id) == 1


async def test_a_top_up_whose_drawn_id_is_taken_draws_again(shop: Shop, first_draw_taken: list[str]) -> None:
    earlier = (await shop.uc.buy(BuyCommand(ALICE, "VC", 1, MethodChoice.SALDO))).order
    first_draw_taken.append(earlier.id)
    topup = await shop.uc.deposit(DepositCommand(BOB, 50_000))
    assert topup.order.id != earlier.id and topup.link.url.endswith(f"/pay/{topup.order.id}")
    assert (await shop.order(topup.order.id)).user_id == BOB


async def test_an_id_derived_from_a_message_is_never_redrawn(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    earlier = (await shop.uc.buy(BuyCommand(ALICE, "VC", 1, MethodChoice.SALDO))).order
    monkeypatch.setattr(shopping, "new_order_id", lambda now, request_id=None: earlier.id)
    with pytest.raises(DuplicateOrderId):
        await shop.uc.buy(BuyCommand(BOB, "NF1", 1, MethodChoice.LINK, request_id="wamid.other"))
    assert await shop.stock("NF1") == 3 and await shop.last_order_of(BOB) is None


async def test_orders_kept_from_older_releases_answer_under_their_short_ids(shop: Shop) -> None:
    old = Order.topup("INV-20250101-K7PQ2M", BOB, Rupiah(50_000), shop.clock.now(), shop.clock.now())
    async with shop.adapters.unit_of_work() as uow:
        await uow.customers.ensure(BOB, shop.clock.now())
        await uow.orders.add(old)
        await uow.commit()
    assert "Order INV-20250101-K7PQ2M" in await shop.say(BOB, ".status inv-20250101-k7pq2m")
    assert await shop.say(BOB, ".batal INV-20250101-K7PQ2M") == "Order INV-20250101-K7PQ2M dibatalkan."
