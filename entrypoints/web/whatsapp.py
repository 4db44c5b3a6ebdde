"""`/webhooks/whatsapp`: the WhatsApp Cloud API webhook (registered only with that transport).

GET: Meta's verification (`hub.mode=subscribe`, `hub.verify_token`) -> `hub.challenge` as
text/plain, else 403. POST: 401 unless `X-Hub-Signature-256` signs the raw body with
WHATSAPP_APP_SECRET; 400 malformed; 503 when the database cannot record the messages (Meta
retries); else 200 as soon as every message of the batch is recorded. Statuses are counted, and
replies are sent in the background. A `failed` status with error 131047 (the recipient had not
written for 24 hours) hands the message it names back to the outbox (`refused_later`): an admin's
alert goes again as the alert template, anything else is held until its recipient writes again.

The POST is `CloudApiWebhook`, free of any web framework: the app answers it on its hot path
(`entrypoints/web/hot_path.py`), before Litestar's routing; the GET is a Litestar route.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any

from litestar import MediaType, Request, Router, get
from litestar.response import Response

from adapters.messaging.cloud_api_payload import MalformedPayload, parse_cloud_api
from adapters.messaging.signature import signature_valid
from adapters.messaging.stats import DeliveryStats
from application.chat.pipeline import ChatPipeline
from application.errors import StorageUnavailable
from application.outbox import OutboxSender
from entrypoints.settings import Settings
from entrypoints.web.hot_path import prebuilt_answer
from entrypoints.web.intake import BackgroundTasks, accept_and_schedule

log = logging.getLogger("tokowa.web.whatsapp")

PATH = "/webhooks/whatsapp"
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_CHALLENGE = 256
OUTSIDE_WINDOW = 131047  # Meta: more than 24 hours since the recipient last wrote

WebhookAnswer = tuple[int, dict[str, str]]
OK: WebhookAnswer = (200, {"status": "ok"})
BAD_SIGNATURE: WebhookAnswer = (401, {"error": "bad signature"})
RETRY_LATER: WebhookAnswer = (503, {"error": "temporarily unavailable, retry later"})
prebuilt_answer(OK, BAD_SIGNATURE, RETRY_LATER)


def malformed(error: MalformedPayload) -> WebhookAnswer:
    return 400, {"error": f"malformed payload: {error}"}


class CloudApiWebhook:
    """`POST /webhooks/whatsapp`: the raw body and its `X-Hub-Signature-256` header in, the
    status code and JSON body of the answer out."""

    def __init__(self, secret: str | None, pipeline: Callable[[], ChatPipeline], background: BackgroundTasks,
                 stats: DeliveryStats, outbox: Callable[[], OutboxSender]) -> None:
        self._secret, self._pipeline, self._background = secret, pipeline, background
        self._stats, self._outbox = stats, outbox

    async def __call__(self, body: bytes, signature: str | None) -> WebhookAnswer:
        stats = self._stats
        if not signature_valid(self._secret, body, signature):
            stats.record_webhook("unsigned")
            log.warning("cloud api webhook with a missing or bad signature refused")
            return BAD_SIGNATURE
        try:
            batch = parse_cloud_api(body)
        except MalformedPayload as error:
            stats.record_webhook("malformed")
            return malformed(error)
        for status in batch.statuses:
            stats.record_status(status)
        try:
            await accept_and_schedule(self._pipeline(), batch.messages, self._background)
            for status in batch.statuses:
                if status.status == "failed" and OUTSIDE_WINDOW in status.error_codes:
                    # Handled before answering: with the database down Meta retries (a repeat is harmless).
                    outbox = self._outbox()
                    queued = await outbox.refused_later(status.message_id)
                    if queued:
                        self._background.spawn(outbox.deliver(queued))
        except StorageUnavailable:
            stats.record_webhook("deferred")
            return RETRY_LATER
        stats.record_webhook("accepted")
        return OK


def whatsapp_router(settings: Settings) -> Router:
    """Meta's verification route (GET), bound to this app's verify token."""
    verify_token = settings.whatsapp_verify_token

    @get("/", media_type=MediaType.TEXT, include_in_schema=False)
    async def verify(request: Request[Any, Any, Any]) -> Response[str]:
        params = request.query_params
        token, challenge = params.get("hub.verify_token"), params.get("hub.challenge")
        if (params.get("hub.mode") == "subscribe" and verify_token and token is not None and challenge
                and len(challenge) <= MAX_CHALLENGE
                and hmac.compare_digest(token.encode("utf-8"), verify_token.encode("utf-8"))):
            return Response(challenge, media_type=MediaType.TEXT)
        return Response("forbidden", status_code=403, media_type=MediaType.TEXT)

    return Router(path=PATH, route_handlers=[verify])
