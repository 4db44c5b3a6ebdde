"""The Cloud API messenger against a fake Graph API on real HTTP: Meta's limits, splitting,
paging, retries and pacing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.messaging.cloud_api import CloudApiMessenger
from adapters.messaging.cloud_api_messages import units
from adapters.messaging.delivery import RetryPolicy
from application.errors import MessengerUnavailable
from application.replies import Choice, LinkButton, Reply
from tests.whatsapp.conftest import ACCESS_TOKEN, PHONE_NUMBER_ID, FakeHttpServer, graph_error

TO = "6281234567890"


class SleepRecorder:
    """Stands in for asyncio.sleep: remembers the waits, waits for nothing."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
async def messenger(graph: FakeHttpServer, sleeps: SleepRecorder) -> AsyncIterator[CloudApiMessenger]:
    m = CloudApiMessenger(graph.url, PHONE_NUMBER_ID, ACCESS_TOKEN, retry=RetryPolicy(attempts=4, base=1.0, factor=4.0),
                          pace_seconds=0.0, sleep=sleeps)
    yield m
    await m.aclose()


def interactive(body: dict[str, Any]) -> dict[str, Any]:
    assert body["type"] == "interactive"
    result: dict[str, Any] = body["interactive"]
    return result


async def test_a_text_goes_to_the_numbers_messages_endpoint_with_the_token(messenger: CloudApiMessenger,
                                                                           graph: FakeHttpServer) -> None:
    await messenger.send(TO, Reply("Saldo kamu: *Rp 0*"))
    [request] = graph.requests
    assert request.path == f"/{PHONE_NUMBER_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.body["messaging_product"] == "whatsapp" and request.body["to"] == TO
    assert request.body["text"]["body"] == "Saldo kamu: *Rp 0*"


async def test_a_long_text_is_split_on_line_boundaries(messenger: CloudApiMessenger, graph: FakeHttpServer) -> None:
    lines = [f"{n:04d} " + "x" * 95 for n in range(120)]  # 12,000 characters
    await messenger.send(TO, Reply("\n".join(lines)))
    bodies = [b["text"]["body"] for b in graph.bodies()]
    assert len(bodies) == 3
    assert all(len(b) <= 4096 for b in bodies)
    assert "\n".join(bodies).split("\n") == lines


async def test_a_single_huge_line_is_cut_too(messenger: CloudApiMessenger, graph: FakeHttpServer) -> None:
    await messenger.send(TO, Reply("y" * 9000))
    bodies = [b["text"]["body"] for b in graph.bodies()]
    assert [len(b) for b in bodies] == [4096, 4096, 808]


async def test_many_choices_become_list_pages_of_ten_rows_within_the_limits(messenger: CloudApiMessenger,
                                                                            graph: FakeHttpServer) -> None:
    choices = tuple(Choice(f".produk P{n}", f"P{n} A product name that is much too long",
                           "Rp 10.000 · " + "a description longer than seventy-two characters " * 2)
                    for n in range(25))
    await messenger.send(TO, Reply("Daftar produk", choices=choices, choices_title="*Daftar produk*",
                                   choices_button="Lihat semua produk di toko"))
    lists = [interactive(b) for b in graph.bodies()]
    assert [m["type"] for m in lists] == ["list"] * 3
    rows = [row for m in lists for section in m["action"]["sections"] for row in section["rows"]]
    assert [len(section["rows"]) for m in lists for section in m["action"]["sections"]] == [10, 10, 5]
    assert [r["id"] for r in rows] == [c.command for c in choices]
    assert all(units(r["title"]) <= 24 and units(r["description"]) <= 72 for r in rows)
    assert all(units(m["action"]["button"]) <= 20 for m in lists)
    assert all(units(s["title"]) <= 24 for m in lists for s in m["action"]["sections"])
    assert lists[0]["body"]["text"] == "Daftar produk" and lists[2]["body"]["text"].endswith("(3/3)")


async def test_emoji_count_double_against_the_limits(messenger: CloudApiMessenger, graph: FakeHttpServer) -> None:
    choices = tuple(Choice(f".produk E{n}", "🎮" * 30, "💎" * 80) for n in range(4))
    await messenger.send(TO, Reply("Pilih", choices=choices, choices_button="🛒" * 15))
    [message] = [interactive(b) for b in graph.bodies()]
    rows = message["action"]["sections"][0]["rows"]
    assert all(units(r["title"]) <= 24 and units(r["description"]) <= 72 for r in rows)
    assert units(message["action"]["button"]) <= 20


async def test_up_to_three_plain_choices_become_reply_buttons(messenger: CloudApiMessenger,
                                                              graph: FakeHttpServer) -> None:
    await messenger.send(TO, Reply("*Netflix* (DEMO1)", choices=(Choice(".buy DEMO1", "Beli DEMO1 sekarang juga ya"),)))
    [message] = [interactive(b) for b in graph.bodies()]
    assert message["type"] == "button"
    [button] = message["action"]["buttons"]
    assert button["reply"]["id"] == ".buy DEMO1" and units(button["reply"]["title"]) <= 20


