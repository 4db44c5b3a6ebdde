"""The app itself: Litestar, with the provider webhooks' POSTs answered in front of it.

A webhook POST is the one request that comes with every customer message, so it skips
Litestar's per-request layers (routing, the handler's kwargs and response model, the exception
middleware): `TokowaApp.__call__` reads the body (at most 8 MiB, else 413), hands it with its
`X-Hub-Signature-256` header to the webhook (`CloudApiWebhook`, `GowaWebhook`: plain functions
of the body) and writes the JSON answer. Every other request, and the lifespan, go to Litestar
untouched. The app is still the Litestar app `create_app` returns (its `state`, `lifespan`, the
test clients), so the tests and `tokowa serve` run the very same callable.

An exception a webhook did not expect answers 503 JSON and is logged, as Litestar's exception
handler (`app._internal_error`) does for the other routes: the provider retries later.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import HTTPScope, LifeSpanReceive, LifeSpanScope, LifeSpanSend, Receive, Scope, Send

log = logging.getLogger("tokowa.web")

Webhook = Callable[[bytes, str | None], Awaitable[tuple[int, dict[str, str]]]]

_HTTP: str = ScopeType.HTTP.value  # a plain str: compared on every request
_SIGNATURE = b"x-hub-signature-256"
_CONTENT_LENGTH = b"content-length"
_JSON = (b"content-type", b"application/json")
_TOO_LARGE: tuple[int, Mapping[str, object]] = (413, {"error": "Request Entity Too Large", "status_code": 413})
_UNAVAILABLE: tuple[int, Mapping[str, object]] = (503, {"error": "temporarily unavailable"})
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
# The answers webhooks return as constants (`OK`...), by identity: their JSON and headers are built
# once, not per message. Only objects that live as long as the process are kept (an id is unique
# while its object lives, and `_answer` checks the entry is that very object).
_PREBUILT: dict[int, tuple[object, bytes, tuple[tuple[bytes, bytes], ...]]] = {}


def _encoded(answer: Mapping[str, object]) -> tuple[bytes, tuple[tuple[bytes, bytes], ...]]:
    data = _encode(answer).encode()
    return data, (_JSON, (_CONTENT_LENGTH, str(len(data)).encode("ascii")))  # a tuple: shared, never changed


def prebuilt_answer(*answers: tuple[int, Mapping[str, object]]) -> None:
    """Register constant answers (module-level tuples, never changed): their JSON is built once."""
    for answer in answers:
        _PREBUILT[id(answer)] = (answer, *_encoded(answer[1]))


prebuilt_answer(_TOO_LARGE, _UNAVAILABLE)


class _TooLarge(Exception):
    """The body is larger than the webhook takes."""


class _Disconnected(Exception):
    """The client went away before its body was read."""


class TokowaApp(Litestar):
    """Litestar, plus `webhooks`: POST paths answered before Litestar sees the request, each with
    its webhook and its largest body in bytes. Litestar's own arguments otherwise."""

    def __init__(self, *args: Any, webhooks: Mapping[str, tuple[Webhook, int]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.webhooks = {path.rstrip("/"): route for path, route in (webhooks or {}).items()}

    async def __call__(self, scope: Scope | LifeSpanScope, receive: Receive | LifeSpanReceive,
                       send: Send | LifeSpanSend) -> None:
        if scope["type"] == _HTTP and (http := cast("HTTPScope", scope))["method"] == "POST":
            path = http["path"]
            if root := http.get("root_path", ""):
                path = path.split(root, maxsplit=1)[-1]  # as Litestar's router
            route = self.webhooks.get(path.rstrip("/") if path.endswith("/") else path)
            if route is not None:
                await _answer(route[0], route[1], http, cast("Receive", receive), cast("Send", send))
                return
        await super().__call__(scope, receive, send)


async def _answer(webhook: Webhook, limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    signature: str | None = None
    declared = 0
    for name, value in scope["headers"]:
        if name == _SIGNATURE and signature is None:  # the first one, as Litestar's headers.get
            signature = value.decode("latin-1")
        elif name == _CONTENT_LENGTH:
            try:
                declared = int(value)
            except ValueError:
                declared = 0
    result: tuple[int, Mapping[str, object]]
    try:
        if declared > limit:
            raise _TooLarge
        result = await webhook(await _read_body(receive, limit), signature)
    except _TooLarge:
        result = _TOO_LARGE
    except _Disconnected:
        return  # nobody is left to answer (the body was not read: nothing was accepted)
    except Exception:
        log.exception("unhandled error")
        result = _UNAVAILABLE
    known = _PREBUILT.get(id(result))
    if known is not None and known[0] is result:
        data, headers = known[1], known[2]
    else:
        data, headers = _encoded(result[1])
    await send({"type": "http.response.start", "status": result[0], "headers": headers})
    await send({"type": "http.response.body", "body": data, "more_body": False})


async def _read_body(receive: Receive, limit: int) -> bytes:
    message = await receive()
    if message["type"] != "http.request":
        raise _Disconnected
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > limit:
            raise _TooLarge
        return body
    chunks, size = [body], len(body)
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
