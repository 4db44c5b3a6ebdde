"""An in-memory shop with a few products, a customer with saldo and a paid order, served by
the real app (Litestar test client), with the admin token set."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from application.use_cases.catalog_admin import AddProductCommand
from application.use_cases.shopping import BuyCommand, MethodChoice
from application.use_cases.wallet import AdjustBalanceCommand
from entrypoints.web.app import create_app
from tests.support.shop import ALICE, Shop, settings

TOKEN = "test-admin-token-1234"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def seed(shop: Shop) -> str:
    """NF1: an item product with 3 items; VC: 20 counted; Alice: 100.000 saldo, then buys 2 VC."""
    uc = shop.uc
    await uc.add_product(AddProductCommand("NF1", "Netflix 1 Bulan", 35000, 0, "Akun premium"))
    await uc.add_stock_items("NF1", ["user1@mail.test|pw1", "user2@mail.test|pw2", "user3@mail.test|pw3"])
    await uc.add_product(AddProductCommand("VC", "Voucher 10rb", 10000, 20))
    await uc.adjust_balance(AdjustBalanceCommand(ALICE, 100_000, credit=True, idempotency_key="seed"))
    purchase = await uc.buy(BuyCommand(ALICE, "VC", 2, MethodChoice.SALDO))
    return purchase.order.id


@pytest.fixture
async def ops_shop() -> Shop:
    shop = Shop(config=settings(TOKOWA_ADMIN_TOKEN=TOKEN, TOKOWA_SERVER_JOBS="false"))
    shop.paid_order_id = await seed(shop)  # type: ignore[attr-defined]
    return shop


@pytest.fixture
async def client(ops_shop: Shop) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    app = create_app(settings(TOKOWA_ADMIN_TOKEN=TOKEN, TOKOWA_SERVER_JOBS="false"), ops_shop.app)
    async with AsyncTestClient(app) as test_client:
        yield test_client
