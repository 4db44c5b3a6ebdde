"""The production wiring (`build_application`) picks the transport from the settings: on the
embedded SQLite database, a signed webhook is answered through the real messenger."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from adapters.messaging.cloud_api import CloudApiMessenger
from adapters.messaging.gowa import GowaMessenger
from entrypoints.bootstrap import build_application, prepare_database
from entrypoints.web.app import create_app
from tests.whatsapp.conftest import (
    APP_SECRET, GOWA_SECRET, FakeHttpServer, WebhookApp, cloud_settings, gowa_settings, samples_dir,
)

async def _answer_one(settings_db: str, graph_or_gowa: FakeHttpServer, transport: str) -> type[object]:
    settings = (cloud_settings(graph_or_gowa.url, DATABASE_URL=settings_db) if transport == "cloud_api"
                else gowa_settings(graph_or_gowa.url, DATABASE_URL=settings_db))
    await prepare_database(settings)
    container = build_application(settings)
    app = create_app(settings, container)
    folder = samples_dir() / ("whatsapp" if transport == "cloud_api" else "gowa")
    path = "/webhooks/whatsapp" if transport == "cloud_api" else "/webhooks/gowa"
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                                                 base_url="http://testserver") as client:
        wrapped = WebhookApp(app, client, container)
        assert await wrapped.post(path, (folder / "text_produk.json").read_bytes(),
                                  secret=APP_SECRET if transport == "cloud_api" else GOWA_SECRET) == 200
        await wrapped.settle()
        kind = type(container.adapters.messenger())
    return kind


@pytest.mark.parametrize("transport", ["cloud_api", "gowa"])
async def test_the_configured_transport_answers_a_webhook(transport: str, tmp_path: Path,
                                                          graph: FakeHttpServer, gowa: FakeHttpServer) -> None:
    server = graph if transport == "cloud_api" else gowa
    kind = await _answer_one(f"sqlite+aiosqlite:///{tmp_path}/shop.db", server, transport)
    assert kind is (CloudApiMessenger if transport == "cloud_api" else GowaMessenger)
    assert len(server.requests) == 1
