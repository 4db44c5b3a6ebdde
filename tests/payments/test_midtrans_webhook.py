"""`POST /webhooks/midtrans` against the fake Midtrans: every sample status, repeats, reordering,
forgeries, mismatches, unknown orders and outages, on the in-memory shop."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from adapters.memory.storage import MemoryStore
from application.use_cases import shopping
from domain.order import OrderStatus, new_order_id
from tests.payments.conftest import SAMPLES, SERVER_KEY, FakeMidtrans
from tests.support.shop import ADMIN, BOB, Shop

SAMPLE_ORDER = "INV-20261128-A1B2C3"


async def post(client: AsyncTestClient[Any], body: bytes) -> int:
    response = await client.post("/webhooks/midtrans", content=body, headers={"Content-Type": "application/json"})
    return response.status_code


async def buy_by_link(shop: Shop, user: str = BOB, command: str = ".buy NF1") -> str:
    await shop.say(user, command)
    order = await shop.last_order_of(user)
    assert order is not None and order.status is OrderStatus.PENDING
    return str(order.id)


def stored_events(shop: Shop) -> dict[str, str]:
    store: MemoryStore = shop.adapters.store()
    return store.data.payment_events


@pytest.fixture
def sample_order_id(monkeypatch: pytest.MonkeyPatch) -> str:
    """The next order gets the samples' id (the shop's clock stands on 2026-11-28 in Jakarta)."""
    monkeypatch.setattr(shopping, "new_order_id", lambda now, *_: new_order_id(now).rsplit("-", 1)[0] + "-A1B2C3")
    return SAMPLE_ORDER


# name -> (order status after it, stock of NF1 after it, what BOB is told)
EXPECTED = {
    "settlement": (OrderStatus.PAID, 2, "user1@mail.test|pw1"),
    "pending": (OrderStatus.PENDING, 2, None),
    "capture_challenge": (OrderStatus.PENDING, 2, None),
    "deny": (OrderStatus.FAILED, 3, "gagal"),
    "expire": (OrderStatus.EXPIRED, 3, "kedaluwarsa"),
    "cancel": (OrderStatus.CANCELLED, 3, None),
    "refund": (OrderStatus.CANCELLED, 3, None),  # paid and given back before we heard: nothing is owed
    "chargeback": (OrderStatus.CANCELLED, 3, None),
    "capture_accept": (OrderStatus.PAID, 2, "user1@mail.test|pw1"),
    "partial_refund": (OrderStatus.PENDING, 2, None),  # part of a payment never seen: admins must look
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_every_sample_notification_byte_exact(name: str, shop: Shop, client: AsyncTestClient[Any],
                                                    fake_midtrans: FakeMidtrans, sample_order_id: str) -> None:
    assert await buy_by_link(shop) == sample_order_id
    before = len(shop.inbox(BOB))
    raw = (SAMPLES / f"{name}.json").read_bytes()
    sample = json.loads(raw)
    fake_midtrans.pay(sample_order_id, sample["transaction_status"], sample.get("fraud_status"))

    assert await post(client, raw) == 200

    status, stock, told = EXPECTED[name]
    assert (await shop.order(sample_order_id)).status is status
    assert await shop.stock("NF1") == stock
    news = shop.inbox(BOB)[before:]
    assert (told is None and news == []) or (told is not None and len(news) == 1 and told in news[0])
    assert list(stored_events(shop).values()) == [raw.decode()]


async def test_refund_after_settlement_refunds_and_tells_the_customer(
        shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans, sample_order_id: str) -> None:
    await buy_by_link(shop)
    fake_midtrans.pay(sample_order_id, "settlement")
    assert await post(client, (SAMPLES / "settlement.json").read_bytes()) == 200
    fake_midtrans.pay(sample_order_id, "refund")
    assert await post(client, (SAMPLES / "refund.json").read_bytes()) == 200
    assert (await shop.order(sample_order_id)).status is OrderStatus.REFUNDED
    assert "dikembalikan dananya" in shop.inbox(BOB)[-1]
    assert len(stored_events(shop)) == 2


async def test_repeated_notification_delivers_once(shop: Shop, client: AsyncTestClient[Any],
                                                   fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    fake_midtrans.pay(order_id)
    body = fake_midtrans.notification(order_id)
    assert [await post(client, body) for _ in range(3)] == [200, 200, 200]
    deliveries = [m for m in shop.inbox(BOB) if "user1@mail.test" in m]
    assert len(deliveries) == 1 and (await shop.order(order_id)).status is OrderStatus.PAID
    assert await shop.stock("NF1") == 2 and len(stored_events(shop)) == 1


async def test_settlement_before_the_pending_notification(shop: Shop, client: AsyncTestClient[Any],
                                                          fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    fake_midtrans.pay(order_id, "pending")
    pending = fake_midtrans.notification(order_id)
    fake_midtrans.pay(order_id, "settlement")
    assert await post(client, fake_midtrans.notification(order_id)) == 200
    told = len(shop.inbox(BOB))
    assert await post(client, pending) == 200  # arrives late: the status API says settlement
    assert (await shop.order(order_id)).status is OrderStatus.PAID
    assert len(shop.inbox(BOB)) == told and len(stored_events(shop)) == 2


async def test_pending_then_settlement(shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    fake_midtrans.pay(order_id, "pending")
    assert await post(client, fake_midtrans.notification(order_id)) == 200
    assert (await shop.order(order_id)).status is OrderStatus.PENDING
    fake_midtrans.pay(order_id, "settlement")
    assert await post(client, fake_midtrans.notification(order_id)) == 200
    assert (await shop.order(order_id)).status is OrderStatus.PAID
    assert "user1@mail.test|pw1" in shop.inbox(BOB)[-1]


async def test_the_body_status_is_not_trusted(shop: Shop, client: AsyncTestClient[Any],
                                              fake_midtrans: FakeMidtrans) -> None:
    """settlement and cancel share one signature: a replayed body with another status acts on
    what Midtrans really says."""
    order_id = await buy_by_link(shop)
    fake_midtrans.pay(order_id, "cancel")
    body = fake_midtrans.notification(order_id, transaction_status="settlement")
    assert await post(client, body) == 200
    assert (await shop.order(order_id)).status is OrderStatus.CANCELLED
    assert not any("user1@mail.test" in m for m in shop.inbox(BOB))


@pytest.mark.parametrize("forge", ["wrong key", "tampered amount", "tampered order", "no hex"])
async def test_forged_signature_is_refused_and_changes_nothing(forge: str, shop: Shop, client: AsyncTestClient[Any],
                                                               fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    fake_midtrans.pay(order_id)
    body = json.loads(fake_midtrans.notification(order_id))
    if forge == "wrong key":
        body = json.loads(fake_midtrans.notification(order_id, key="SB-Mid-server-someone-else"))
    elif forge == "tampered amount":
        body["gross_amount"] = "1000.00"
    elif forge == "tampered order":
        body["order_id"] = "INV-20261128-ZZZZZZ"
    else:
        body["signature_key"] = "ünïcode"
    assert await post(client, json.dumps(body).encode()) == 401
    assert (await shop.order(order_id)).status is OrderStatus.PENDING
    assert stored_events(shop) == {} and await shop.stock("NF1") == 2


@pytest.mark.parametrize("body", [
    b"", b"not json", b"[1, 2]", b'{"order_id": "X"}', b'{"order_id": 1, "status_code": "200"}',
    b"[" * 100_000, b'{"order_id": "' + b"A" * 200_000 + b'"}',
])
async def test_malformed_or_huge_bodies_get_400(body: bytes, client: AsyncTestClient[Any], shop: Shop) -> None:
    assert await post(client, body) == 400
    assert stored_events(shop) == {}


async def test_amount_mismatch_credits_what_came_releases_the_stock_and_alerts_admins_once(
        shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    fake_midtrans.pay(order_id, amount="30000.00")
    assert await post(client, fake_midtrans.notification(order_id)) == 200
    assert (await shop.order(order_id)).status is OrderStatus.FAILED
    assert await shop.stock("NF1") == 3 and await shop.balance(BOB) == 30_000
    assert not any("user1@mail.test" in m for m in shop.inbox(BOB))
    assert "Rp 30.000" in shop.inbox(BOB)[-1]
    assert "Rp 30.000" in shop.inbox(ADMIN)[-1] and order_id in shop.inbox(ADMIN)[-1]
    alerts = len(shop.inbox(ADMIN))
    assert await post(client, fake_midtrans.notification(order_id)) == 200  # Midtrans redelivers
    shop.clock.advance(minutes=30)
    await shop.uc.expire_stale()
    assert await shop.balance(BOB) == 30_000  # credited once
    assert len(shop.inbox(ADMIN)) == alerts  # admins were told once


async def test_unknown_order_gets_200_and_an_admin_alert(shop: Shop, client: AsyncTestClient[Any],
                                                         fake_midtrans: FakeMidtrans) -> None:
    fake_midtrans.pay("INV-20261128-ZZZZZZ")
    assert await post(client, fake_midtrans.notification("INV-20261128-ZZZZZZ")) == 200
    assert "INV-20261128-ZZZZZZ" in shop.inbox(ADMIN)[-1]
    assert len(stored_events(shop)) == 1


async def test_order_unknown_to_midtrans_too_gets_200(shop: Shop, client: AsyncTestClient[Any],
                                                      fake_midtrans: FakeMidtrans) -> None:
    fake_midtrans.pay("SOMEONE-ELSE-1")
    body = fake_midtrans.notification("SOMEONE-ELSE-1")
    fake_midtrans.transactions.clear()
    assert await post(client, body) == 200


async def test_status_api_down_gives_503_keeps_the_notification_and_a_retry_succeeds(
        shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans) -> None:
    order_id = await buy_by_link(shop)
    fake_midtrans.pay(order_id)
    body = fake_midtrans.notification(order_id)
    fake_midtrans.down.add("status")
    assert await post(client, body) == 503
    assert (await shop.order(order_id)).status is OrderStatus.PENDING
    assert list(stored_events(shop).values()) == [body.decode()]

    fake_midtrans.down.clear()
    assert await post(client, body) == 200  # Midtrans' retry of the same notification
    assert (await shop.order(order_id)).status is OrderStatus.PAID
    assert sum("user1@mail.test" in m for m in shop.inbox(BOB)) == 1


async def test_database_down_gives_503(shop: Shop, client: AsyncTestClient[Any], fake_midtrans: FakeMidtrans) -> None:
    from dependency_injector import providers

    from application.errors import StorageUnavailable

    order_id = await buy_by_link(shop)
    fake_midtrans.pay(order_id)

    class DeadDatabase:
        async def __aenter__(self) -> None:
            raise StorageUnavailable("connection refused")

        async def __aexit__(self, *exc: object) -> None:
            return None

    with shop.adapters.unit_of_work.override(providers.Factory(DeadDatabase)):
        assert await post(client, fake_midtrans.notification(order_id)) == 503
    assert (await shop.order(order_id)).status is OrderStatus.PENDING


async def test_payments_off_answers_404(fake_midtrans: FakeMidtrans) -> None:
    from dependency_injector import providers

    from entrypoints.web.app import create_app
    from tests.support.shop import settings

    shop = Shop(config=settings(TOKOWA_SERVER_JOBS="false"))
    shop.adapters.payment_verifier.override(providers.Object(None))
    async with AsyncTestClient(app=create_app(settings(TOKOWA_SERVER_JOBS="false"), shop.app)) as client:
        fake_midtrans.pay("INV-1")
        assert await post(client, fake_midtrans.notification("INV-1", key=SERVER_KEY)) == 404
