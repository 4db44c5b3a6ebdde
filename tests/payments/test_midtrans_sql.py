"""Exactly once on a real database: two Tokowa instances (as `build_application` wires them with
MIDTRANS_SERVER_KEY set) share one SQLite or PostgreSQL database and the fake Midtrans."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from adapters.clock import ManualClock
from adapters.payments.midtrans import MidtransPaymentGateway
from application.chat.pipeline import IncomingMessage
from domain.order import OrderStatus
from entrypoints.bootstrap import build_application
from entrypoints.container import Application
from entrypoints.web.app import create_app
from entrypoints.web.midtrans import receive_notification
from tests.fixtures.storage import truncate_all
from tests.payments.conftest import SAMPLES, SERVER_KEY, FakeMidtrans
from tests.support.shop import ADMIN, BOB, settings


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
        return
    url: str = request.getfixturevalue("pg_url")
    await truncate_all(url)
    yield url
    await truncate_all(url)


@pytest.fixture
async def instances(database_url: str, secret_key: str, fake_midtrans: FakeMidtrans) -> list[Application]:
    config = settings(DATABASE_URL=database_url, TOKOWA_SECRET_KEY=secret_key, TOKOWA_SERVER_JOBS="false",
                      MIDTRANS_SERVER_KEY=SERVER_KEY, MIDTRANS_SNAP_URL=f"{fake_midtrans.url}/snap/v1",
                      MIDTRANS_API_URL=fake_midtrans.url)
    clock = ManualClock(datetime.now(UTC))
    apps = [build_application(config), build_application(config)]
    for app in apps:
        app.adapters.clock.override(providers.Object(clock))
    return apps


async def say(app: Application, user: str, text: str) -> str:
    replies = await app.pipeline().handle(IncomingMessage(f"m-{uuid.uuid4().hex}", user, text))
    return "\n".join(r.text for r in replies)


def told(apps: list[Application], user: str, fragment: str) -> int:
    return sum(fragment in m.reply.text for app in apps for m in app.adapters.messenger().sent_to(user))


async def test_midtrans_key_wires_the_midtrans_adapter_and_its_key(instances: list[Application]) -> None:
    assert isinstance(instances[0].adapters.gateway(), MidtransPaymentGateway)
    notification = instances[0].adapters.payment_verifier().verify((SAMPLES / "settlement.json").read_bytes())
    assert notification.order_id == "INV-20261128-A1B2C3"
    for app in instances:
        await app.adapters.storage().aclose()


async def test_a_paid_top_up_credits_once_across_instances(instances: list[Application],
                                                           fake_midtrans: FakeMidtrans) -> None:
    first, second = instances
    assert "redirection" in await say(first, BOB, ".deposit 50000")
    async with first.adapters.unit_of_work() as uow:
        order = await uow.orders.pending_of(BOB)
    assert order is not None
    fake_midtrans.pay(order.id, amount="50000.00")
    body = fake_midtrans.notification(order.id)

    # The webhook's own code path (verify + handle); the HTTP layer is covered on the memory wiring,
    # and Litestar's test client runs the app on another event loop than the database pools'.
    answers = await asyncio.gather(*(
        receive_notification(body, app.adapters.payment_verifier(), app.handle_notification())
        for app in (first, second, first, second)))
    assert [r.status_code for r in answers] == [200] * 4
    async with first.adapters.unit_of_work() as uow:
        wallet = await uow.wallets.get(BOB)
        ledger = await uow.wallets.ledger(BOB)
        paid = await uow.orders.get(order.id)
    for app in instances:
        await app.adapters.storage().aclose()
    assert wallet.balance.value == 50_000 and [e.reference for e in ledger] == [order.id]
    assert paid is not None and paid.status is OrderStatus.PAID
    assert told(instances, BOB, "Saldo bertambah") == 1


async def test_two_schedulers_reconcile_a_forgotten_payment_once(instances: list[Application],
                                                                 fake_midtrans: FakeMidtrans) -> None:
    first, second = instances
    await say(first, ADMIN, ".addproduk NF1|Netflix|35000|0")
    await say(first, ADMIN, ".addstok NF1\nuser1@mail.test|pw1\nuser2@mail.test|pw2")
    assert "redirection" in await say(first, BOB, ".buy NF1")
    async with first.adapters.unit_of_work() as uow:
        order = await uow.orders.pending_of(BOB)
    assert order is not None
    fake_midtrans.pay(order.id)  # paid, but the notification never came
    first.adapters.clock().advance(minutes=21)

    await asyncio.gather(first.use_cases().expire_stale(), second.use_cases().expire_stale())

    async with first.adapters.unit_of_work() as uow:
        paid = await uow.orders.get(order.id)
        product = await uow.products.get("NF1")
    assert paid is not None and paid.status is OrderStatus.PAID
    assert product is not None and product.stock == 1
    assert told(instances, BOB, "user1@mail.test|pw1") == 1
    for app in instances:
        await app.adapters.storage().aclose()


async def test_simulator_pay_page_takes_the_webhook_path(tmp_path: Any) -> None:
    """Demo mode without a Midtrans key: the pay page's notification is signed with the
    simulator key, verified and confirmed like Midtrans'; a forged one is refused."""
    config = settings(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/tokowa.db", TOKOWA_SERVER_JOBS="false")
    from entrypoints.bootstrap import prepare_database

    await prepare_database(config)
    app = build_application(config)
    async with AsyncTestClient(create_app(config, app)) as client:
        await say(app, ADMIN, ".addproduk VC|Voucher|10000|5")
        assert "/pay/INV-" in await say(app, BOB, ".buy VC link")
        async with app.adapters.unit_of_work() as uow:
            order = await uow.orders.pending_of(BOB)
        assert order is not None
        answer = await client.post(f"/pay/{order.id}", data={"action": "pay"})
        assert answer.status_code == 200 and answer.json()["outcome"] == "changed"
        forged = app.adapters.gateway().notification(order.id).replace(b'"signature_key":"', b'"signature_key":"0')
        assert (await client.post("/webhooks/midtrans", content=forged)).status_code == 401
        replayed = app.adapters.gateway().notification(order.id)
        assert (await client.post("/webhooks/midtrans", content=replayed)).status_code == 200
        async with app.adapters.unit_of_work() as uow:
            paid = await uow.orders.get(order.id)
    assert paid is not None and paid.status is OrderStatus.PAID
    assert any("paysim" in path.name for path in tmp_path.iterdir())  # the simulator key, beside the database
    assert told([app], BOB, "Pesanan") == 1
