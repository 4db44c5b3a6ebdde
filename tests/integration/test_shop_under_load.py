"""Whole-shop proofs on the production wiring: concurrent customers through the pipeline,
with Redis up, with Redis dead, and the product cache sparing the database."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from domain.order import OrderStatus
from tests.fixtures.storage import truncate_all
from tests.support.shop import ADMIN, Shop
from tests.support.wiring import close, production_adapters

REDIS_URL = "redis://127.0.0.1:6379/0"
DEAD_REDIS = "redis://127.0.0.1:1/0"
CUSTOMERS = [f"62812{n:08d}" for n in range(50)]


@pytest.fixture(params=["redis", "dead-redis"])
async def pg_shop(request: pytest.FixtureRequest, pg_url: str) -> AsyncIterator[Shop]:
    await truncate_all(pg_url)
    prefix = f"tokowa-test:{secrets.token_hex(4)}:"
    adapters = production_adapters(pg_url, REDIS_URL if request.param == "redis" else DEAD_REDIS, prefix)
    shop = Shop(adapters)
    try:
        yield shop
    finally:
        await close(adapters)
        client: Any = aioredis.from_url(REDIS_URL)
        keys = [k async for k in client.scan_iter(f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_fifty_customers_racing_for_five_items_through_the_pipeline(pg_shop: Shop) -> None:
    shop = pg_shop
    await shop.say(ADMIN, ".addproduk NF1|Netflix|35000|0")
    await shop.say(ADMIN, ".addstok NF1\n" + "\n".join(f"acc{n}|pw{n}" for n in range(5)))
    for user in CUSTOMERS:
        await shop.say(ADMIN, f".addsaldo {user} 35000")
    replies = await asyncio.gather(*(shop.say(user, ".buy NF1 1 saldo") for user in CUSTOMERS))
    winners = [r for r in replies if "Pembelian berhasil" in r]
    assert len(winners) == 5
    assert all("tidak cukup" in r for r in replies if r not in winners)
    assert await shop.stock("NF1") == 0
    delivered = sorted(line for r in winners for line in r.splitlines() if line.startswith("1. acc"))
    assert delivered == [f"1. acc{n}|pw{n}" for n in range(5)]  # each item to exactly one order
    balances = [await shop.balance(user) for user in CUSTOMERS]
    assert balances.count(0) == 5 and balances.count(35_000) == 45


async def test_one_customer_double_tapping_link_orders_gets_one_pending(pg_shop: Shop) -> None:
    shop = pg_shop
    await shop.say(ADMIN, ".addproduk VC|Voucher|10000|50")
    user = CUSTOMERS[0]
    replies = await asyncio.gather(*(shop.say(user, ".buy VC 1 link") for _ in range(3)))
    assert sum("/pay/INV-" in r for r in replies) == 1
    async with shop.adapters.unit_of_work() as uow:
        pending = await uow.orders.recent(OrderStatus.PENDING)
    assert len(pending) == 1 and await shop.stock("VC") == 49


async def test_twenty_concurrent_spends_from_a_wallet_that_affords_seven(pg_shop: Shop) -> None:
    shop = pg_shop
    await shop.say(ADMIN, ".addproduk VC|Voucher|10000|100")
    user = CUSTOMERS[1]
    await shop.say(ADMIN, f".addsaldo {user} 70000")
    await shop.say(ADMIN, ".setting buy_rate_limit_per_minute 100")
    # Different message ids, no lock help: each spend is its own unit of work.
    uc = shop.uc
    from application.use_cases.shopping import BuyCommand, MethodChoice

    results = await asyncio.gather(
        *(uc.buy(BuyCommand(user, "VC", 1, MethodChoice.SALDO, confirmed=True)) for _ in range(20)), return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 7
    assert await shop.balance(user) == 0
    async with shop.adapters.unit_of_work() as uow:
        assert (await uow.wallets.ledger_sum(user)).value == 0


async def test_a_double_tap_decided_by_the_wallet_lock_buys_once(pg_shop: Shop) -> None:
    # Five different messages for the same product and quantity at once, no Redis lock in the way:
    # the wallet row locked with the first read makes each purchase see the one before it.
    shop = pg_shop
    await shop.say(ADMIN, ".addproduk VC|Voucher|10000|100")
    user = CUSTOMERS[2]
    await shop.say(ADMIN, f".addsaldo {user} 100000")
    from application.use_cases.shopping import BuyCommand, MethodChoice
    from domain.errors import RepeatPurchase

    results = await asyncio.gather(
        *(shop.uc.buy(BuyCommand(user, "VC", 1, MethodChoice.SALDO, request_id=f"wamid.TAP{n}")) for n in range(5)),
        return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert sum(isinstance(r, RepeatPurchase) for r in results) == 4
    assert await shop.balance(user) == 90_000 and await shop.stock("VC") == 99


@pytest.fixture
def product_list_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the database reads of the active product list."""
    from adapters.storage.products import SqlAlchemyProductRepository

    reads: list[int] = []
    original = SqlAlchemyProductRepository.list_active

    async def counting(self: SqlAlchemyProductRepository) -> Any:
        reads.append(1)
        return await original(self)

    monkeypatch.setattr(SqlAlchemyProductRepository, "list_active", counting)
    return reads


async def test_browse_traffic_on_redis_reads_the_product_list_once(pg_url: str, product_list_reads: list[int]) -> None:
    await truncate_all(pg_url)
    prefix = f"tokowa-test:{secrets.token_hex(4)}:"
    adapters = production_adapters(pg_url, REDIS_URL, prefix)
    shop = Shop(adapters)
    try:
        await shop.say(ADMIN, ".addproduk VC|Voucher|10000|100")
        replies = await asyncio.gather(*(shop.say(user, ".produk") for user in CUSTOMERS[:10]))
        replies += [await shop.say(user, ".produk") for user in CUSTOMERS[10:]]
        assert all("*VC* — Voucher" in r for r in replies)
        assert len(product_list_reads) <= 10  # only the first concurrent wave can miss
        before = len(product_list_reads)
        for user in CUSTOMERS:
            await shop.say(user, ".list")
        assert len(product_list_reads) == before
        assert adapters.coordination().stats.cache_hits >= 2 * len(CUSTOMERS) - 10
    finally:
        await close(adapters)
        client: Any = aioredis.from_url(REDIS_URL)
        keys = [k async for k in client.scan_iter(f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_product_list_is_read_again_after_five_minutes_and_after_a_change(
        sqlite_url: str, product_list_reads: list[int]) -> None:
    adapters = production_adapters(sqlite_url)
    shop = Shop(adapters)  # in-process cache on the shop's manual clock
    try:
        await shop.say(ADMIN, ".addproduk VC|Voucher|10000|100")
        for user in CUSTOMERS:
            await shop.say(user, ".produk")
        assert len(product_list_reads) == 1
        shop.clock.advance(minutes=5, seconds=1)
        for user in CUSTOMERS:
            await shop.say(user, ".produk")
        assert len(product_list_reads) == 2
        await shop.say(ADMIN, ".setharga VC 12000")
        assert "Rp 12.000" in await shop.say(CUSTOMERS[0], ".produk")
        assert len(product_list_reads) == 3
    finally:
        await close(adapters)
