"""Fakes for the WhatsApp transports on real HTTP (127.0.0.1): Meta's Graph API and a GOWA server,
and the web app on the in-memory wiring with the real messenger pointed at them."""

from __future__ import annotations

import asyncio
import email.policy
import json
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
import httpx
from litestar import Litestar

from adapters.messaging.cloud_api import CloudApiMessenger
from adapters.messaging.delivery import RetryPolicy
from adapters.messaging.gowa import GowaMessenger
from adapters.messaging.signature import sign
from entrypoints.bootstrap import build_in_memory
from entrypoints.container import Application
from entrypoints.settings import Settings
from entrypoints.web.app import create_app

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"
APP_SECRET = "test-app-secret"
GOWA_SECRET = "test-gowa-secret"
VERIFY_TOKEN = "verify-me-please"
ACCESS_TOKEN = "EAAG-test-access-token"
PHONE_NUMBER_ID = "100000000000001"
FAST_RETRY = RetryPolicy(attempts=4, base=0.001, factor=2.0)


def samples_dir() -> Path:
    for candidate in (SAMPLES, Path("/work/shared/samples")):
        if candidate.is_dir():
            return candidate
    raise RuntimeError("the shared samples folder is missing")


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes = b""  # the body as sent (multipart uploads)

    def form(self) -> dict[str, tuple[str | None, bytes]]:
        """A multipart/form-data body's fields: name -> (file name or None, content)."""
        message = BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode() + self.raw)
        assert message.is_multipart(), self.headers.get("content-type")
        return {str(part.get_param("name", header="content-disposition")): (part.get_filename(), part.get_payload(decode=True))
                for part in message.iter_parts()}


class FakeHttpServer:
    """Answers every request from a script (then a default), and records what it was sent."""

    def __init__(self, default: tuple[int, Any]) -> None:
        self.default = default
        self.script: deque[tuple[int, Any]] = deque()
        self.requests: list[Recorded] = []
        self.before_answer: Callable[[], object] | None = None
        # Answers chosen by the request (None: the script, then the default), e.g. by recipient.
        self.answer_for: Callable[[Recorded], tuple[int, Any] | None] | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                recorded = Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body, raw)
                fake.requests.append(recorded)
                if fake.before_answer is not None:
                    fake.before_answer()
                chosen = fake.answer_for(recorded) if fake.answer_for is not None else None
                status, answer = chosen or (fake.script.popleft() if fake.script else fake.default)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def answer_next(self, *responses: tuple[int, Any]) -> None:
        self.script.extend(responses)

    def bodies(self) -> list[Any]:
        return [r.body for r in self.requests]

    def __enter__(self) -> FakeHttpServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


GRAPH_OK = (200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT.fake"}]})
GOWA_OK = (200, {"code": "SUCCESS", "message": "Success", "results": {"message_id": "3EB0FAKE", "status": "sent"}})


def graph_error(status: int, code: int) -> tuple[int, Any]:
    return status, {"error": {"message": f"(#{code}) error", "type": "OAuthException", "code": code,
                              "fbtrace_id": "Atest"}}


@pytest.fixture
def graph() -> Iterator[FakeHttpServer]:
    with FakeHttpServer(GRAPH_OK) as server:
        yield server


@pytest.fixture
def gowa() -> Iterator[FakeHttpServer]:
    with FakeHttpServer(GOWA_OK) as server:
        yield server


def cloud_settings(graph_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN, "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_APP_SECRET": APP_SECRET, "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN, "WHATSAPP_API_URL": graph_url,
        "TOKOWA_SERVER_JOBS": False, "TOKOWA_PUBLIC_URL": "https://shop.example",
    }
    values.update(extra)
    return Settings(_env_file=None, **values)


def gowa_settings(gowa_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "GOWA_API_URL": gowa_url, "GOWA_USERNAME": "shop", "GOWA_PASSWORD": "gowa-pass",
        "GOWA_WEBHOOK_SECRET": GOWA_SECRET, "TOKOWA_SERVER_JOBS": False, "TOKOWA_PUBLIC_URL": "https://shop.example",
    }
    values.update(extra)
    return Settings(_env_file=None, **values)


class WebhookApp:
    """The web app on the in-memory wiring, with a client and a way to wait for background work."""

    def __init__(self, app: Litestar, client: httpx.AsyncClient, container: Application) -> None:
        self.app, self.client, self.container = app, client, container

    async def post(self, path: str, body: bytes, *, secret: str | None = None, signature: str | None = None) -> int:
        """POST a body signed with `secret`, or with the given `signature` header value."""
        headers = {"Content-Type": "application/json"}
        if signature is not None or secret is not None:
            headers["X-Hub-Signature-256"] = signature if signature is not None else sign(secret or "", body)
        response = await self.client.post(path, content=body, headers=headers)
        return response.status_code

    async def settle(self) -> None:
        """Wait until every message accepted so far has been processed and its replies sent."""
        await self.app.state.background.drain()


@pytest.fixture
async def cloud_app(graph: FakeHttpServer) -> AsyncIterator[WebhookApp]:
    async with running_app(cloud_settings(graph.url), messenger=providers.Singleton(
        CloudApiMessenger, api_url=graph.url, phone_number_id=PHONE_NUMBER_ID, access_token=ACCESS_TOKEN,
        retry=FAST_RETRY, pace_seconds=0.0,
    )) as app:
        yield app


@pytest.fixture
async def gowa_app(gowa: FakeHttpServer) -> AsyncIterator[WebhookApp]:
    async with running_app(gowa_settings(gowa.url), messenger=providers.Singleton(
        GowaMessenger, api_url=gowa.url, username="shop", password="gowa-pass", retry=FAST_RETRY, pace_seconds=0.0,
    )) as app:
        yield app


class running_app:  # noqa: N801 (used like a function)
    """`async with running_app(settings, messenger=provider) as app:` — lifespan included, all on
    the test's own event loop, so background work can be awaited. The lifespan runs in a task of
    its own (it must end in the task that started it, and fixtures tear down in another)."""

    def __init__(self, settings: Settings, messenger: Any = None) -> None:
        self.container = build_in_memory(settings)
        if messenger is not None:
            self.container.adapters.messenger.override(messenger)
        self.app = create_app(settings, self.container)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),  # type: ignore[arg-type]
                                        base_url="http://testserver")
        self._started, self._stop = asyncio.Event(), asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _hold(self) -> None:
        async with self.app.lifespan():
            self._started.set()
            await self._stop.wait()

    async def __aenter__(self) -> WebhookApp:
        self._task = asyncio.create_task(self._hold())
        started = asyncio.create_task(self._started.wait())
        await asyncio.wait({self._task, started}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            started.cancel()
            self._task.result()
        return WebhookApp(self.app, self.client, self.container)

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()
        self._stop.set()
        if self._task is not None:
            await self._task
