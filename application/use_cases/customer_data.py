"""A customer's data (Indonesia's UU PDP 27/2022): what the shop holds about them, and
forgetting them. Orders and ledger amounts stay for the books, under a pseudonym."""

from __future__ import annotations

import secrets
from typing import Any

from application.ports import UnitOfWorkFactory
from application.services import ShopReads
from application.use_cases.admin_reads import CustomerNotFound
from domain.errors import DomainError, InvalidPhoneNumber
from domain.order import OrderKind, OrderStatus
from domain.phone import normalize_msisdn

PSEUDONYM_PREFIX = "anon-"


class CustomerStillActive(DomainError):
    """A customer with a payment waiting or money in their saldo cannot be forgotten yet
    (`reason`: "pending_order" with `order_id`, or "saldo" with `saldo`)."""


def _number(raw: str) -> str:
    try:
        return normalize_msisdn(raw)
    except InvalidPhoneNumber:
        raise CustomerNotFound(user_id=raw) from None


class ForgetCustomer:
    """Replace the number everywhere with a random pseudonym, delete the customer's messages
    and the goods delivered to them; refuse while a payment waits or saldo is left."""

    def __init__(self, uow_factory: UnitOfWorkFactory, reads: ShopReads) -> None:
        self._uow_factory, self._reads = uow_factory, reads

    async def __call__(self, number: str) -> str:
        """The pseudonym the customer's orders and ledger now carry."""
        user_id = _number(number)
        pseudonym = PSEUDONYM_PREFIX + secrets.token_hex(8)
        async with self._uow_factory() as uow:
            if await uow.customers.get(user_id) is None:
                raise CustomerNotFound(user_id=user_id)
            wallet = await uow.wallets.get(user_id, for_update=True)
            pending = await uow.orders.pending_of(user_id)
            if pending is not None:
                raise CustomerStillActive(reason="pending_order", order_id=pending.id)
            if wallet.balance.value > 0:
                raise CustomerStillActive(reason="saldo", saldo=wallet.balance.value)
            await uow.housekeeping.forget_customer(user_id, pseudonym)
            await uow.commit()
        await self._reads.forget_user(user_id)
        return pseudonym


class ExportCustomer:
    """Everything the shop holds about one customer, as plain JSON-ready data."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, number: str) -> dict[str, Any]:
        user_id = _number(number)
        async with self._uow_factory() as uow:
            customer = await uow.customers.get(user_id)
            if customer is None:
                raise CustomerNotFound(user_id=user_id)
            wallet = await uow.wallets.get(user_id)
            ledger = await uow.wallets.ledger(user_id, limit=100_000)
            orders = await uow.orders.recent_of(user_id, limit=100_000)
            delivered = {
                o.id: await uow.products.items_of_order(o.id) for o in orders
                if o.kind is OrderKind.PURCHASE and o.status is OrderStatus.PAID
            }
            messages = await uow.housekeeping.messages_of(user_id)
        return {
            "number": customer.user_id,
            "created_at": _time(customer.created_at),
            "tier": customer.tier.value,
            "language": customer.language,
            "business_user_id": customer.business_user_id,
            "saldo": wallet.balance.value,
            "ledger": [{"at": _time(e.at), "delta": e.delta.value, "balance_after": e.balance_after.value,
                        "reason": e.reason, "reference": e.reference} for e in reversed(ledger)],
            "orders": [{"id": o.id, "kind": o.kind.value, "status": o.status.value, "method": o.method.value,
                        "product": o.product_code, "product_name": o.product_name, "qty": o.qty,
                        "total": o.total.value, "created_at": _time(o.created_at), "paid_at": _time(o.paid_at),
                        "delivered_items": delivered.get(o.id, [])} for o in reversed(orders)],
            "messages": [{"direction": m.direction, "at": _time(m.at), "text": m.text} for m in messages],
        }


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
