"""The GOWA transport: its webhook (samples signed with the test secret) and its REST sends,
against a fake GOWA server on real HTTP."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import pytest
from dependency_injector import providers

from adapters.messaging.delivery import RetryPolicy
from adapters.messaging.gowa import GowaMessenger
from adapters.messaging.gowa_payload import parse_gowa, wa_id_of
from application.errors import MessengerUnavailable
from application.replies import Choice, LinkButton, Reply
from entrypoints.settings import ConfigError
from tests.whatsapp.conftest import (
    FAST_RETRY, GOWA_SECRET, FakeHttpServer, WebhookApp, gowa_settings, running_app, samples_dir,
)

PATH = "/webhooks/gowa"
BUDI = "6281234567890"
SHOP = "6281100000000"


def signed(name: str) -> dict[str, bytes | str]:
    folder = samples_dir() / "gowa"
    return {"body": (folder / f"{name}.json").read_bytes(), "signature": (folder / f"{name}.sig").read_text().strip()}


@pytest.mark.parametrize("name", sorted(p.stem for p in (samples_dir() / "gowa").glob("*.json")))
async def test_every_sample_is_accepted_and_only_the_customers_text_answered(
        name: str, gowa_app: WebhookApp, gowa: FakeHttpServer) -> None:
    assert await gowa_app.post(PATH, **signed(name)) == 200  # type: ignore[arg-type]
    await gowa_app.settle()
    expected = [f"{BUDI}@s.whatsapp.net"] if name == "text_produk" else []
    assert [b["phone"] for b in gowa.bodies()] == expected


async def test_a_reply_goes_through_send_message_with_basic_auth(gowa_app: WebhookApp, gowa: FakeHttpServer) -> None:
    await gowa_app.container.load_demo()()
    await gowa_app.post(PATH, **signed("text_produk"))  # type: ignore[arg-type]
    await gowa_app.settle()
    [request] = gowa.requests
    assert request.path == "/send/message"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"shop:gowa-pass").decode()
    # No interactive list on WhatsApp Web: the commands to type are listed instead.
    assert "1. .produk DEMO1" in request.body["message"]


async def test_the_shops_own_messages_are_never_executed(gowa: FakeHttpServer) -> None:
    settings = gowa_settings(gowa.url, TOKOWA_ADMIN_NUMBERS=SHOP)
    async with running_app(settings, messenger=providers.Singleton(
            GowaMessenger, api_url=gowa.url, username="shop", password="gowa-pass", retry=FAST_RETRY,
            pace_seconds=0.0)) as app:
        # `.addsaldo 6281234567890 1000000`, typed on the shop's (admin's) own phone.
        assert await app.post(PATH, **signed("own_echo")) == 200  # type: ignore[arg-type]
        await app.settle()
        async with app.container.adapters.unit_of_work() as uow:
            wallet = await uow.wallets.get(BUDI)
    assert wallet.balance.value == 0
    assert gowa.requests == []


async def test_group_messages_are_answered_privately_when_groups_are_on(gowa: FakeHttpServer) -> None:
    settings = gowa_settings(gowa.url, TOKOWA_GOWA_GROUPS=True)
    async with running_app(settings, messenger=providers.Singleton(
            GowaMessenger, api_url=gowa.url, username="shop", password="gowa-pass", retry=FAST_RETRY,
            pace_seconds=0.0)) as app:
        assert await app.post(PATH, **signed("group_message")) == 200  # type: ignore[arg-type]
        await app.settle()
    assert [b["phone"] for b in gowa.bodies()] == [f"{BUDI}@s.whatsapp.net"]


async def test_a_redelivery_is_answered_once(gowa_app: WebhookApp, gowa: FakeHttpServer) -> None:
    for _ in range(3):
        assert await gowa_app.post(PATH, **signed("text_produk")) == 200  # type: ignore[arg-type]
    await gowa_app.settle()
    assert len(gowa.requests) == 1


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "bogus"])
async def test_unsigned_or_missigned_posts_get_401(signature: str | None, gowa_app: WebhookApp,
                                                   gowa: FakeHttpServer) -> None:
    body = signed("text_produk")["body"]
    headers = {} if signature is None else {"X-Hub-Signature-256": signature}
    assert (await gowa_app.client.post(PATH, content=body, headers=headers)).status_code == 401
    await gowa_app.settle()
    assert gowa.requests == []


@pytest.mark.parametrize("body", [b"nope", b"[]", b"{}", b'{"event": "message"}', b'{"event": 1, "payload": {}}'])
async def test_malformed_signed_bodies_get_400(body: bytes, gowa_app: WebhookApp) -> None:
    assert await gowa_app.post(PATH, body, secret=GOWA_SECRET) == 400


async def test_media_gets_the_hint_and_other_events_nothing(gowa_app: WebhookApp, gowa: FakeHttpServer) -> None:
    base = {"device_id": f"{SHOP}@s.whatsapp.net"}
    image = {"event": "message", **base, "payload": {"id": "3EB0IMG", "chat_id": f"{BUDI}@s.whatsapp.net",
             "from": f"{BUDI}@s.whatsapp.net", "is_from_me": False, "body": ".saldo",
             "image": {"url": "https://mmg.whatsapp.net/x", "caption": ".saldo"}}}
    edited = {"event": "message.edited", **base, "payload": {"id": "3EB0ED", "from": f"{BUDI}@s.whatsapp.net",
              "chat_id": f"{BUDI}@s.whatsapp.net", "is_from_me": False, "body": ".saldo"}}
    call = {"event": "call.offer", **base, "payload": {"call_id": "C1", "from": f"{BUDI}@s.whatsapp.net"}}
    for body in (edited, call, image):
        assert await gowa_app.post(PATH, json.dumps(body).encode(), secret=GOWA_SECRET) == 200
    await gowa_app.settle()
    [hint] = gowa.bodies()
    assert ".menu" in hint["message"]


def test_senders_are_read_from_jids() -> None:
    assert wa_id_of("6281234567890@s.whatsapp.net") == BUDI
    assert wa_id_of("6281234567890:12@s.whatsapp.net") == BUDI
    assert wa_id_of("111111111111111@lid") is None
    assert wa_id_of("120363000000000001@g.us") is None
    lid_sender = json.dumps({"event": "message", "device_id": "x", "payload": {
        "id": "A", "chat_id": f"{BUDI}@s.whatsapp.net", "from": "111@lid", "is_from_me": False, "body": ".menu"}})
    assert [m.sender for m in parse_gowa(lid_sender.encode())] == [BUDI]


def test_gowa_without_a_webhook_secret_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="GOWA_WEBHOOK_SECRET"):
        gowa_settings("http://gowa.local", GOWA_WEBHOOK_SECRET=None).check()
    with pytest.raises(ConfigError, match="GOWA_WEBHOOK_SECRET"):
        gowa_settings("http://gowa.local", GOWA_WEBHOOK_SECRET="").check()


@pytest.fixture
async def gowa_messenger(gowa: FakeHttpServer) -> AsyncIterator[GowaMessenger]:
    m = GowaMessenger(gowa.url, "shop", "gowa-pass", retry=RetryPolicy(attempts=3, base=0.001), pace_seconds=0.0)
    yield m
    await m.aclose()


async def test_interactive_replies_fall_back_to_text(gowa_messenger: GowaMessenger, gowa: FakeHttpServer) -> None:
    url = "https://pay.example/INV-1"
    await gowa_messenger.send(BUDI, Reply("Order INV-1 menunggu pembayaran.", link=LinkButton("Bayar", url),
                                          choices=(Choice(".batal", "Batalkan"), Choice(".saldo", ".saldo"))))
    [body] = gowa.bodies()
    assert body["phone"] == f"{BUDI}@s.whatsapp.net"
    assert body["message"] == (f"Order INV-1 menunggu pembayaran.\n\nBayar: {url}\n\n"
                               "1. .batal — Batalkan\n2. .saldo")


async def test_gowa_failures_retry_then_give_up(gowa_messenger: GowaMessenger, gowa: FakeHttpServer) -> None:
    gowa.answer_next((500, {"code": "INTERNAL_SERVER_ERROR"}))
    await gowa_messenger.send(BUDI, Reply("halo"))
    assert len(gowa.requests) == 2
    gowa.answer_next((400, {"code": "400", "message": "phone invalid"}))
    with pytest.raises(MessengerUnavailable):
        await gowa_messenger.send(BUDI, Reply("halo"))
    assert len(gowa.requests) == 3


def test_the_time_gowa_says_a_message_was_sent_is_kept() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    [message] = parse_gowa((samples_dir() / "gowa" / "text_produk.json").read_bytes())
    assert message.sent_at == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # "2026-11-28T10:00:00Z"
    jakarta = timezone(timedelta(hours=7))
    for raw, expected in (("2026-11-28T17:00:00+07:00", datetime(2026, 11, 28, 17, 0, tzinfo=jakarta)),
                          ("not a time", None), (None, None)):
        payload = {"id": "3EB0T", "from": f"{BUDI}@s.whatsapp.net", "body": ".saldo", "timestamp": raw}
        [parsed] = parse_gowa(json.dumps({"event": "message", "device_id": "", "payload": payload}).encode())
        assert parsed.sent_at == expected
