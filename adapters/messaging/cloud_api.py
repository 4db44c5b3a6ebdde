"""Sending through the WhatsApp Cloud API (Meta's Graph API).

`POST {api_url}/{phone_number_id}/messages` with the access token as Bearer. 429, 5xx and Meta's
throttling codes 130429 (throughput) and 131056 (too many messages to one user), which come with
HTTP 400, are retried with exponential backoff; any other refusal is logged (HTTP status and
Meta's error code only: never the token, never the message) and raised as MessengerUnavailable.

A reply with a QR picture: the PNG is uploaded (`POST {api_url}/{phone_number_id}/media`,
multipart) and sent by its media id with the reply's text as caption. When Meta refuses the
upload or the image message for good, the reply's fallback text (with the link) goes instead;
when it keeps asking to retry, MessengerUnavailable, and the outbox tries the whole reply later.

The HTTP client is aiohttp (keep-alive pool of 100 connections), not httpx: in the raw reference
app (bench/README.md) the same POST through httpx cost about 2 ms more CPU per purchase, twice the
whole app's CPU per purchase with aiohttp.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import certifi
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from adapters.messaging.cloud_api_messages import Message, build_messages, split_text, units
from adapters.messaging.delivery import (
    OutsideWindow, RecipientPacer, Refused, RetryPolicy, Sleep, Verdict, masked, send_with_retries,
)
from adapters.messaging.qr_image import qr_png
from application.replies import QrImage, Reply

log = logging.getLogger("tokowa.whatsapp")

RETRIED_ERROR_CODES = frozenset({130429, 131056})
OUTSIDE_WINDOW = 131047  # more than 24 hours since the recipient last wrote: only a template goes
TEMPLATE_TEXT_MAX = 1024  # a template body parameter's limit
CAPTION_MAX = 1024


@dataclass(frozen=True)
class HttpAnswer:
    """A Graph API response, read in full (the connection goes back to the pool at once)."""

    status_code: int
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class _JsonBody(Protocol):
    def json(self) -> Any: ...


def meta_error(response: _JsonBody) -> tuple[int | None, str]:
    """Meta's `error.code` and `error.type` from a refusal, when the body has them."""
    try:
        data = response.json()
    except ValueError:
        return None, ""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, ""
    code = error.get("code")
    return (code if isinstance(code, int) else None), str(error.get("type", ""))