async def test_a_payment_link_is_a_cta_url_button(messenger: CloudApiMessenger, graph: FakeHttpServer) -> None:
    url = "https://app.sandbox.midtrans.com/snap/v4/redirection/abc"
    await messenger.send(TO, Reply(f"Bayar di sini:\n{url}", link=LinkButton("Bayar sekarang juga lewat Midtrans", url)))
    [message] = [interactive(b) for b in graph.bodies()]
    assert message["type"] == "cta_url"
    assert message["action"]["parameters"]["url"] == url
    assert units(message["action"]["parameters"]["display_text"]) <= 20


async def test_a_link_reply_too_long_for_the_button_body_sends_the_text_first(messenger: CloudApiMessenger,
                                                                              graph: FakeHttpServer) -> None:
    url = "https://pay.example/INV-1"
    text = "Syarat:\n" + "\n".join("baris panjang " * 5 for _ in range(30))
    await messenger.send(TO, Reply(text, link=LinkButton("Bayar", url)))
    *texts, last = graph.bodies()
    assert "\n".join(t["text"]["body"] for t in texts) == text
    assert units(interactive(last)["body"]["text"]) <= 1024


@pytest.mark.parametrize("transient", [(429, {}), (500, {}), (503, {}), graph_error(400, 131056),
                                       graph_error(400, 130429)])
async def test_transient_refusals_are_retried_with_growing_backoff(transient: tuple[int, Any],
                                                                   messenger: CloudApiMessenger, graph: FakeHttpServer,
                                                                   sleeps: SleepRecorder) -> None:
    graph.answer_next(transient, transient)
    await messenger.send(TO, Reply("halo"))
    assert len(graph.requests) == 3
    assert sleeps.waits == [1.0, 4.0]


async def test_retries_are_bounded(messenger: CloudApiMessenger, graph: FakeHttpServer, sleeps: SleepRecorder) -> None:
    graph.answer_next(*[graph_error(400, 131056)] * 10)
    with pytest.raises(MessengerUnavailable):
        await messenger.send(TO, Reply("halo"))
    assert len(graph.requests) == 4
    assert sleeps.waits == [1.0, 4.0, 16.0]


@pytest.mark.parametrize("refusal", [graph_error(400, 131047), graph_error(400, 100), graph_error(401, 190),
                                     (404, {"error": "x"}), (400, "not json")])
async def test_other_refusals_are_not_retried_and_log_neither_token_nor_text(
        refusal: tuple[int, Any], messenger: CloudApiMessenger, graph: FakeHttpServer,
        caplog: pytest.LogCaptureFixture) -> None:
    graph.answer_next(refusal)
    secret_text = "kode voucher RAHASIA-123"
    with caplog.at_level(logging.DEBUG), pytest.raises(MessengerUnavailable):
        await messenger.send(TO, Reply(secret_text))
    assert len(graph.requests) == 1
    assert str(refusal[0]) in caplog.text
    assert ACCESS_TOKEN not in caplog.text and "RAHASIA" not in caplog.text and TO not in caplog.text


async def test_an_unreachable_api_is_messenger_unavailable(sleeps: SleepRecorder) -> None:
    with FakeHttpServer((200, {})) as server:
        url = server.url
    m = CloudApiMessenger(url, PHONE_NUMBER_ID, ACCESS_TOKEN, retry=RetryPolicy(attempts=2, base=1.0),
                          pace_seconds=0.0, sleep=sleeps)
    try:
        with pytest.raises(MessengerUnavailable):
            await m.send(TO, Reply("halo"))
    finally:
        await m.aclose()
    assert sleeps.waits == [1.0]


async def test_messages_to_one_customer_are_paced_and_keep_their_order(graph: FakeHttpServer,
                                                                       sleeps: SleepRecorder) -> None:
    m = CloudApiMessenger(graph.url, PHONE_NUMBER_ID, ACCESS_TOKEN, pace_seconds=2.0, sleep=sleeps)
    try:
        await asyncio.gather(m.send(TO, Reply("satu")), m.send(TO, Reply("dua")), m.send("6289876543210", Reply("lain")))
    finally:
        await m.aclose()
    to_budi = [b["text"]["body"] for b in graph.bodies() if b["to"] == TO]
    assert to_budi == ["satu", "dua"]
    # One gap before the second message to the same customer; none for another customer.
    assert len(sleeps.waits) == 1 and 0 < sleeps.waits[0] <= 2.0


async def test_the_alert_template_hook_sends_the_named_template(graph: FakeHttpServer) -> None:
    m = CloudApiMessenger(graph.url, PHONE_NUMBER_ID, ACCESS_TOKEN, pace_seconds=0.0, alert_template="tokowa_alert")
    try:
        await m.send_template(TO, "id", ("Stok DEMO1 tinggal 2",))
    finally:
        await m.aclose()
    [body] = graph.bodies()
    assert body["type"] == "template" and body["template"]["name"] == "tokowa_alert"
    assert body["template"]["components"][0]["parameters"] == [{"type": "text", "text": "Stok DEMO1 tinggal 2"}]


