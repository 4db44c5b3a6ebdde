"""QR pictures on the real transports, against fakes on real HTTP: the Cloud API uploads the PNG
and sends it by media id with its caption, GOWA posts it to /send/image; both retry what asks to
be retried and send the link as text when the picture is refused for good. And through the
outbox: a send that keeps failing is kept and sent again later, picture included."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from adapters.clock import ManualClock
from adapters.memory.storage import MemoryStore, MemoryUnitOfWork
from adapters.messaging.cloud_api import CloudApiMessenger
from adapters.messaging.delivery import RetryPolicy
from adapters.messaging.gowa import GowaMessenger
from application.errors import MessengerUnavailable
from application.outbox import OutboxSender
from application.replies import QrImage, Reply
from tests.support.qr import decode_qr
from tests.whatsapp.conftest import ACCESS_TOKEN, PHONE_NUMBER_ID, FakeHttpServer, Recorded, graph_error

TO = "6281234567890"
QR = "00020101021226620014COM.GO-JEK.WWW011893600914300000000002150123456789ABC6304ABCD"
CAPTION = "🧾 Order INV-20261128-ABCDEFGHJKLM\n1x Netflix = *Rp 35.000*\nBayar dengan QRIS sebelum 10:15 WIB."
FALLBACK = "Gambar QR tidak bisa dikirim. Buka link ini:\nhttps://api.sandbox.midtrans.test/v2/qris/tx/qr-code"
REPLY = Reply(CAPTION, image=QrImage(QR, FALLBACK, "https://api.sandbox.midtrans.test/v2/qris/tx/qr-code"))
MEDIA_OK = (200, {"id": "1234567890123456"})


async def no_sleep(seconds: float) -> None:
    pass


@pytest.fixture
async def cloud(graph: FakeHttpServer) -> AsyncIterator[CloudApiMessenger]:
    m = CloudApiMessenger(graph.url, PHONE_NUMBER_ID, ACCESS_TOKEN, retry=RetryPolicy(attempts=3, base=0.001),
                          pace_seconds=0.0, sleep=no_sleep)
    yield m
    await m.aclose()


@pytest.fixture
async def gowa_messenger(gowa: FakeHttpServer) -> AsyncIterator[GowaMessenger]:
    m = GowaMessenger(gowa.url, "shop", "gowa-pass", retry=RetryPolicy(attempts=3, base=0.001), pace_seconds=0.0,
                      sleep=no_sleep)
    yield m
    await m.aclose()


def the_picture(request: Recorded, field: str) -> bytes:
    name, content = request.form()[field]
    assert name == "qr.png"
    return content


async def test_cloud_api_uploads_the_png_and_sends_it_by_media_id_with_the_caption(
        cloud: CloudApiMessenger, graph: FakeHttpServer) -> None:
    graph.answer_next(MEDIA_OK)
    await cloud.send(TO, REPLY)
    upload, message = graph.requests
    assert upload.path == f"/{PHONE_NUMBER_ID}/media"
    assert upload.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    form = upload.form()
    assert form["messaging_product"] == (None, b"whatsapp") and form["type"] == (None, b"image/png")
    assert decode_qr(the_picture(upload, "file")) == [QR]
    assert message.path == f"/{PHONE_NUMBER_ID}/messages"
    assert message.body["to"] == TO and message.body["type"] == "image"
    assert message.body["image"] == {"id": "1234567890123456", "caption": CAPTION}


async def test_cloud_api_retries_an_upload_meta_asks_to_retry(cloud: CloudApiMessenger, graph: FakeHttpServer) -> None:
    graph.answer_next((503, {}), graph_error(400, 130429), MEDIA_OK)
    await cloud.send(TO, REPLY)
    assert [r.path.rsplit("/", 1)[1] for r in graph.requests] == ["media", "media", "media", "messages"]
    assert graph.requests[-1].body["type"] == "image"


@pytest.mark.parametrize("refusal", ["upload", "image"])
async def test_cloud_api_sends_the_link_as_text_when_the_picture_is_refused(
        refusal: str, cloud: CloudApiMessenger, graph: FakeHttpServer) -> None:
    if refusal == "upload":
        graph.answer_next(graph_error(400, 131053))  # media upload error
    else:
        graph.answer_next(MEDIA_OK, graph_error(400, 131052))
    await cloud.send(TO, REPLY)
    last = graph.requests[-1]
    assert last.body["type"] == "text" and last.body["text"]["body"] == FALLBACK
    assert sum(r.path.endswith("/messages") for r in graph.requests) == (1 if refusal == "upload" else 2)


async def test_cloud_api_upload_that_keeps_failing_is_unavailable(cloud: CloudApiMessenger, graph: FakeHttpServer) -> None:
    graph.answer_next((500, {}), (500, {}), (500, {}))
    with pytest.raises(MessengerUnavailable):
        await cloud.send(TO, REPLY)
    assert all(r.path.endswith("/media") for r in graph.requests)  # no link instead: the outbox tries again


async def test_a_caption_too_long_for_meta_goes_first_as_text(cloud: CloudApiMessenger, graph: FakeHttpServer) -> None:
    graph.answer_next(MEDIA_OK)
    long = Reply("x" * 1500, image=REPLY.image)
    await cloud.send(TO, long)
    _, text, image = graph.requests
    assert text.body["text"]["body"] == "x" * 1500 and image.body["image"] == {"id": "1234567890123456"}


async def test_gowa_posts_the_picture_to_send_image_with_caption_and_basic_auth(
        gowa_messenger: GowaMessenger, gowa: FakeHttpServer) -> None:
    await gowa_messenger.send(TO, REPLY)
    [request] = gowa.requests
    assert request.path == "/send/image"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"shop:gowa-pass").decode()
    form = request.form()
    assert form["phone"] == (None, f"{TO}@s.whatsapp.net".encode())
    assert form["caption"] == (None, CAPTION.encode())
    assert decode_qr(the_picture(request, "image")) == [QR]


async def test_gowa_retries_then_falls_back_to_the_link(gowa_messenger: GowaMessenger, gowa: FakeHttpServer) -> None:
    gowa.answer_next((500, {"code": "INTERNAL_SERVER_ERROR"}), (400, {"code": "BAD_REQUEST", "message": "bad image"}))
    await gowa_messenger.send(TO, REPLY)
    assert [r.path for r in gowa.requests] == ["/send/image", "/send/image", "/send/message"]
    assert gowa.requests[-1].body == {"phone": f"{TO}@s.whatsapp.net", "message": FALLBACK}


async def test_the_outbox_sends_a_failed_picture_again_later(graph: FakeHttpServer) -> None:
    """The picture is kept in the outbox (as its QR string) and goes out whole on a later try."""
    store, clock = MemoryStore(), ManualClock()
    cloud = CloudApiMessenger(graph.url, PHONE_NUMBER_ID, ACCESS_TOKEN, retry=RetryPolicy(attempts=1, base=0.001),
                              pace_seconds=0.0, sleep=no_sleep)
    sender = OutboxSender(lambda: MemoryUnitOfWork(store), cloud, clock)
    async with MemoryUnitOfWork(store) as uow:
        queued = await sender.queue(uow, TO, REPLY)
        await uow.commit()
    graph.answer_next((503, {}))
    await sender.deliver([queued])
    assert [r.path.rsplit("/", 1)[1] for r in graph.requests] == ["media"]

    clock.advance(seconds=60)
    graph.answer_next(MEDIA_OK)
    assert await sender.drain() == 1
    assert graph.requests[-1].body["image"] == {"id": "1234567890123456", "caption": CAPTION}
    assert decode_qr(graph.requests[-2].form()["file"][1]) == [QR]
    async with MemoryUnitOfWork(store) as uow:
        assert await uow.outbox.pending_count() == 0
    await cloud.aclose()
