"""What the payment simulator's customer does (demo mode): the pay page's buttons and `.bayar` in
`tokowa chat` both make the simulated provider reach a state, then its signed notification takes
the path of Midtrans' webhook (verification, status check, the payment use case)."""

from __future__ import annotations

from adapters.payments.midtrans_notifications import MidtransNotificationVerifier
from adapters.payments.simulator import SimulatedPaymentGateway
from application.ports import PaymentGateway, PaymentState
from application.use_cases.admin_reads import ShopQueries
from application.use_cases.payment_notifications import HandlePaymentNotification
from domain.errors import OrderNotFound
from domain.money import Rupiah
from domain.order import PaymentMethod
from entrypoints.web.midtrans import receive_notification


async def simulated_amount(gateway: PaymentGateway, queries: ShopQueries, order_id: str) -> Rupiah | None:
    """What the simulated provider charges for the order, None when it never charged it.

    The gateway remembers what this process asked it; a link made before a restart of the
    server, or by another process sharing the database (`tokowa chat` beside `make run`), is
    known from the order row itself, which holds the amount of every payment by link or QRIS."""
    if not isinstance(gateway, SimulatedPaymentGateway):
        return None
    known = gateway.amount_of(order_id)
    if known is not None:
        return known
    try:
        order = await queries.order(order_id)
    except OrderNotFound:
        return None
    if order.id != order_id or order.method is not PaymentMethod.MIDTRANS:
        return None
    return order.total


async def act_on_simulated_payment(order_id: str, state: PaymentState, gateway: PaymentGateway, queries: ShopQueries,
                                   verifier: MidtransNotificationVerifier | None,
                                   handle: HandlePaymentNotification) -> dict[str, str] | None:
    """The customer pays (or fails, or lets expire) at the simulated provider; the webhook's
    answer as a dict (with the order's status after it), or None for a payment it never made."""
    amount = await simulated_amount(gateway, queries, order_id)
    if amount is None or not isinstance(gateway, SimulatedPaymentGateway):
        return None
    gateway.customer_acts(order_id, state, amount=amount)
    body = gateway.notification(order_id)
    if body is None:
        return None
    answer = await receive_notification(body, verifier, handle)
    content = dict(answer.content) if isinstance(answer.content, dict) else {}
    content["http_status"] = str(answer.status_code)
    content["order_id"] = order_id
    try:
        content["order_status"] = (await queries.order(order_id)).status.value
    except OrderNotFound:
        content["order_status"] = "UNKNOWN"
    return content
