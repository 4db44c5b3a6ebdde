"""`POST /webhooks/gowa`: GOWA's webhook (registered only with the GOWA transport).

401 unless `X-Hub-Signature-256` is `sha256=<hex HMAC-SHA256 of the raw body>` with
GOWA_WEBHOOK_SECRET; 400 malformed; 503 when the database cannot record the message; else 200
once it is recorded. Own messages (`is_from_me`) are never executed; group chats only with
TOKOWA_GOWA_GROUPS=true.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from litestar import Request, Router, post
from litestar.response import Response

from adapters.messaging.cloud_api_payload import MalformedPayload
from adapters.messaging.gowa_payload import parse_gowa
from adapters.messaging.signature import signature_valid
from application.chat.pipeline import ChatPipeline
from application.errors import StorageUnavailable
from entrypoints.settings import Settings
from entrypoints.web.intake import BackgroundTasks, accept_and_schedule
from entrypoints.web.whatsapp import MAX_BODY_BYTES, answer

log = logging.getLogger("tokowa.web.gowa")


def gowa_router(settings: Settings, pipeline: Callable[[], ChatPipeline], background: BackgroundTasks) -> Router:
    """The GOWA webhook route, bound to this app's settings and pipeline."""
    secret, groups = settings.gowa_webhook_secret, settings.gowa_groups

    @post("/", status_code=200, request_max_body_size=MAX_BODY_BYTES, include_in_schema=False)
    async def receive(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
        body = await request.body()
        if not signature_valid(secret, body, request.headers.get("x-hub-signature-256")):
            log.warning("gowa webhook with a missing or bad signature refused")
            return answer(401, {"error": "bad signature"})
        try:
            messages = parse_gowa(body, groups=groups)
        except MalformedPayload as error:
            return answer(400, {"error": f"malformed payload: {error}"})
        try:
            await accept_and_schedule(pipeline(), messages, background)
        except StorageUnavailable:
            return answer(503, {"error": "temporarily unavailable, retry later"})
        return answer(200, {"status": "ok"})

    return Router(path="/webhooks/gowa", route_handlers=[receive])
