"""The webhooks' POSTs are answered in front of Litestar (entrypoints/web/hot_path.py) by the app
`create_app` returns, the one `tokowa serve` runs: the body limit, an unexpected error, a client
gone before its body, and everything else still reaching Litestar."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.messaging.signature import sign
from adapters.messaging.stats import DeliveryStats
from entrypoints.web.whatsapp import MAX_BODY_BYTES
from tests.whatsapp.conftest import APP_SECRET, GOWA_SECRET, FakeHttpServer, WebhookApp, samples_dir

PATH = "/webhooks/whatsapp"


def text_produk() -> bytes:
    return (samples_dir() / "whatsapp" / "text_produk.json").read_bytes()


@pytest.mark.parametrize("path, secret", [(PATH, APP_SECRET), ("/webhooks/gowa", GOWA_SECRET)])
async def test_a_body_over_8_mib_gets_413_and_one_at_the_limit_is_read(path: str, secret: str, cloud_app: WebhookApp,
                                                                       gowa_app: WebhookApp) -> None:
    app = cloud_app if path == PATH else gowa_app
    too_big = b" " * (MAX_BODY_BYTES - 1) + b"{}"
    response = await app.client.post(path, content=too_big, headers={"X-Hub-Signature-256": sign(secret, too_big)})
    assert response.status_code == 413
    assert response.json() == {"error": "Request Entity Too Large", "status_code": 413}
    at_limit = b" " * (MAX_BODY_BYTES - 2) + b"{}"
    assert await app.post(path, at_limit, secret=secret) == 400  # read, signed, and not a webhook payload


async def test_a_streamed_body_without_a_length_is_cut_at_the_limit(cloud_app: WebhookApp) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(9):
            yield b" " * (1024 * 1024)

    response = await cloud_app.client.post(PATH, content=chunks(), headers={"X-Hub-Signature-256": "sha256=00"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_an_unexpected_error_answers_503_json_is_logged_and_the_app_goes_on(
        cloud_app: WebhookApp, graph: FakeHttpServer, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def broken(self: DeliveryStats, outcome: str) -> None:
        raise RuntimeError("a bug in the webhook")

    monkeypatch.setattr(DeliveryStats, "record_webhook", broken)
    body = text_produk()
    with caplog.at_level(logging.ERROR, logger="tokowa.web"):
        response = await cloud_app.client.post(PATH, content=body, headers={"X-Hub-Signature-256": sign(APP_SECRET, body)})
    assert response.status_code == 503
    assert response.json() == {"error": "temporarily unavailable"}
    assert "a bug in the webhook" not in response.text
    assert any(r.message == "unhandled error" and r.exc_info for r in caplog.records)
    monkeypatch.undo()
    other = body.replace(b"wamid.", b"wamid.other.")
    assert other != body
    assert await cloud_app.post(PATH, other, secret=APP_SECRET) == 200
    await cloud_app.settle()


async def test_a_trailing_slash_reaches_the_webhook_and_other_requests_reach_litestar(cloud_app: WebhookApp) -> None:
    assert await cloud_app.post(PATH + "/", text_produk(), secret=APP_SECRET) == 200
    await cloud_app.settle()
    assert (await cloud_app.client.put(PATH, content=b"{}")).status_code == 405
    assert (await cloud_app.client.get(PATH, params={"hub.mode": "subscribe"})).status_code == 403
    assert (await cloud_app.client.get("/healthz")).status_code == 200
    assert (await cloud_app.client.post("/webhooks/whatsappx", content=b"{}")).status_code == 404


async def test_a_client_gone_before_its_body_gets_no_answer_and_nothing_is_recorded(
        cloud_app: WebhookApp, graph: FakeHttpServer) -> None:
    body = text_produk()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": PATH, "raw_path": PATH.encode(), "root_path": "", "query_string": b"",
             "headers": [(b"host", b"testserver"), (b"x-hub-signature-256", sign(APP_SECRET, body).encode()),
                         (b"content-length", str(len(body)).encode())]}
    await cloud_app.app(scope, receive, send)  # type: ignore[arg-type]
    assert sent == []
    assert await cloud_app.post(PATH, body, secret=APP_SECRET) == 200  # not a redelivery: it was never recorded
    await cloud_app.settle()
    assert len(graph.requests) == 1
