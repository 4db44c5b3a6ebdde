"""The seller's side for operators: waiting orders through the admin API (the same use case as
`.kirim`), the transport's health (GOWA's /app/status, Meta's error 190) on /readyz and as an
alert, and cluster-wide jobs that tell a finding once with two instances on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from adapters.messaging.health import CloudApiHealth, GowaHealth
from application.use_cases.jobs import OncePerRound
from entrypoints.bootstrap import build_application
from entrypoints.container import Application
from tests.fixtures.storage import truncate_all
from tests.ops.conftest import AUTH
from tests.support.shop import ADMIN, ALICE, Shop, settings


async def test_waiting_orders_are_listed_and_delivered_through_the_api(ops_shop: Shop,
                                                                        client: AsyncTestClient[Any]) -> None:
    await ops_shop.say(ADMIN, ".addproduk CANVA|Canva Invite|20000|5")
    patched = await client.patch("/api/v1/products/CANVA", json={"fulfilment": "manual"}, headers=AUTH)
    assert patched.status_code == 200
    assert (await client.patch("/api/v1/products/NF1", json={"fulfilment": "manual"}, headers=AUTH)).status_code == 409
    ops_shop.clock.advance(seconds=1)  # after the seeded orders: "last" is this one
    await ops_shop.say(ALICE, ".buy CANVA")
    # Alice's seeded VC order carries the same (manual clock) time, so pick the CANVA one by product.
    async with ops_shop.adapters.unit_of_work() as uow:
        order = next(o for o in await uow.orders.recent_of(ALICE, 10) if o.product_code == "CANVA")
    waiting = (await client.get("/api/v1/orders/waiting", headers=AUTH)).json()
    assert [(w["id"], w["user_id"], w["product_code"], w["qty"]) for w in waiting] == [
        (order.id, ALICE, "CANVA", 1)]
    assert (await client.post(f"/api/v1/orders/{order.id}/deliver", json={"text": " "}, headers=AUTH)).status_code == 400
    done = await client.post(f"/api/v1/orders/{order.id}/deliver", json={"text": "invite: https://x.test/1"},
                             headers=AUTH)
    assert done.status_code == 200 and done.json()["id"] == order.id
    assert "invite: https://x.test/1" in ops_shop.inbox(ALICE)[-1]
    again = await client.post(f"/api/v1/orders/{order.id}/deliver", json={"text": "again"}, headers=AUTH)
    assert again.status_code == 409
    assert (await client.get("/api/v1/orders/waiting", headers=AUTH)).json() == []
    missing = await client.post("/api/v1/orders/INV-20260101-AAAAAAAAAAAA/deliver", json={"text": "x"}, headers=AUTH)
    assert missing.status_code == 404


def answering(status: int, body: Any) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, content=json.dumps(body).encode()))


@pytest.mark.parametrize(("status", "body", "expected"), [
    (200, {"code": "SUCCESS", "results": {"is_connected": True, "is_logged_in": True}}, True),
    (200, {"code": "SUCCESS", "results": {"is_connected": True, "is_logged_in": False}}, False),
    (200, {"code": "SUCCESS", "results": {"is_connected": False, "is_logged_in": True}}, False),
    (401, "Unauthorized", False),  # GOWA refuses our credentials: nothing can be sent either
    (502, {"message": "bad gateway"}, None),
])
async def test_gowa_health_reads_its_session_status(status: int, body: Any, expected: bool | None) -> None:
    assert await GowaHealth("http://gowa.test", "u", "p", transport=answering(status, body)).connected() is expected


@pytest.mark.parametrize(("status", "body", "expected"), [
    (200, {"id": "123"}, True),
    (401, {"error": {"code": 190, "type": "OAuthException", "message": "Error validating access token"}}, False),
    (500, {"error": {"code": 2, "type": "OAuthException"}}, None),
])
async def test_cloud_api_health_is_down_when_meta_refuses_the_token(status: int, body: Any,
                                                                   expected: bool | None) -> None:
    health = CloudApiHealth("http://graph.test", "123", "token", transport=answering(status, body))
    assert await health.connected() is expected


class FakeHealth:
    def __init__(self) -> None:
        self.state: bool | None = True

    async def connected(self) -> bool | None:
        return self.state


async def test_a_transport_down_is_degraded_alerted_once_and_its_return_told(ops_shop: Shop,
                                                                            client: AsyncTestClient[Any]) -> None:
    health = FakeHealth()
    ops_shop.adapters.transport_health.override(providers.Object(health))
    watch = ops_shop.app.watch_transport()
    health.state = False
    await watch()
    await watch()
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()["status"], ready.json()["whatsapp"]) == (200, "degraded", "down")
    down = [m for m in ops_shop.inbox(ADMIN) if "terputus" in m]
    assert len(down) == 1
    listed = (await client.get("/api/v1/reports/alerts", headers=AUTH)).json()
    assert [a["key"] for a in listed] == ["alert.transport_down"]
    health.state = True
    await watch()
    await watch()
    assert (await client.get("/readyz")).json()["whatsapp"] == "up"
    assert len([m for m in ops_shop.inbox(ADMIN) if m.startswith("✅ WhatsApp")]) == 1


@pytest.fixture
async def two_instances(pg_url: str, secret_key: str) -> AsyncIterator[list[Application]]:
    await truncate_all(pg_url)
    config = settings(DATABASE_URL=pg_url, TOKOWA_SECRET_KEY=secret_key, TOKOWA_SERVER_JOBS="false")
    apps = [build_application(config), build_application(config)]
    yield apps
    for app in apps:
        await app.adapters.storage().aclose()
    await truncate_all(pg_url)


async def test_two_instances_on_postgres_tell_a_finding_once(two_instances: list[Application]) -> None:
    first, second = two_instances
    async with first.adapters.unit_of_work() as uow:
        await uow.customers.ensure(ALICE, first.adapters.clock().now())
        await uow.commit()
    async with first.adapters.storage().engine.begin() as connection:  # a balance off its ledger
        from sqlalchemy import update

        from adapters.storage.tables import users
        await connection.execute(update(users).where(users.c.user_id == ALICE).values(saldo=5000))

    async def told() -> int:
        return sum("jumlah mutasinya" in m.reply.text for app in two_instances
                   for m in app.adapters.messenger().sent_to(ADMIN))

    # Each instance's own doctor at the same moment (no lease): the alert row tells it once.
    await asyncio.gather(first.doctor()(only_new=True), second.doctor()(only_new=True))
    assert await told() == 1
    # With the job lease, one worker of the two runs the round at all.
    ran = await asyncio.gather(*(OncePerRound("doctor-test", lambda app=app: app.doctor()(only_new=True),
                                              app.adapters.unit_of_work, app.adapters.clock(),
                                              __import__("datetime").timedelta(minutes=5), holder=name)()
                                 for app, name in ((first, "a"), (second, "b"))))
    assert sum(result is not None for result in ran) == 1
    assert await told() == 1


async def test_the_server_runs_each_cluster_job_once_per_round(ops_shop: Shop) -> None:
    from entrypoints.workers import cluster_jobs

    jobs = cluster_jobs(ops_shop.app, 60, 3600)
    assert [name for _, _, name in jobs] == ["reminders", "transport", "doctor"]
    first = [await job() for job, _, _ in jobs]
    second = [await job() for job, _, _ in jobs]  # the same worker again within the round: its own lease
    assert first[2] == [] and second[2] == []
