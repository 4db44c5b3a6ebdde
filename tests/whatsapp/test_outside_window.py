"""Outside Meta's 24-hour window on the Cloud API, end to end (webhook in, fake Graph API out):
a message refused with 131047 in the send's answer or later in a status webhook is held until
its recipient writes again, an admin's goes again as the alert template when there is one, and
the admins (or, when WhatsApp cannot reach them, the dashboard) are told once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from dependency_injector import providers

from adapters.memory.storage import MemoryUnitOfWork
from adapters.messaging.cloud_api import CloudApiMessenger
from entrypoints.settings import Settings
from tests.whatsapp.conftest import (
    ACCESS_TOKEN, APP_SECRET, FAST_RETRY, PHONE_NUMBER_ID, FakeHttpServer, Recorded, WebhookApp, cloud_settings,
    graph_error, running_app,
)
from tests.whatsapp.test_cloud_api_webhook import BUDI, PATH, _DatabaseDown, signed, text_update, webhook

ADMIN = "6281100000009"
ADMIN_TOKEN = "window-admin-token-1234"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TEMPLATE = "tokowa_alert"


def numbered(graph: FakeHttpServer) -> None:
    """Every accepted send gets its own wamid: wamid.OUT.<request number>."""
    def answer(request: Recorded) -> tuple[int, Any] | None:
        return 200, {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.OUT.{len(graph.requests)}"}]}
    graph.answer_for = answer


def refusing(graph: FakeHttpServer, *numbers: str) -> None:
    """Free-form messages to these numbers are refused with 131047 (templates go); others get their own wamid."""
    def answer(request: Recorded) -> tuple[int, Any] | None:
        body = request.body
        if isinstance(body, dict) and body.get("to") in numbers and body.get("type") != "template":
            return graph_error(400, 131047)
        return 200, {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.OUT.{len(graph.requests)}"}]}
    graph.answer_for = answer


def window_settings(graph: FakeHttpServer, template: str | None) -> Settings:
    return cloud_settings(graph.url, TOKOWA_ADMIN_NUMBERS=ADMIN, TOKOWA_ADMIN_TOKEN=ADMIN_TOKEN,
                          WHATSAPP_ALERT_TEMPLATE=template)


def messenger(graph: FakeHttpServer, template: str | None) -> Any:
    return providers.Singleton(CloudApiMessenger, api_url=graph.url, phone_number_id=PHONE_NUMBER_ID,
                               access_token=ACCESS_TOKEN, retry=FAST_RETRY, pace_seconds=0.0,
                               alert_template=template, admins=frozenset({ADMIN}))


@pytest.fixture
async def shop(graph: FakeHttpServer) -> AsyncIterator[WebhookApp]:
    """The shop with the alert template configured."""
    async with running_app(window_settings(graph, TEMPLATE), messenger=messenger(graph, TEMPLATE)) as app:
        yield app


@pytest.fixture
async def shop_without_template(graph: FakeHttpServer) -> AsyncIterator[WebhookApp]:
    async with running_app(window_settings(graph, None), messenger=messenger(graph, None)) as app:
        yield app


def failed(wamid: str, to: str, code: int = 131047) -> dict[str, Any]:
    return {"id": wamid, "status": "failed", "timestamp": "1764288006", "recipient_id": to,
            "errors": [{"code": code, "title": "Re-engagement message"}]}


def status_update(*statuses: dict[str, Any]) -> bytes:
    return webhook([{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281100000000", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": list(statuses)}}])


async def write(app: WebhookApp, message_id: str, sender: str, text: str) -> None:
    assert await app.post(PATH, webhook([text_update([(message_id, sender, text)])]), secret=APP_SECRET) == 200
    await app.settle()


async def report(app: WebhookApp, *statuses: dict[str, Any]) -> int:
    answer = await app.post(PATH, status_update(*statuses), secret=APP_SECRET)
    await app.settle()
    return answer


def sends(graph: FakeHttpServer, to: str, after: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """(wamid Meta gave, body) of the messages sent to `to` from request `after` on."""
    return [(f"wamid.OUT.{n}", r.body) for n, r in enumerate(graph.requests, start=1)
            if n > after and isinstance(r.body, dict) and r.body.get("to") == to]


def texts(graph: FakeHttpServer, to: str, after: int = 0) -> list[str]:
    return [b["text"]["body"] if b["type"] == "text" else f"template:{b['template']['name']}"
            for _, b in sends(graph, to, after)]


async def held(app: WebhookApp, to: str | None = None) -> int:
    async with MemoryUnitOfWork(app.container.adapters.store()) as uow:
        return await uow.outbox.held_count(to)


async def backlog(app: WebhookApp) -> tuple[float, float]:
    """(waiting, held) outgoing messages as /metrics gives them."""
    text = (await app.client.get("/metrics")).text
    values = dict(line.split(" ", 1) for line in text.splitlines() if line.startswith("tokowa_outbox_"))
    return float(values["tokowa_outbox_pending"]), float(values["tokowa_outbox_held"])


async def open_alerts(app: WebhookApp) -> list[dict[str, Any]]:
    response = await app.client.get("/api/v1/alerts", params={"open": "true"}, headers=AUTH)
    assert response.status_code == 200
    return list(response.json())


async def test_a_reply_refused_later_is_held_the_admin_told_once_and_it_goes_when_the_customer_writes(
        shop: WebhookApp, graph: FakeHttpServer) -> None:
    numbered(graph)
    await write(shop, "wamid.IN.1", BUDI, ".saldo")
    [(wamid, first)] = sends(graph, BUDI)
    before = len(graph.requests)
    for _ in range(2):  # Meta may deliver the same status twice
        assert await report(shop, failed(wamid, BUDI)) == 200
    assert await held(shop, BUDI) == 1
    assert await backlog(shop) == (0, 1)  # what an operator's monitoring sees
    told = texts(graph, ADMIN, after=before)
    assert len(told) == 1 and BUDI in told[0] and "ditahan" in told[0]
    [alert] = await open_alerts(shop)
    assert alert["key"] == "alert.customer_unreachable" and alert["subject"] == BUDI
    assert texts(graph, BUDI, after=before) == []  # not retried while the window is closed
    assert await shop.container.outbox().drain() == 0

    before = len(graph.requests)
    await write(shop, "wamid.IN.2", BUDI, ".menu")
    again = texts(graph, BUDI, after=before)
    assert again[0] == first["text"]["body"] and len(again) >= 2  # the held one first, then the answer
    assert await held(shop) == 0 and await open_alerts(shop) == []
    assert await backlog(shop) == (0, 0)


async def test_an_admin_message_refused_later_goes_again_as_the_template_once(
        shop: WebhookApp, graph: FakeHttpServer) -> None:
    numbered(graph)
    await write(shop, "wamid.IN.1", BUDI, ".admin pesanan saya belum masuk")
    [(wamid, forwarded)] = sends(graph, ADMIN)
    assert forwarded["type"] == "text"
    before = len(graph.requests)
    for _ in range(2):
        assert await report(shop, failed(wamid, ADMIN)) == 200
    [(_, template)] = sends(graph, ADMIN, after=before)
    assert template["type"] == "template" and template["template"]["name"] == TEMPLATE
    [parameter] = template["template"]["components"][0]["parameters"]
    assert "pesanan saya belum masuk" in parameter["text"] and "\n" not in parameter["text"]
    assert len(parameter["text"]) <= 1024
    assert await held(shop) == 0 and await open_alerts(shop) == []


async def test_a_long_admin_message_is_cut_to_the_template_parameter_limit(
        shop: WebhookApp, graph: FakeHttpServer) -> None:
    numbered(graph)
    await write(shop, "wamid.IN.1", BUDI, ".admin " + "tolong cek pesanan saya " * 80)
    [(wamid, _)] = sends(graph, ADMIN)
    before = len(graph.requests)
    assert await report(shop, failed(wamid, ADMIN)) == 200
    [(_, template)] = sends(graph, ADMIN, after=before)
    [parameter] = template["template"]["components"][0]["parameters"]
    assert len(parameter["text"]) == 1024 and parameter["text"].endswith("…")


async def test_without_a_template_an_unreachable_admin_shows_on_the_dashboard_and_gets_it_on_writing(
        shop_without_template: WebhookApp, graph: FakeHttpServer) -> None:
    shop = shop_without_template
    refusing(graph, ADMIN)
    await write(shop, "wamid.IN.1", BUDI, ".admin pesanan saya belum masuk")
    await write(shop, "wamid.IN.2", BUDI, ".admin halo?")
    assert [b["type"] for _, b in sends(graph, ADMIN)] == ["text", "text"]  # each tried once, no retries
    assert await held(shop, ADMIN) == 2
    [alert] = await open_alerts(shop)  # one while it is open
    assert alert["key"] == "alert.admins_unreachable" and alert["subject"] == ADMIN
    assert "WHATSAPP_ALERT_TEMPLATE" in alert["message"] and "tidak bisa dihubungi" in alert["message"]
    assert await shop.container.outbox().drain() == 0

    graph.answer_for = None  # the admin writes: the window is open again
    before = len(graph.requests)
    await write(shop, "wamid.IN.3", ADMIN, ".menu")
    forwarded = texts(graph, ADMIN, after=before)
    assert "pesanan saya belum masuk" in forwarded[0] and "halo?" in forwarded[1]
    assert await held(shop) == 0 and await open_alerts(shop) == []


async def test_a_customer_refused_in_the_send_answer_is_held_and_the_admin_told_once(
        shop: WebhookApp, graph: FakeHttpServer) -> None:
    refusing(graph, BUDI)
    await write(shop, "wamid.IN.1", BUDI, ".saldo")
    await write(shop, "wamid.IN.2", ADMIN, ".balas 081234567890 Sudah kami cek ya")
    assert await held(shop, BUDI) == 2
    told = [t for t in texts(graph, ADMIN) if BUDI in t and "ditahan" in t]
    assert len(told) == 1
    assert [a["key"] for a in await open_alerts(shop)] == ["alert.customer_unreachable"]

    graph.answer_for = None
    before = len(graph.requests)
    await write(shop, "wamid.IN.3", BUDI, ".saldo")
    assert len(texts(graph, BUDI, after=before)) >= 3 and await held(shop) == 0


async def test_an_admin_who_is_also_a_customer_gets_the_template_for_a_delivery_refused_later(
        shop: WebhookApp, graph: FakeHttpServer) -> None:
    numbered(graph)
    await write(shop, "wamid.IN.1", ADMIN, ".saldo")
    [(wamid, _)] = sends(graph, ADMIN)
    before = len(graph.requests)
    assert await report(shop, failed(wamid, ADMIN)) == 200
    assert [b["type"] for _, b in sends(graph, ADMIN, after=before)] == ["template"]
    assert await held(shop) == 0


async def test_statuses_for_unknown_messages_and_other_failures_change_nothing(
        shop: WebhookApp, graph: FakeHttpServer) -> None:
    numbered(graph)
    await write(shop, "wamid.IN.1", BUDI, ".saldo")
    [(wamid, _)] = sends(graph, BUDI)
    before = len(graph.requests)
    assert await report(shop, failed("wamid.NEVER.SENT", BUDI), failed(wamid, BUDI, code=131026)) == 200
    assert await post_sample(shop) == 200  # Meta's sample: a wamid this shop never sent
    assert len(graph.requests) == before and await held(shop) == 0 and await open_alerts(shop) == []


async def post_sample(app: WebhookApp) -> int:
    answer = await app.post(PATH, **signed("status_failed"))
    await app.settle()
    return answer


async def test_a_refusal_reported_while_the_database_is_down_answers_503_so_meta_retries(
        shop: WebhookApp, graph: FakeHttpServer) -> None:
    numbered(graph)
    await write(shop, "wamid.IN.1", BUDI, ".saldo")
    [(wamid, _)] = sends(graph, BUDI)
    adapters = shop.container.adapters
    store = adapters.store()
    adapters.unit_of_work.override(providers.Callable(_DatabaseDown))
    assert await report(shop, failed(wamid, BUDI)) == 503
    adapters.unit_of_work.override(providers.Callable(lambda: MemoryUnitOfWork(store)))
    assert await report(shop, failed(wamid, BUDI)) == 200
    assert await held(shop, BUDI) == 1


async def test_a_refusal_reported_after_the_customer_wrote_again_is_retried_not_held(
        shop: WebhookApp, graph: FakeHttpServer) -> None:
    numbered(graph)
    await write(shop, "wamid.IN.1", BUDI, ".saldo")
    [(wamid, _)] = sends(graph, BUDI)
    await write(shop, "wamid.IN.2", BUDI, ".menu")  # she writes before Meta's report arrives
    before = len(graph.requests)
    assert await report(shop, failed(wamid, BUDI)) == 200
    assert await held(shop) == 0 and await open_alerts(shop) == []  # her window is open: no alert
    assert texts(graph, ADMIN, after=before) == []
    async with MemoryUnitOfWork(shop.container.adapters.store()) as uow:
        assert await uow.outbox.pending_count() == 1  # waiting for its retry (5 s), like any failed send
