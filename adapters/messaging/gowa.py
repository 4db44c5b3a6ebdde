"""Sending through GOWA's REST API (a self-hosted WhatsApp Web gateway).

`POST {GOWA_API_URL}/send/message` with `{"phone": "62...@s.whatsapp.net", "message": ...}` and
Basic auth. WhatsApp Web has no interactive messages: a reply is its text, plus the link's URL
and the choices as a numbered list of the commands to type. 429, 5xx and network errors are
retried with backoff; other refusals are logged (status only) and raised as MessengerUnavailable.
A QR picture goes as `POST {GOWA_API_URL}/send/image` (multipart: phone, caption, image); when
GOWA refuses it for good, the reply's fallback text (with the link) goes instead.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from adapters.messaging.cloud_api_messages import TEXT_MAX, split_text
from collections.abc import Awaitable, Callable

from adapters.messaging.delivery import (
    RecipientPacer, Refused, RetryPolicy, Sleep, Verdict, masked, send_with_retries,
)
from adapters.messaging.gowa_payload import USER_SERVER
from adapters.messaging.qr_image import qr_png
from application.replies import Reply

log = logging.getLogger("tokowa.whatsapp")


def as_text(reply: Reply) -> str:
    """The whole reply as plain text: text, link URL, then the choices as commands."""
    parts = [reply.text.rstrip()]
    if reply.link is not None and reply.link.url not in reply.text:
        parts.append(f"{reply.link.label}: {reply.link.url}")
    if reply.choices:
        parts.append("\n".join(
            f"{n}. {c.command} — {c.title}" if c.title and c.title != c.command else f"{n}. {c.command}"
            for n, c in enumerate(reply.choices, 1)
        ))
    return "\n\n".join(part for part in parts if part)


class GowaMessenger:
    """The Messenger port on GOWA: text, and QR pictures."""

    def __init__(self, api_url: str, username: str | None, password: str | None, *, timeout: float = 10.0,
                 retry: RetryPolicy = RetryPolicy(), pace_seconds: float = 1.0, sleep: Sleep = asyncio.sleep) -> None:
        self._url = f"{api_url.rstrip('/')}/send/message"
        self._image_url = f"{api_url.rstrip('/')}/send/image"
        auth = httpx.BasicAuth(username, password or "") if username else None
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), auth=auth)
        self._retry, self._sleep = retry, sleep
        self._pacer = RecipientPacer(pace_seconds, sleep)

    async def send(self, to: str, reply: Reply) -> None:
        phone = f"{to}@{USER_SERVER}"
        if reply.image is not None:
            png = qr_png(reply.image.data)
            form = {"phone": phone, "caption": reply.text, "compress": "false"}
            try:
                await self._post(to, lambda: self._client.post(
                    self._image_url, data=form, files={"image": ("qr.png", png, "image/png")}))
                return
            except Refused:
                log.warning("gowa refused a QR picture to %s; sending its link as text", masked(to))
                reply = Reply(reply.image.fallback)
        for chunk in split_text(as_text(reply), TEXT_MAX):
            body = {"phone": phone, "message": chunk}
            await self._post(to, lambda: self._client.post(self._url, json=body))

    async def _post(self, to: str, post: Callable[[], Awaitable[httpx.Response]]) -> None:
        def judge(response: httpx.Response) -> Verdict:
            return self._judge(response, to)

        async with self._pacer.turn(to):
            await send_with_retries(post, judge, self._retry, self._sleep, "gowa")

    @staticmethod
    def _judge(response: httpx.Response, to: str) -> Verdict:
        status = response.status_code
        if 200 <= status < 300:
            return Verdict.SENT
        if status == 429 or status >= 500:
            log.info("gowa asks to retry: HTTP %s", status)
            return Verdict.RETRY
        log.warning("gowa refused a message to %s: HTTP %s", masked(to), status)
        return Verdict.REFUSED

    async def aclose(self) -> None:
        await self._client.aclose()
