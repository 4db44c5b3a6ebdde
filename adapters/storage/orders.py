"""Orders: `transaksi` rows. One PENDING order per user is the partial unique index's job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, Select, bindparam, select, text, update
from sqlalchemy.exc import IntegrityError

from adapters.storage.direct import prebuilt
from adapters.storage.errors import violates
from adapters.storage.session import Transaction, bound, bound_params
from adapters.storage.cipher import StockCipher
from adapters.storage.tables import WAITING_FOR_SELLER, transaksi
from application.errors import DuplicateOrderId
from application.ports import RecentOrder
from domain.errors import PendingOrderExists
from domain.money import Rupiah
from domain.order import Order, OrderKind, OrderStatus, PaymentChannel, PaymentMethod
from domain.order import Order, OrderKind, OrderStatus, PaymentMethod
from domain.product import Fulfilment

_NEWEST_FIRST = (transaksi.c.created_at.desc(), transaksi.c.id.desc())


_COLUMNS = (
    "user_id", "produk_id", "status", "kind", "method", "qty", "unit_price", "total", "created_at",
    "expires_at", "paid_at", "updated_at", "payment_url", "meta", "recheck_at", "fulfilment", "delivered_at",
    "delivery", "remind_at",
)
# Built once; `_values` gives exactly these columns, passed as parameters.
_SAVE = prebuilt(update(transaksi).where(transaksi.c.id == bindparam("order_id")).values(**bound(transaksi, *_COLUMNS)))
_GET = prebuilt(select(transaksi).where(transaksi.c.id == bindparam("order_id")))
# A customer's newest orders: every purchase runs it (the double-tap check), so compiled once.
_RECENT_OF = prebuilt(select(transaksi).where(transaksi.c.user_id == bindparam("user_id"))
                      .order_by(*_NEWEST_FIRST).limit(bindparam("limit", type_=Integer)))
# Its brief form for the double-tap check: the columns `RecentOrder` has, no JSON or cipher.
_RECENT_BRIEF_OF = prebuilt(
    select(transaksi.c.id, transaksi.c.kind, transaksi.c.produk_id, transaksi.c.qty, transaksi.c.status,
           transaksi.c.created_at)
    .where(transaksi.c.user_id == bindparam("user_id"))
    .order_by(*_NEWEST_FIRST).limit(bindparam("limit", type_=Integer)))
_GET_FOR_UPDATE = prebuilt(_GET.with_for_update(key_share=True))  # NO KEY UPDATE: rows referencing it go on
# PostgreSQL inside `UnitOfWork.batched`: `add`'s INSERT held as a CTE step (`Transaction.hold`),
# a row back when it was inserted.
_ADD_COLUMNS = ("id", *_COLUMNS)
_ADD_HELD = prebuilt(text(
    f"{{p}}done AS (INSERT INTO transaksi ({', '.join(_ADD_COLUMNS)}) VALUES ({', '.join(':' + c for c in _ADD_COLUMNS)})"
    " ON CONFLICT DO NOTHING RETURNING 1)"
).bindparams(*(bindparam(c, type_=transaksi.c[c].type) for c in _ADD_COLUMNS)))
_ADD_TOUCHES = frozenset({"transaksi"})


def _no_refusal(error: IntegrityError) -> None:
    return None  # as `add` at once: a broken constraint of the order is raised as it is


def _values(order: Order, cipher: StockCipher) -> dict[str, Any]:
    return {
        "user_id": order.user_id,
        "produk_id": order.product_code,
        "status": order.status.value,
        "kind": order.kind.value,
        "method": order.method.value,
        "qty": order.qty,
        "unit_price": order.unit_price.value,
        "total": order.total.value,
        "created_at": order.created_at,
        "expires_at": order.expires_at,
        "paid_at": order.paid_at,
        "updated_at": order.updated_at,
        "payment_url": order.payment_url,
        "meta": _meta(order),
        "recheck_at": order.recheck_at,
        "fulfilment": order.fulfilment.value,
        "delivered_at": order.delivered_at,
        "delivery": cipher.encrypt(order.delivery_note) if order.delivery_note is not None else None,
        "remind_at": order.remind_at,
    }


def _meta(order: Order) -> dict[str, Any]:
    meta: dict[str, Any] = {"product_name": order.product_name}
    if order.amount_received is not None:
        meta["amount_received"] = order.amount_received.value
    if order.reversed_amount.value:
        meta.update(reversed_amount=order.reversed_amount.value, reversal=order.reversal)
    if order.shortfall.value:
        meta["shortfall"] = order.shortfall.value
    if order.channel is not PaymentChannel.LINK:
        meta["channel"] = order.channel.value
    if order.qr_string is not None:
        meta["qr_string"] = order.qr_string
    return meta


def _to_order(row: Row[Any], cipher: StockCipher) -> Order:
    meta = row.meta or {}
    received = meta.get("amount_received")
    return Order(
        id=row.id,
        user_id=row.user_id,
        kind=OrderKind(row.kind),
        method=PaymentMethod(row.method),
        status=OrderStatus(row.status),
        total=Rupiah(row.total),
        created_at=row.created_at,
        product_code=row.produk_id,
        product_name=meta.get("product_name", ""),
        qty=row.qty,
        unit_price=Rupiah(row.unit_price),
        expires_at=row.expires_at,
        paid_at=row.paid_at,
        payment_url=row.payment_url,
        updated_at=row.updated_at,
        amount_received=Rupiah(received) if received is not None else None,
        reversed_amount=Rupiah(meta.get("reversed_amount", 0)),
        shortfall=Rupiah(meta.get("shortfall", 0)),
        reversal=meta.get("reversal"),
        recheck_at=row.recheck_at,
        channel=PaymentChannel(meta.get("channel", PaymentChannel.LINK.value)),
        qr_string=meta.get("qr_string"),
        fulfilment=Fulfilment(row.fulfilment),
        delivered_at=row.delivered_at,
        delivery_note=cipher.decrypt(row.delivery) if row.delivery is not None else None,
        remind_at=row.remind_at,
    )


class SqlAlchemyOrderRepository:
    """`OrderRepository` on SQLAlchemy Core."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, order: Order) -> None:
        values = {"id": order.id, **_values(order, self._tx.cipher)}
        if self._tx.holding:  # sent with a later statement; its outcome is settled then

            async def settle(inserted: int) -> None:
                await self._added(order, inserted == 1)

            await self._tx.hold(_ADD_HELD, values, touches=_ADD_TOUCHES, settle=settle, refuse=_no_refusal)
            return
        await self._added(order, await self._tx.insert_ignoring_conflicts(transaksi, values))

    async def _added(self, order: Order, inserted: bool) -> None:
        if inserted:
            return
        if order.status is OrderStatus.PENDING and await self.pending_of(order.user_id) is not None:
            raise PendingOrderExists(user_id=order.user_id)
        raise DuplicateOrderId(order.id)

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        row = (await self._tx.execute(_GET_FOR_UPDATE if for_update else _GET, {"order_id": order_id})).first()
        return _to_order(row, self._tx.cipher) if row is not None else None

    async def save(self, order: Order) -> None:
        try:
            await self._tx.execute(_SAVE, {"order_id": order.id, **bound_params(_values(order, self._tx.cipher))})
        except IntegrityError as error:
            if violates(error, "uq_transaksi_one_pending_per_user", "transaksi.user_id"):
                raise PendingOrderExists(user_id=order.user_id) from error
            raise

    async def pending_of(self, user_id: str) -> Order | None:
        return await self._one(
            select(transaksi).where(transaksi.c.user_id == user_id, transaksi.c.status == OrderStatus.PENDING.value)
        )

    async def recent_of(self, user_id: str, limit: int = 10) -> list[Order]:
        rows = await self._tx.execute(_RECENT_OF, {"user_id": user_id, "limit": limit})
        return [_to_order(row, self._tx.cipher) for row in rows]

    async def recent_brief_of(self, user_id: str, limit: int) -> list[RecentOrder]:
        rows = await self._tx.execute(_RECENT_BRIEF_OF, {"user_id": user_id, "limit": limit})
        return [RecentOrder(row.id, OrderKind(row.kind), row.produk_id, row.qty, OrderStatus(row.status), row.created_at)
                for row in rows]

    async def last_paid_purchase_of(self, user_id: str) -> Order | None:
        return await self._one(
            select(transaksi)
            .where(
                transaksi.c.user_id == user_id,
                transaksi.c.kind == OrderKind.PURCHASE.value,
                transaksi.c.status == OrderStatus.PAID.value,
            )
            .order_by(transaksi.c.paid_at.desc(), *_NEWEST_FIRST)
            .limit(1)
        )

    async def recent(self, status: OrderStatus | None = None, limit: int = 20) -> list[Order]:
        query = select(transaksi)
        if status is not None:
            query = query.where(transaksi.c.status == status.value)
        return await self._all(query.order_by(*_NEWEST_FIRST).limit(limit))

    async def pending_expiring_before(self, cutoff: datetime, limit: int = 100) -> list[Order]:
        return await self._all(
            select(transaksi)
            .where(transaksi.c.status == OrderStatus.PENDING.value, transaksi.c.expires_at < cutoff)
            .order_by(transaksi.c.created_at, transaksi.c.id)
            .limit(limit)
        )

    async def paid_between(self, start: datetime, end: datetime) -> list[Order]:
        return await self._all(
            select(transaksi)
            .where(
                transaksi.c.status.in_((OrderStatus.PAID.value, OrderStatus.REFUNDED.value)),
                transaksi.c.paid_at >= start,
                transaksi.c.paid_at < end,
            )
            .order_by(*_NEWEST_FIRST)
        )

    async def due_for_recheck(self, now: datetime, limit: int = 20) -> list[Order]:
        return await self._all(
            select(transaksi)
            .where(transaksi.c.recheck_at.is_not(None), transaksi.c.recheck_at <= now)
            .order_by(transaksi.c.recheck_at, transaksi.c.id)
            .limit(limit)
        )

    async def waiting_for_seller(self, limit: int = 50) -> list[Order]:
        return await self._all(
            select(transaksi).where(text(WAITING_FOR_SELLER)).order_by(transaksi.c.paid_at, transaksi.c.id).limit(limit))

    async def reminders_due(self, now: datetime, limit: int = 50) -> list[Order]:
        return await self._all(
            select(transaksi)
            .where(text(WAITING_FOR_SELLER), transaksi.c.remind_at.is_not(None), transaksi.c.remind_at <= now)
            .order_by(transaksi.c.remind_at, transaksi.c.id)
            .limit(limit)
        )

    async def _one(self, query: Select[Any]) -> Order | None:
        row = (await self._tx.execute(query)).first()
        return _to_order(row, self._tx.cipher) if row is not None else None

    async def _all(self, query: Select[Any]) -> list[Order]:
        return [_to_order(row, self._tx.cipher) for row in await self._tx.execute(query)]
