"""Issue 17, item 3: finished messages, sent messages and payment notifications are pruned after
their retention period, by one instance per round; orders, ledger and stock items stay."""

from __future__ import annotations



from application.use_cases.retention import Pruned
from tests.data.conftest import full_flow, open_shop
from tests.support.shop import ALICE, Shop
from tests.support.wiring import TEST_SECRET_KEY, close, production_adapters


async def _counts(shop: Shop) -> tuple[int, int, int]:
    async with shop.adapters.unit_of_work() as uow:
        return (len(await uow.orders.recent(None, 100)), len(await uow.wallets.ledger(ALICE, 100)),
                sum((await uow.products.free_item_counts()).values()))


async def test_two_instances_prune_once_per_round_and_keep_the_books(database_url: str) -> None:
    shop = await open_shop(database_url, TEST_SECRET_KEY)
    other = Shop(production_adapters(database_url), clock=shop.clock)
    try:
        await full_flow(shop)
        books = await _counts(shop)
        assert await shop.app.prune()() == Pruned(0, 0, 0)  # nothing old yet; the round is taken
        assert await other.app.prune()() is None  # the other instance waits for the next round
        shop.clock.advance(days=15)
        await shop.say(ALICE, ".saldo")  # a fresh message, kept
        pruned = await other.app.prune()()
        assert pruned is not None and pruned.inbox >= 6 and pruned.outbox >= 6 and pruned.payment_events == 0
        assert await shop.app.prune()() is None
        assert await _counts(shop) == books
        async with shop.adapters.unit_of_work() as uow:
            assert [m.text for m in await uow.housekeeping.messages_of(ALICE)][0] == ".saldo"
        shop.clock.advance(days=400)
        pruned = await shop.app.prune()()
        assert pruned is not None and pruned.payment_events == 1
    finally:
        await close(shop.adapters)
        await close(other.adapters)


