"""`POST /webhooks/gowa`: GOWA's webhook (registered only with the GOWA transport).

401 unless `X-Hub-Signature-256` is `sha256=<hex HMAC-SHA256 of the raw body>` with
GOWA_WEBHOOK_SECRET; 400 malformed; 503 when the database cannot record the message; else 200
once it is recorded. Own messages (`is_from_me`) are never executed; group chats only with
TOKOWA_GOWA_GROUPS=true.

`GowaWebhook` is free of any web framework: the app answers it on its hot path
(`entrypoints/web/hot_path.py`), before Litestar's routing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from adapters.messaging.cloud_api_payload import MalformedPayload
from adapters.messaging.gowa_payload import parse_gowa
from adapters.messaging.signature import signature_valid
from application.chat.pipeline import ChatPipeline
from application.errors import StorageUnavailable
from entrypoints.web.intake import BackgroundTasks, accept_and_schedule
from entrypoints.web.whatsapp import BAD_SIGNATURE, OK, RETRY_LATER, WebhookAnswer, malformed

log = logging.getLogger("tokowa.web.gowa")

PATH = "/webhooks/gowa"


class GowaWebhook:
    """`POST /webhooks/gowa`: the raw body and its `X-Hub-Signature-256` header in, the status code
    and JSON body of the answer out."""

    def __init__(self, secret: str | None, groups: bool, pipeline: Callable[[], ChatPipeline],
                 background: BackgroundTasks) -> None:
        self._secret, self._groups, self._pipeline, self._background = secret, groups, pipeline, background

    async def __call__(self, body: bytes, signature: str | None) -> WebhookAnswer:
        if not signature_valid(self._secret, body, signature):
            log.warning("gowa webhook with a missing or bad signature refused")
            return BAD_SIGNATURE
        try:
            messages = parse_gowa(body, groups=self._groups)
        except MalformedPayload as error:
            return malformed(error)
        try:
            await accept_and_schedule(self._pipeline(), messages, self._background)
        except StorageUnavailable:
            return RETRY_LATER
        return OK