class CloudApiMessenger:
    """The Messenger port on the Cloud API: interactive lists, buttons and CTA-URL buttons."""

    def __init__(self, api_url: str, phone_number_id: str, access_token: str, *, timeout: float = 10.0,
                 retry: RetryPolicy = RetryPolicy(), pace_seconds: float = 1.0, sleep: Sleep = asyncio.sleep,
                 alert_template: str | None = None, admins: frozenset[str] = frozenset(),
                 template_language: str = "id") -> None:
        self._url = f"{api_url.rstrip('/')}/{phone_number_id}/messages"
        self._media_url = f"{api_url.rstrip('/')}/{phone_number_id}/media"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0))
        self._session: aiohttp.ClientSession | None = None  # made on first use: it needs the running loop
        self._retry, self._sleep = retry, sleep
        self._pacer = RecipientPacer(pace_seconds, sleep)
        self.alert_template = alert_template
        self._admins, self._template_language = admins, template_language

    async def send(self, to: str, reply: Reply) -> str | None:
        """The wamid of the first message sent (a reply may take several)."""
        if reply.as_template and self.alert_template:
            # Refused as free text outside the window (reported by a status webhook): the template.
            return await self.send_template(to, self._template_language, (_template_text(reply.text),))
        try:
            if reply.image is not None:
                return await self._send_image(to, reply.text, reply.image)
            ids = [await self._post(to, message) for message in build_messages(reply)]
            return next((i for i in ids if i), None)
        except OutsideWindow:
            if to not in self._admins or not self.alert_template:
                raise  # the outbox holds it until the number writes again
            # An alert or reminder to an admin who has not written for 24 hours: the approved template.
            log.info("admin %s is outside the 24-hour window; sending the alert template", masked(to))
            return await self.send_template(to, self._template_language, (_template_text(reply.text),))

    async def _send_image(self, to: str, caption: str, image: QrImage) -> str | None:
        messages: list[Message] = []
        if units(caption) > CAPTION_MAX:  # the text goes first, the picture without a caption
            messages, caption = [{"type": "text", "text": {"body": c, "preview_url": False}} for c in split_text(caption)], ""
        try:
            media_id = await self._upload(to, qr_png(image.data))
            ids = [await self._post(to, message) for message in messages]
            picture: dict[str, Any] = {"id": media_id}
            if caption:
                picture["caption"] = caption
            ids.append(await self._post(to, {"type": "image", "image": picture}))
        except OutsideWindow:
            raise
        except Refused:
            log.warning("cloud api refused a QR picture to %s; sending its link as text", masked(to))
            ids = [await self._post(to, {"type": "text", "text": {"body": chunk, "preview_url": False}})
                   for chunk in split_text(image.fallback)]
        return next((i for i in ids if i), None)

    async def _upload(self, to: str, png: bytes) -> str:
        """Upload a PNG; its media id."""
        form = {"messaging_product": "whatsapp", "type": "image/png"}

        def upload() -> Any:
            data = aiohttp.FormData(form)
            data.add_field("file", png, filename="qr.png", content_type="image/png")
            return self._request(self._media_url, data=data)

        def judge(response: HttpAnswer) -> Verdict:
            verdict = self._judge(response, to)
            if verdict is Verdict.SENT and not isinstance(_json(response).get("id"), str):
                log.warning("cloud api media upload answered without an id")
                return Verdict.REFUSED
            return verdict

        response = await send_with_retries(upload, judge, self._retry, self._sleep, "cloud api media")
        return str(_json(response)["id"])

    async def send_template(self, to: str, language: str, parameters: tuple[str, ...] = ()) -> str | None:
        """Send the approved template named by WHATSAPP_ALERT_TEMPLATE (admin alerts outside the
        24-hour window, where free-form messages fail with 131047; `send` falls back to it); its wamid."""
        if not self.alert_template:
            return None
        template: dict[str, Any] = {"name": self.alert_template, "language": {"code": language}}
        if parameters:
            template["components"] = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}]
        return await self._post(to, {"type": "template", "template": template})

    async def _post(self, to: str, message: Message) -> str | None:
        """Send one message; the wamid Meta gave it (`messages[0].id`), when the answer has one."""
        payload = _encode({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **message}).encode()

        def judge(response: HttpAnswer) -> Verdict:
            return self._judge(response, to)

        async with self._pacer.turn(to):
            response = await send_with_retries(lambda: self._request(self._url, data=payload, headers=_JSON), judge,
                                               self._retry, self._sleep, "cloud api")
        return _message_id(response)

    async def _request(self, url: str, **kwargs: Any) -> HttpAnswer:
        if self._session is None or self._session.closed:
            # As httpx did: Mozilla's CA bundle (certifi; a slim container without system CAs still
            # verifies Meta) and HTTP(S)_PROXY / NO_PROXY from the environment, read here once:
            # aiohttp's trust_env would read them, and ~/.netrc, in a thread on every request.
            tls = ssl.create_default_context(cafile=certifi.where())
            proxy, proxy_auth = environment_proxy(self._url)
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout, trust_env=False,
                                                  proxy=proxy, proxy_auth=proxy_auth,
                                                  connector=aiohttp.TCPConnector(limit=100, ssl=tls))
        async with self._session.post(url, allow_redirects=False, **kwargs) as response:  # as httpx: not followed
            return HttpAnswer(response.status, await response.read())

    @staticmethod
    def _judge(response: HttpAnswer, to: str) -> Verdict:
        status = response.status_code
        if 200 <= status < 300:
            return Verdict.SENT
        code, kind = meta_error(response)
        if status == 429 or status >= 500 or code in RETRIED_ERROR_CODES:
            log.info("cloud api asks to retry: HTTP %s, error code %s", status, code)
            return Verdict.RETRY
        if code == OUTSIDE_WINDOW:
            log.warning("cloud api refused a message to %s: HTTP %s, error code %s (not written for 24 hours)",
                        masked(to), status, code)
            return Verdict.OUTSIDE_WINDOW
        log.warning("cloud api refused a message to %s: HTTP %s, error code %s %s", masked(to), status, code, kind)
        return Verdict.REFUSED

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def environment_proxy(url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
    """The proxy aiohttp's `trust_env` would use for `url` (every URL of a messenger is on one
    host): HTTP_PROXY / HTTPS_PROXY by the URL's scheme, none for a host NO_PROXY lists; the
    proxy's credentials from its URL or ~/.netrc."""
    try:
        return get_env_proxy_for_url(URL(url))
    except LookupError:
        return None, None


def _template_text(text: str) -> str:
    """The alert as one template parameter: no line breaks or tabs (Meta refuses them there),
    cut to the parameter's limit."""
    flat = " · ".join(line.strip() for line in text.splitlines() if line.strip()).replace("\t", " ")
    return flat if len(flat) <= TEMPLATE_TEXT_MAX else flat[:TEMPLATE_TEXT_MAX - 1] + "…"


def _message_id(response: HttpAnswer) -> str | None:
    messages = _json(response).get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        message_id = messages[0].get("id")
        if isinstance(message_id, str) and message_id:
            return message_id
    return None


_JSON = {"Content-Type": "application/json"}
_encode = json.JSONEncoder(ensure_ascii=False).encode  # as json.dumps(..., ensure_ascii=False), built once


def _json(response: HttpAnswer) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
