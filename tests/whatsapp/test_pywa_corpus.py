"""Every update of the pywa corpus (real-world Cloud API webhooks), signed with the test secret:
always 200, and replies only to what a customer really sent — commands for text, list and
button replies, the short hint for media, nothing for anything else."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.whatsapp.conftest import APP_SECRET, FakeHttpServer, WebhookApp, samples_dir

CORPUS = samples_dir() / "pywa-updates"
SENDER = "972987654321"

# What a customer sent, and so what must be answered; every other update gets no reply at all.
ANSWERED = {
    ("message", name) for name in (
        "text", "reply", "forwarded", "forwarded_many_times", "referral",          # text
        "image", "media_with_url", "video", "document", "audio", "voice",          # media: the hint
        "static_sticker", "animated_sticker", "current_location", "chosen_location", "contacts", "order",
        "unsupported", "unsupported_with_type",
    )
} | {("callback_button", n) for n in ("button", "quick_reply", "quick_reply_without_context")} \
  | {("callback_selection", n) for n in ("callback", "description")}


def updates() -> list[tuple[str, str, Any]]:
    found = []
    for path in sorted(CORPUS.glob("*.json")):
        for name, body in json.loads(path.read_text(encoding="utf-8")).items():
            found.append((path.stem, name, body))
    return found


ALL = updates()


def test_the_corpus_is_all_there() -> None:
    assert len(ALL) == 74
    assert ANSWERED <= {(f, n) for f, n, _ in ALL}


@pytest.mark.parametrize(("file", "name", "body"), ALL, ids=[f"{f}:{n}" for f, n, _ in ALL])
async def test_each_update_gets_200_and_a_reply_only_when_a_customer_wrote(
        file: str, name: str, body: Any, cloud_app: WebhookApp, graph: FakeHttpServer) -> None:
    assert await cloud_app.post("/webhooks/whatsapp", json.dumps(body).encode(), secret=APP_SECRET) == 200
    await cloud_app.settle()
    recipients = [b["to"] for b in graph.bodies()]
    if (file, name) in ANSWERED:
        assert recipients == [SENDER]
    else:
        assert recipients == []


async def test_the_whole_corpus_in_one_shop_never_fails_and_answers_only_the_sender(
        cloud_app: WebhookApp, graph: FakeHttpServer) -> None:
    for _, _, body in ALL:
        assert await cloud_app.post("/webhooks/whatsapp", json.dumps(body).encode(), secret=APP_SECRET) == 200
    await cloud_app.settle()
    assert graph.bodies(), "the customer's first message is answered"
    assert {b["to"] for b in graph.bodies()} == {SENDER}