async def test_an_alert_to_an_admin_outside_the_24_hour_window_goes_again_as_the_template(
        graph: FakeHttpServer) -> None:
    m = CloudApiMessenger(graph.url, PHONE_NUMBER_ID, ACCESS_TOKEN, pace_seconds=0.0, alert_template="tokowa_alert",
                          admins=frozenset({TO}), template_language="id")
    graph.answer_next(graph_error(400, 131047))
    try:
        await m.send(TO, Reply("⚠️ Stok DEMO1 tinggal 2.\nTandai selesai: .ok 7"))
    finally:
        await m.aclose()
    plain, template = graph.bodies()
    assert plain["type"] == "text" and template["type"] == "template"
    assert template["template"]["name"] == "tokowa_alert" and template["template"]["language"] == {"code": "id"}
    assert template["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "⚠️ Stok DEMO1 tinggal 2. · Tandai selesai: .ok 7"}]


async def test_a_customer_outside_the_window_is_not_sent_a_template_and_the_outbox_keeps_the_message(
        graph: FakeHttpServer) -> None:
    m = CloudApiMessenger(graph.url, PHONE_NUMBER_ID, ACCESS_TOKEN, pace_seconds=0.0, alert_template="tokowa_alert",
                          admins=frozenset({"6281100000001"}))
    graph.answer_next(graph_error(400, 131047))
    try:
        with pytest.raises(MessengerUnavailable):
            await m.send(TO, Reply("📦 Pesanan INV-1"))
    finally:
        await m.aclose()
    assert [b["type"] for b in graph.bodies()] == ["text"]


async def test_a_send_returns_the_wamid_of_its_first_message(messenger: CloudApiMessenger,
                                                              graph: FakeHttpServer) -> None:
    graph.answer_next((200, {"messages": [{"id": "wamid.FIRST"}]}), (200, {"messages": [{"id": "wamid.SECOND"}]}))
    assert await messenger.send(TO, Reply("x" * 5000)) == "wamid.FIRST"  # split in two
    assert len(graph.requests) == 2
    graph.answer_next((200, {"messaging_product": "whatsapp"}))
    assert await messenger.send(TO, Reply("no id in the answer")) is None


async def test_a_reply_marked_as_template_goes_straight_as_the_alert_template(graph: FakeHttpServer) -> None:
    m = CloudApiMessenger(graph.url, PHONE_NUMBER_ID, ACCESS_TOKEN, pace_seconds=0.0, alert_template="tokowa_alert",
                          admins=frozenset({TO}))
    graph.answer_next((200, {"messages": [{"id": "wamid.T"}]}))
    try:
        assert await m.send(TO, Reply("🚨 Stok habis\nTandai selesai: .ok 3", as_template=True)) == "wamid.T"
    finally:
        await m.aclose()
    [body] = graph.bodies()
    assert body["type"] == "template"
    assert body["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "🚨 Stok habis · Tandai selesai: .ok 3"}]


def _only_proxy(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


async def test_http_proxy_from_the_environment_carries_the_sends(graph: FakeHttpServer, sleeps: SleepRecorder,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # The fake Graph API is the proxy: a proxied request names the whole URL of an unresolvable host.
    _only_proxy(monkeypatch, HTTP_PROXY=graph.url)
    m = CloudApiMessenger("http://graph.example.invalid/v21.0", PHONE_NUMBER_ID, ACCESS_TOKEN, pace_seconds=0.0,
                          sleep=sleeps)
    try:
        await m.send(TO, Reply("halo"))
        await m.send(TO, Reply("lagi"))
    finally:
        await m.aclose()
    assert [r.path for r in graph.requests] == [f"http://graph.example.invalid/v21.0/{PHONE_NUMBER_ID}/messages"] * 2
    assert graph.requests[0].headers["authorization"] == f"Bearer {ACCESS_TOKEN}"


async def test_https_proxy_is_asked_to_connect_and_no_proxy_is_honoured(sleeps: SleepRecorder,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[bytes] = []

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        asked.append(await reader.readline())
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    proxy = await asyncio.start_server(refuse, "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    try:
        for no_proxy, expected in (("", [b"CONNECT graph.example.invalid:443 HTTP/1.1\r\n"]),
                                   ("example.invalid", [])):
            asked.clear()
            _only_proxy(monkeypatch, HTTPS_PROXY=f"http://127.0.0.1:{port}", NO_PROXY=no_proxy)
            m = CloudApiMessenger("https://graph.example.invalid", PHONE_NUMBER_ID, ACCESS_TOKEN, pace_seconds=0.0,
                                  retry=RetryPolicy(attempts=1), sleep=sleeps)
            try:
                with pytest.raises(MessengerUnavailable):
                    await m.send(TO, Reply("halo"))
            finally:
                await m.aclose()
            assert asked == expected
    finally:
        proxy.close()
        await proxy.wait_closed()
