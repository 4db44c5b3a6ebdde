"""Admin API routes on orders, wallets, settings, reports, alerts and dead letters (see `admin_api`)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post, put
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from application.use_cases.alerts import ShownAlert
from application.use_cases.wallet import AdjustBalanceCommand
from domain.order import OrderStatus
from domain.settings import MAX_TEXT, ShopSettings, setting_rule
from entrypoints.web.admin_common import Admin
from entrypoints.web.admin_schemas import (
    AdjustmentOut,
    BalanceAdjust,
    DeadLetterOut,
    DeliveredOut,
    ManualDelivery,
    WaitingOrderOut,
    LedgerEntryOut,
    OrderListItem,
    OrderOut,
    SettingValue,
    WalletOut,
    dead_letter_out,
    ledger_out,
    order_item,
    order_out,
    waiting_out,
)

Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Days = Annotated[int, QueryParameter(ge=1, le=90)]


class OrdersController(Controller):
    path = "/orders"
    tags = ["orders"]

    @get("/")
    async def list_orders(self, admin: Admin, status: FromQuery[OrderStatus | None] = None,
                          user: Annotated[str | None, QueryParameter(max_length=32)] = None,
                          limit: Limit = 20) -> list[OrderListItem]:
        """Newest first, optionally of one status and/or one customer (wa_id)."""
        return [order_item(o) for o in await admin.queries.orders(status, user, limit)]

    @get("/waiting")
    async def waiting(self, admin: Admin, limit: Limit = 50) -> list[WaitingOrderOut]:
        """Paid orders waiting for the seller to deliver them (manual products), oldest first."""
        return [waiting_out(o) for o in await admin.use_cases.waiting_orders(limit)]

    @post("/{order_id:str}/deliver", status_code=200)
    async def deliver(self, admin: Admin, order_id: FromPath[str], data: JSONBody[ManualDelivery]) -> DeliveredOut:
        """Deliver a waiting order (as `.kirim`): the text reaches the buyer and is recorded on the
        order; 409 when it was delivered already or is not waiting, 404 for an unknown id."""
        order = await admin.use_cases.deliver_by_hand(order_id, data.text)
        assert order.delivered_at is not None
        return DeliveredOut(order.id, order.user_id, order.delivered_at.isoformat())

    @get("/{order_id:str}")
    async def get_order(self, admin: Admin, order_id: FromPath[str]) -> OrderOut:
        return order_out(await admin.queries.order(order_id))


class WalletsController(Controller):
    path = "/wallets"
    tags = ["wallets"]

    @get("/{user_id:str}")
    async def get_wallet(self, admin: Admin, user_id: FromPath[str]) -> WalletOut:
        """The customer's saldo; `user_id` is the wa_id (08.../+62... are accepted too)."""
        wallet = await admin.queries.wallet(user_id)
        return WalletOut(wallet.user_id, wallet.balance.value)

    @get("/{user_id:str}/ledger")
    async def ledger(self, admin: Admin, user_id: FromPath[str], limit: Limit = 50) -> list[LedgerEntryOut]:
        """The ledger, newest first."""
        return [ledger_out(e) for e in await admin.queries.ledger(user_id, limit)]

    @post("/{user_id:str}/adjustments")
    async def adjust(self, admin: Admin, user_id: FromPath[str], data: JSONBody[BalanceAdjust],
                     idempotency_key: Annotated[str, HeaderParameter(name="Idempotency-Key", min_length=1,
                                                                     max_length=100)]) -> Response[AdjustmentOut]:
        """Credit or debit through the ledger (a debit over the balance is 409, never clamped).
        Repeating a request with the same Idempotency-Key changes nothing and answers 200."""
        done = await admin.use_cases.adjust_balance(AdjustBalanceCommand(
            user_id, data.amount, data.direction == "credit", idempotency_key))
        body = AdjustmentOut(done.user_id, done.entry.balance_after.value, done.entry.delta.value,
                             done.new_customer, done.repeated)
        return Response(body, status_code=200 if done.repeated else 201)


class SettingsController(Controller):
    path = "/settings"
    tags = ["settings"]

    @get("/")
    async def get_settings(self, admin: Admin) -> dict[str, str]:
        return (await admin.use_cases.settings.get()).as_strings()

    @get("/rules")
    async def rules(self) -> dict[str, dict[str, Any]]:
        """What each setting accepts, as `.setting` lists it: `{"low", "high"}` for a number,
        `{"choices"}` for a word, `{"max_length"}` for a text."""
        return {key: _rule(key) for key in ShopSettings.keys()}

    @put("/{key:str}")
    async def put_setting(self, admin: Admin, key: FromPath[str], data: JSONBody[SettingValue]) -> dict[str, str]:
        """Change one setting; an unknown key is 404, a value it cannot take 400."""
        if key.lower() not in ShopSettings.keys():
            raise NotFoundException(f"no shop setting {key[:50]!r}")
        return (await admin.use_cases.change_setting(key, data.value)).as_strings()


