"""The simulator pages (demo mode only): the chat at `/` and the payment page at `/pay/{order_id}`."""

from __future__ import annotations

import base64
import html
import json
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Any

from litestar import Controller, MediaType, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Response

from adapters.messaging.qr_image import qr_png
from adapters.messaging.simulator import SentMessage, SimulatorMessenger
from adapters.payments.midtrans_notifications import MidtransNotificationVerifier
from application.chat.pipeline import ChatPipeline, IncomingMessage
from application.ports import PaymentState, StoredText
from application.replies import Reply
from application.use_cases.payment_notifications import HandlePaymentNotification
from application.use_cases.admin_reads import ShopQueries
from domain.errors import InvalidPhoneNumber, OrderNotFound
from domain.phone import normalize_msisdn
from entrypoints.simulated_payments import act_on_simulated_payment, simulated_amount

def _page(name: str) -> str:
    return resources.files("entrypoints.web.static").joinpath(name).read_text(encoding="utf-8")


def _message_json(m: SentMessage) -> dict[str, Any]:
    return {"seq": m.seq, **_reply_json(m.reply, m.from_user)}


def _stored_json(m: StoredText) -> dict[str, Any]:
    """A message of the history kept in the database (inbox and outbox), with the time it was
    received or queued."""
    return {"seq": 0, "at": m.at.isoformat(), **_reply_json(m.reply or Reply(m.text), m.direction == "in")}


def _reply_json(reply: Reply, from_user: bool) -> dict[str, Any]:
    return {
        "from_user": from_user,
        "text": reply.text,
        "choices": [{"command": c.command, "title": c.title, "description": c.description} for c in reply.choices],
        "choices_button": reply.choices_button,
        "link": {"label": reply.link.label, "url": reply.link.url} if reply.link else None,
        "image": _image_json(reply),
    }


def _image_json(reply: Reply) -> dict[str, str] | None:
    """The QR picture as a data URL, and the page a click on it opens (the pay simulator)."""
    if reply.image is None:
        return None
    src = "data:image/png;base64," + base64.b64encode(qr_png(reply.image.data)).decode()
    return {"src": src, "url": reply.image.url}


@dataclass
class SimulatorSend:
    user: str
    text: str


def _user(raw: str) -> str:
    try:
        return normalize_msisdn(raw)
    except InvalidPhoneNumber:
        raise ValidationException("user must be a WhatsApp number like 0812..., +62812... or 62812...") from None


class SimulatorController(Controller):
    path = "/"

    @get("/", media_type="text/html", include_in_schema=False)
    async def chat_page(self, shop_queries: NamedDependency[ShopQueries]) -> str:
        """The chat page in the shop's language (setting `language`)."""
        lang = (await shop_queries.shop_settings()).language
        return _page("chat.html").replace("{{LANG}}", "en" if lang == "en" else "id")

    @post("/sim/messages", include_in_schema=False)
    async def send(self, data: JSONBody[SimulatorSend], pipeline: NamedDependency[ChatPipeline],
                   messenger: NamedDependency[SimulatorMessenger]) -> dict[str, Any]:
        user = _user(data.user)
        # Cleaned like every transport's text (control characters out, cut to 4096 characters).
        incoming = IncomingMessage(f"sim-{uuid.uuid4().hex}", user, data.text)
        mine = messenger.received(user, incoming.text or "")
        await pipeline.handle(incoming)
        return {"user": user, "seq": mine.seq,
                "messages": [_message_json(m) for m in messenger.conversation(user)[-20:]]}

    @get("/sim/messages", include_in_schema=False)
    async def poll(self, user: FromQuery[str], messenger: NamedDependency[SimulatorMessenger],
                   shop_queries: NamedDependency[ShopQueries],
                   after: FromQuery[int] = 0, wait: FromQuery[float] = 0,
                   history: FromQuery[bool] = False) -> dict[str, Any]:
        """New messages after `after`. The first poll of a page (`history=true`), and a poll
        from before a restart of the server (`after` beyond the latest), get the number's whole
        conversation from the database instead, and the `cursor` to poll after from then on."""
        wa_id = _user(user)
        if history or after > messenger.latest_seq:
            cursor = messenger.latest_seq
            kept = await shop_queries.conversation(wa_id)
            return {"user": wa_id, "history": [_stored_json(m) for m in kept], "cursor": cursor, "messages": []}
        if not messenger.conversation(wa_id, after) and wait > 0:
            await messenger.wait_for_news(min(wait, 25.0))
        return {"user": wa_id, "messages": [_message_json(m) for m in messenger.conversation(wa_id, after)]}

    @get("/pay/{order_id:str}", media_type="text/html", include_in_schema=False)
    async def pay_page(self, order_id: FromPath[str], gateway: NamedDependency[Any],
                       shop_queries: NamedDependency[ShopQueries]) -> str:
        # Known to this process, or from the order row (a link made before a restart of the server).
        amount = await simulated_amount(gateway, shop_queries, order_id)
        if amount is None:
            raise NotFoundException("unknown payment")
        # The order's state now and the shop's language, so a reload of a finished payment shows it finished.
        state = {"status": await _order_status(shop_queries, order_id),
                 "lang": (await shop_queries.shop_settings()).language}
        return (_page("pay.html").replace("{{ORDER_ID}}", html.escape(order_id)).replace("{{AMOUNT}}", str(amount))
                .replace("{{STATE}}", json.dumps(state).replace("<", "\\u003c")))

    @post("/pay/{order_id:str}", include_in_schema=False)
    async def pay_action(self, order_id: FromPath[str], request: Request[Any, Any, Any],
                         gateway: NamedDependency[Any],
                         payment_verifier: NamedDependency[MidtransNotificationVerifier | None],
                         handle_notification: NamedDependency[HandlePaymentNotification],
                         shop_queries: NamedDependency[ShopQueries]) -> Response[dict[str, str]]:
        """The customer acts at the 'provider'; its signed notification then takes the webhook's path."""
        form = await request.form()
        states = {"pay": PaymentState.PAID, "fail": PaymentState.FAILED, "expire": PaymentState.EXPIRED}
        state = states.get(str(form.get("action", "")))
        if state is None:
            raise ValidationException("action must be pay, fail or expire")
        answer = await act_on_simulated_payment(order_id, state, gateway, shop_queries, payment_verifier,
                                                handle_notification)
        if answer is None:
            raise NotFoundException("unknown payment")
        status = int(answer.pop("http_status"))
        return Response(answer, status_code=status, media_type=MediaType.JSON)


async def _order_status(queries: ShopQueries, order_id: str) -> str:
    """The order's status (PENDING, PAID, ...), or UNKNOWN when the shop has no such order."""
    try:
        return (await queries.order(order_id)).status.value
    except OrderNotFound:
        return "UNKNOWN"
