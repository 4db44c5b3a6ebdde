"""The Cloud API webhook on real HTTP out: Meta's samples signed with the test app secret, and the
replies as the fake Graph API receives them."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from types import TracebackType
from typing import Any

import pytest
from dependency_injector import providers

from adapters.memory.storage import MemoryUnitOfWork
from adapters.messaging.cloud_api_payload import parse_cloud_api
from adapters.messaging.signature import sign
from application.errors import StorageUnavailable
from entrypoints.settings import Settings
from tests.whatsapp.conftest import (
    APP_SECRET, VERIFY_TOKEN, FakeHttpServer, WebhookApp, cloud_settings, running_app, samples_dir,
)

BUDI, SARI = "6281234567890", "6289876543210"
PATH = "/webhooks/whatsapp"


def sample(name: str) -> tuple[bytes, str]:
    folder = samples_dir() / "whatsapp"
    return (folder / f"{name}.json").read_bytes(), (folder / f"{name}.sig").read_text().strip()


def signed(name: str) -> dict[str, Any]:
    """A sample as Meta sent it: `post(PATH, **signed(name))`."""
    body, signature = sample(name)
    return {"body": body, "signature": signature}


def text_update(messages: list[tuple[str, str, str]], statuses: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A `messages` change: (message id, sender, text) each."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281100000000", "phone_number_id": "100000000000001"},
        "contacts": [{"profile": {"name": "x"}, "wa_id": sender} for _, sender, _ in messages],
        "messages": [{"from": sender, "id": mid, "timestamp": "1764288000", "type": "text", "text": {"body": body}}
                     for mid, sender, body in messages],
    }
    if statuses:
        value["statuses"] = statuses
    return {"field": "messages", "value": value}


def webhook(*changes_per_entry: list[dict[str, Any]]) -> bytes:
    return json.dumps({"object": "whatsapp_business_account", "entry": [
        {"id": "200000000000001", "changes": changes} for changes in changes_per_entry
    ]}).encode()


def sent_to(graph: FakeHttpServer, number: str) -> list[dict[str, Any]]:
    return [b for b in graph.bodies() if b["to"] == number]


async def test_meta_verification_echoes_the_challenge_only_for_the_right_token(cloud_app: WebhookApp) -> None:
    ok = await cloud_app.client.get(PATH, params={
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert ok.status_code == 200
    assert ok.text == "1158201444"
    assert ok.headers["content-type"].startswith("text/plain")
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {},
    ):
        assert (await cloud_app.client.get(PATH, params=params)).status_code == 403


async def test_without_a_verify_token_verification_always_fails(graph: FakeHttpServer) -> None:
    async with running_app(cloud_settings(graph.url, WHATSAPP_VERIFY_TOKEN=None)) as app:
        response = await app.client.get(PATH, params={"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"})
        assert response.status_code == 403


@pytest.mark.parametrize("name", sorted(p.stem for p in (samples_dir() / "whatsapp").glob("*.json")))
async def test_every_sample_is_accepted_with_its_signature(name: str, cloud_app: WebhookApp,
                                                           graph: FakeHttpServer) -> None:
    body, signature = sample(name)
    assert await cloud_app.post(PATH, body, signature=signature) == 200
    await cloud_app.settle()
    expected_recipients = {
        "text_produk": {BUDI}, "text_buy": {BUDI}, "list_reply": {BUDI}, "button_reply": {BUDI},
        "image_unsupported": {BUDI}, "batch_two_users": {BUDI, SARI},
        "status_delivered": set(), "status_failed": set(),
    }[name]
    assert {b["to"] for b in graph.bodies()} == expected_recipients


async def test_the_product_list_arrives_as_an_interactive_list(cloud_app: WebhookApp, graph: FakeHttpServer) -> None:
    await cloud_app.container.load_demo()()
    await cloud_app.post(PATH, **signed("text_produk"))
    await cloud_app.settle()
    [message] = sent_to(graph, BUDI)
    assert message["type"] == "interactive" and message["interactive"]["type"] == "list"
    rows = message["interactive"]["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [f".produk DEMO{n}" for n in range(1, 6)]
    assert graph.requests[0].path == "/100000000000001/messages"
    assert graph.requests[0].headers["authorization"] == "Bearer EAAG-test-access-token"


async def test_a_tapped_list_row_runs_its_command(cloud_app: WebhookApp, graph: FakeHttpServer) -> None:
    await cloud_app.container.load_demo()()
    body = json.loads(sample("list_reply")[0])
    tap = body["entry"][0]["changes"][0]["value"]["messages"][0]
    tap["interactive"]["list_reply"]["id"] = "buy:DEMO3"
    tap["timestamp"] = str(int(time.time()))  # tapped just now (a purchase sent long ago would not run)
    raw = json.dumps(body).encode()
    assert await cloud_app.post(PATH, raw, secret=APP_SECRET) == 200
    await cloud_app.settle()
    [reply] = sent_to(graph, BUDI)
    # Saldo 0: the order waits for payment, and the link comes as a CTA-URL button.
    interactive = reply["interactive"]
    assert interactive["type"] == "cta_url"
    assert "Voucher Game 100 Diamond" in interactive["body"]["text"]
    assert "/pay/INV-" in interactive["action"]["parameters"]["url"]


async def test_media_gets_one_hint_per_ten_minutes(cloud_app: WebhookApp, graph: FakeHttpServer) -> None:
    body = sample("image_unsupported")[0]
    for n in range(3):
        again = body.replace(b"wamid.TEST.0005", f"wamid.TEST.IMG{n}".encode())
        assert await cloud_app.post(PATH, again, secret=APP_SECRET) == 200
    await cloud_app.settle()
    [hint] = sent_to(graph, BUDI)
    assert hint["type"] == "text" and ".menu" in hint["text"]["body"]


@pytest.mark.parametrize("signature", [None, "", "sha256=" + "0" * 64, "sha1=abc", "garbage",
                                       sign("another-secret", b"x")])
async def test_unsigned_or_missigned_posts_get_401_and_are_not_recorded(signature: str | None, cloud_app: WebhookApp,
                                                                        graph: FakeHttpServer) -> None:
    body, good = sample("text_produk")
    response = await cloud_app.client.post(PATH, content=body, headers={} if signature is None else {
        "X-Hub-Signature-256": signature})
    assert response.status_code == 401
    await cloud_app.settle()
    assert graph.requests == []
    # Not recorded as seen: Meta's genuine delivery of the same message is still answered.
    assert await cloud_app.post(PATH, body, signature=good) == 200
    await cloud_app.settle()
    assert len(sent_to(graph, BUDI)) == 1


async def test_a_signature_of_other_bytes_is_refused(cloud_app: WebhookApp) -> None:
    body, signature = sample("text_produk")
    assert await cloud_app.post(PATH, body + b" ", signature=signature) == 401


@pytest.mark.parametrize("body", [b"not json", b"[]", b'"text"', b"{}", b'{"entry": {}}', b'{"entry": [1]}',
                                  b'{"entry": [{"changes": "x"}]}', b"[" * 100_000])
async def test_malformed_signed_bodies_get_400(body: bytes, cloud_app: WebhookApp) -> None:
    assert await cloud_app.post(PATH, body, secret=APP_SECRET) == 400


async def test_every_entry_change_and_message_of_a_batch_is_answered(cloud_app: WebhookApp,
                                                                     graph: FakeHttpServer) -> None:
    users = [f"62812000000{n:02d}" for n in range(8)]
    entries = [
        [text_update([(f"wamid.B{e}{c}{m}", users[e * 4 + c * 2 + m], ".saldo") for m in range(2)]) for c in range(2)]
        for e in range(2)
    ]
    assert await cloud_app.post(PATH, webhook(*entries), secret=APP_SECRET) == 200
    await cloud_app.settle()
    assert sorted(b["to"] for b in graph.bodies()) == sorted(users)


async def test_one_customers_messages_of_a_batch_are_answered_in_order(cloud_app: WebhookApp,
                                                                       graph: FakeHttpServer) -> None:
    body = webhook([text_update([("wamid.O1", BUDI, ".saldo"), ("wamid.O2", BUDI, ".riwayat"),
                                 ("wamid.O3", BUDI, ".saldo")])])
    assert await cloud_app.post(PATH, body, secret=APP_SECRET) == 200
    await cloud_app.settle()
    texts = [b["text"]["body"] for b in sent_to(graph, BUDI)]
    assert len(texts) == 3 and texts[0] == texts[2] != texts[1]


async def test_a_redelivered_message_is_answered_once(cloud_app: WebhookApp, graph: FakeHttpServer) -> None:
    for _ in range(3):
        assert await cloud_app.post(PATH, **signed("text_buy")) == 200
    await cloud_app.settle()
    assert len(sent_to(graph, BUDI)) == 1


async def test_statuses_are_counted_never_answered(cloud_app: WebhookApp, graph: FakeHttpServer) -> None:
    failed = {"id": "wamid.OUT.9", "status": "failed", "timestamp": "1", "recipient_id": SARI,
              "errors": [{"code": 131047, "title": "Re-engagement message"}]}
    read = {"id": "wamid.OUT.8", "status": "read", "timestamp": "1", "recipient_id": SARI}
    body = webhook([text_update([("wamid.S1", BUDI, ".saldo")], statuses=[failed, read])])
    assert await cloud_app.post(PATH, body, secret=APP_SECRET) == 200
    assert await cloud_app.post(PATH, **signed("status_failed")) == 200
    await cloud_app.settle()
    assert [b["to"] for b in graph.bodies()] == [BUDI]
    stats = cloud_app.container.adapters.delivery_stats()
    assert stats.failures[131047] == 2
    assert stats.statuses["read"] == 1
    metrics = (await cloud_app.client.get("/metrics")).text
    assert 'tokowa_whatsapp_delivery_failures_total{code="131047"} 2.0' in metrics
    assert 'tokowa_whatsapp_delivery_statuses_total{status="read"} 1.0' in metrics


class _DatabaseDown:
    async def __aenter__(self) -> _DatabaseDown:
        raise StorageUnavailable("down")

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        return None


async def test_a_database_outage_while_recording_answers_503_so_meta_retries(cloud_app: WebhookApp,
                                                                              graph: FakeHttpServer) -> None:
    adapters = cloud_app.container.adapters
    store, down = adapters.store(), [True]
    for units in (adapters.unit_of_work, adapters.single_statement_unit_of_work):
        units.override(providers.Callable(lambda: _DatabaseDown() if down[0] else MemoryUnitOfWork(store)))
    assert await cloud_app.post(PATH, **signed("text_produk")) == 503
    down[0] = False
    assert await cloud_app.post(PATH, **signed("text_produk")) == 200
    await cloud_app.settle()
    assert len(sent_to(graph, BUDI)) == 1


async def test_the_answer_does_not_wait_for_the_reply_to_be_sent(cloud_app: WebhookApp, graph: FakeHttpServer) -> None:
    gate = threading.Event()
    graph.before_answer = lambda: gate.wait(30)
    try:
        # The Graph API holds every send until the gate opens: the webhook must answer anyway.
        status = await asyncio.wait_for(cloud_app.post(PATH, **signed("text_produk")), timeout=20)
        assert status == 200
    finally:
        gate.set()
        await cloud_app.settle()
        graph.before_answer = None
    assert len(sent_to(graph, BUDI)) == 1


async def test_the_webhook_is_not_there_without_the_cloud_api_transport() -> None:
    settings = Settings(_env_file=None, TOKOWA_SERVER_JOBS=False)
    async with running_app(settings) as app:
        assert await app.post(PATH, sample("text_produk")[0], secret=APP_SECRET) == 404
        assert (await app.client.get(PATH, params={"hub.mode": "subscribe"})).status_code == 404
        assert await app.post("/webhooks/gowa", b"{}", secret="x") == 404


def test_identity_keeps_the_business_scoped_user_id() -> None:
    batch = parse_cloud_api(sample("batch_two_users")[0])
    assert [(m.sender, m.business_user_id, m.text) for m in batch.messages] == [
        (BUDI, "ID.0987654321826", ".saldo"), (SARI, "ID.0123456789826", ".menu")]


def test_a_button_or_row_id_is_read_as_the_command() -> None:
    assert [m.text for m in parse_cloud_api(sample("list_reply")[0]).messages] == ["buy:NF1"]
    assert [m.text for m in parse_cloud_api(sample("button_reply")[0]).messages] == ["pay:saldo"]
    assert [m.text for m in parse_cloud_api(sample("image_unsupported")[0]).messages] == [None]



def test_the_time_meta_says_a_message_was_sent_is_kept() -> None:
    from datetime import UTC, datetime

    [message] = parse_cloud_api(sample("text_buy")[0]).messages
    assert message.sent_at == datetime(2025, 11, 28, 0, 0, tzinfo=UTC)  # "timestamp": "1764288000"
    body = webhook([text_update([("wamid.T1", BUDI, ".saldo")])]).replace(b'"1764288000"', b'"soon"')
    assert [m.sent_at for m in parse_cloud_api(body).messages] == [None]


async def test_control_characters_are_cleaned_and_the_rest_of_the_batch_answered(
        cloud_app: WebhookApp, graph: FakeHttpServer) -> None:
    body = webhook([text_update([("wamid.N1", BUDI, ".sal\u0000do\u001b"), ("wamid.N2", SARI, ".saldo" + "x" * 9000)])])
    assert await cloud_app.post(PATH, body, secret=APP_SECRET) == 200
    await cloud_app.settle()
    assert [b["text"]["body"] for b in sent_to(graph, BUDI)] == ["Saldo kamu: *Rp 0*"]
    assert len(sent_to(graph, SARI)) == 1  # an unknown command, cut to 4096 characters: answered all the same


async def test_one_message_that_cannot_be_recorded_does_not_stop_the_others_of_its_batch(
        cloud_app: WebhookApp, graph: FakeHttpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.memory.repositories import MemoryInboxRepository

    record = MemoryInboxRepository.record
    outage = {"wamid.B2"}

    async def refusing(self: MemoryInboxRepository, message: Any, *args: Any) -> bool:
        if message.message_id == "wamid.B1":
            raise ValueError("a row the database refuses for good")
        if message.message_id in outage:
            raise StorageUnavailable("connection lost for this one")
        return await record(self, message, *args)

    monkeypatch.setattr(MemoryInboxRepository, "record", refusing)
    batch = webhook([text_update([("wamid.B1", BUDI, ".saldo"), ("wamid.B2", BUDI, ".riwayat")])],
                    [text_update([("wamid.B3", SARI, ".saldo")])])
    assert await cloud_app.post(PATH, batch, secret=APP_SECRET) == 503  # B2 could not be stored: Meta retries
    await cloud_app.settle()
    assert len(sent_to(graph, SARI)) == 1 and sent_to(graph, BUDI) == []  # B3 was recorded and answered
    outage.clear()
    assert await cloud_app.post(PATH, batch, secret=APP_SECRET) == 200
    await cloud_app.settle()
    assert len(sent_to(graph, SARI)) == 1  # B3 is a redelivery now
    assert [b["text"]["body"] for b in sent_to(graph, BUDI)] == ["Belum ada transaksi."]  # B2, once