def _rule(key: str) -> dict[str, Any]:
    rule = setting_rule(key)
    if rule is None:
        return {"max_length": MAX_TEXT}
    if isinstance(rule[0], int):
        return {"low": rule[0], "high": rule[1]}
    return {"choices": list(rule)}


class ReportsController(Controller):
    path = "/reports"
    tags = ["reports"]

    @get("/sales")
    async def sales(self, admin: Admin, days: Days = 1) -> dict[str, Any]:
        """Sales of the last N Asia/Jakarta days (1 = today), as `.rekap` reports them."""
        report = await admin.use_cases.report(days)
        return {
            "days": report.days, "since": report.since.isoformat(), "orders": report.orders,
            "revenue": report.revenue.value, "topups": report.topups, "topup_total": report.topup_total.value,
            "refunds": report.refunds, "refund_total": report.refund_total.value,
            "chargebacks": report.chargebacks, "chargeback_total": report.chargeback_total.value,
            "net": report.net.value,
            "top_products": [{"code": code, "qty": qty} for code, qty in report.top_products],
        }

    @get("/daily")
    async def daily(self, admin: Admin, days: Days = 7) -> list[dict[str, Any]]:
        """Paid purchases per day, oldest first (the dashboard's chart)."""
        return [{"day": d.day.isoformat(), "orders": d.orders, "revenue": d.revenue.value}
                for d in await admin.sales.daily(days)]

    @get("/low-stock")
    async def low_stock(self, admin: Admin) -> list[dict[str, Any]]:
        """Active products at or below their low-stock threshold."""
        return [{"code": p.code, "name": p.name, "stock": p.stock} for p in await admin.queries.low_stock()]

    @get("/payments")
    async def payments(self, admin: Admin) -> dict[str, int]:
        """How today's orders ended up, by status."""
        return await admin.sales.outcomes_today()

    @get("/alerts")
    async def alerts(self, admin: Admin, limit: Limit = 20) -> list[dict[str, Any]]:
        """The latest admin alerts (every worker's, kept in the database), newest first."""
        return [alert_json(shown) for shown in await admin.alerts.list(limit=limit)]


def alert_json(shown: ShownAlert) -> dict[str, Any]:
    alert = shown.alert
    return {
        "id": alert.id, "at": alert.created_at.isoformat(), "key": alert.kind, "subject": alert.subject,
        "message": shown.message, "order_id": alert.params.get("order_id"),
        "amount": alert.amount.value if alert.amount is not None else None,
        "needs_action": alert.amount is not None,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
    }


class AlertsController(Controller):
    path = "/alerts"
    tags = ["alerts"]

    @get("/")
    async def list_alerts(self, admin: Admin, open_only: Annotated[bool, QueryParameter(name="open")] = True,
                          limit: Limit = 50) -> list[dict[str, Any]]:
        """Alerts kept for the admins, newest first: by default those not yet acknowledged.
        `needs_action` marks money waiting for an admin (`amount` in rupiah)."""
        return [alert_json(shown) for shown in await admin.alerts.list(open_only=open_only, limit=limit)]

    @post("/{alert_id:str}/ack", status_code=200)
    async def acknowledge(self, admin: Admin, alert_id: FromPath[str]) -> dict[str, Any]:
        """Mark an alert as seen; the same cause may raise it again afterwards."""
        if not (alert_id.isascii() and alert_id.isdigit() and len(alert_id) < 19) \
                or not await admin.alerts.acknowledge(int(alert_id)):
            raise NotFoundException(f"no open alert {alert_id}")
        return {"id": int(alert_id), "acknowledged": True}


class CustomersController(Controller):
    path = "/customers"
    tags = ["customers"]

    @get("/{number:str}/export")
    async def export(self, admin: Admin, number: FromPath[str]) -> dict[str, Any]:
        """Everything the shop holds about the customer (UU PDP): profile, saldo, ledger, orders
        with the items delivered, and the messages still kept."""
        return await admin.export_customer(number)

    @post("/{number:str}/forget", status_code=200)
    async def forget(self, admin: Admin, number: FromPath[str]) -> dict[str, Any]:
        """Forget the customer: the number becomes a pseudonym on orders and ledger (amounts
        kept), messages and delivered items are deleted. 409 while a payment waits or saldo is
        left (`detail.reason`: `pending_order` or `saldo`), 404 for an unknown number."""
        return {"forgotten": True, "pseudonym": await admin.forget_customer(number)}


class DeadLettersController(Controller):
    path = "/dead-letters"
    tags = ["messages"]

    @get("/")
    async def dead_letters(self, admin: Admin, limit: Limit = 50) -> list[DeadLetterOut]:
        """Customer messages given up after failing TOKOWA_MAX_ATTEMPTS runs (the customer was
        told and the admins alerted), the latest given up first."""
        return [dead_letter_out(d) for d in await admin.queries.dead_letters(limit)]
