"""`POST /webhooks/midtrans`: Midtrans HTTP notifications (and the simulator's, through `receive_notification`).

Answers: 200 processed, repeated, unknown order or amount mismatch (which change nothing);
400 malformed or too big; 401 bad signature (nothing stored); 503 when the database or the
status API is unreachable, so Midtrans retries; 404 while link payments are off. Never 500.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, MediaType, Request, get, post
from litestar.di import NamedDependency
from litestar.response import Response

from adapters.payments.midtrans_notifications import (
    MAX_NOTIFICATION_BYTES, ForgedNotification, MalformedNotification, MidtransNotificationVerifier,
)
from application.use_cases.payment_notifications import HandlePaymentNotification, NotificationDeferred

log = logging.getLogger("tokowa.web.midtrans")

_FINISH_PAGE = """<!doctype html><html lang="id"><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Pembayaran</title>
<body style="font-family:sans-serif;max-width:30em;margin:3em auto;padding:0 1em">
<h1>Terima kasih</h1><p>Status pembayaran dikirim lewat WhatsApp. Silakan kembali ke chat.</p>
<p lang="en"><small>The payment status is sent on WhatsApp. You can go back to the chat.</small></p></body></html>"""


def _answer(status: int, body: dict[str, str]) -> Response[dict[str, str]]:
    return Response(body, status_code=status, media_type=MediaType.JSON)


async def receive_notification(body: bytes, verifier: MidtransNotificationVerifier | None,
                               handle: HandlePaymentNotification) -> Response[dict[str, str]]:
    """Verify a notification body and act on it; the HTTP answer Midtrans should get."""
    if verifier is None:
        return _answer(404, {"error": "payments are not configured"})
    try:
        notification = verifier.verify(body)
    except MalformedNotification as error:
        return _answer(400, {"error": f"malformed notification: {error}"})
    except ForgedNotification:
        log.warning("payment notification with a bad signature refused")
        return _answer(401, {"error": "bad signature"})
    try:
        outcome = await handle(notification)
    except NotificationDeferred:
        return _answer(503, {"error": "temporarily unavailable, retry later"})
    return _answer(200, {"status": "ok", "outcome": outcome.value})


async def _read_capped(request: Request[Any, Any, Any], limit: int) -> bytes | None:
    """The body, or None when it is bigger than `limit` (read no further than that)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class MidtransWebhookController(Controller):
    path = "/"

    @post("/webhooks/midtrans", request_max_body_size=None, include_in_schema=False)
    async def notification(self, request: Request[Any, Any, Any],
                           payment_verifier: NamedDependency[MidtransNotificationVerifier | None],
                           handle_notification: NamedDependency[HandlePaymentNotification]) -> Response[dict[str, str]]:
        body = await _read_capped(request, MAX_NOTIFICATION_BYTES)
        if body is None:
            return _answer(400, {"error": "notification too large"})
        return await receive_notification(body, payment_verifier, handle_notification)

    @get("/payments/finish", media_type=MediaType.HTML, include_in_schema=False)
    async def finish(self) -> str:
        """Where Snap sends the customer back (its finish URL); the result arrives on WhatsApp."""
        return _FINISH_PAGE
