"""The admin API's request and response bodies (msgspec Structs; unknown fields are a 400)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from application.ports import DeadLetter
from domain.order import Order, OrderKind, OrderStatus
from domain.product import MAX_STOCK, Fulfilment, Product
from domain.wallet import LedgerEntry

MAX_MONEY = 10**12
Text = Annotated[str, Meta(max_length=1000, pattern=r"^[^\x00]*$")]
Name = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[^\x00]*$")]
Code = Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9]+$")]
Money = Annotated[int, Meta(ge=1, le=MAX_MONEY)]
Stock = Annotated[int, Meta(ge=0, le=MAX_STOCK)]
StockItem = Annotated[str, Meta(min_length=1, max_length=1000, pattern=r"^[^\x00\n\r]*$")]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies."""


class ProductCreate(Input):
    code: Code
    name: Name
    price: Money
    stock: Stock = 0
    description: Text = ""


class ProductUpdate(Input):
    """Only the fields given change; each is validated before any is stored."""

    name: Name | None = None
    price: Money | None = None
    description: Text | None = None
    terms: Text | None = None
    delivery_text: Annotated[str, Meta(max_length=3000, pattern=r"^[^\x00]*$")] | None = None
    price_silver: Money | None = None
    price_gold: Money | None = None
    min_stock: Stock | None = None
    fulfilment: Literal["otomatis", "manual"] | None = None
    # `.setproduk KODE format email|password|profil|pin` (`-` for none): delivered items are labelled.
    item_format: Annotated[str, Meta(min_length=1, max_length=300, pattern=r"^[^\x00\n\r]*$")] | None = None


class StockAdd(Input):
    quantity: Annotated[int, Meta(ge=1, le=MAX_STOCK)]


class StockSet(Input):
    stock: Stock


class StockItemsAdd(Input):
    items: Annotated[list[StockItem], Meta(min_length=1, max_length=1000)]


class BalanceAdjust(Input):
    amount: Money
    direction: Literal["credit", "debit"]


class SettingValue(Input):
    value: Annotated[str, Meta(min_length=1, max_length=1000, pattern=r"^[^\x00]*$")]


class ProductOut(msgspec.Struct):
    code: str
    name: str
    price: int
    stock: int
    active: bool


class ProductDetails(msgspec.Struct):
    """Every field `.setproduk` edits, for a form that shows the current values (`None`: not set)."""

    code: str
    name: str
    price: int
    stock: int
    active: bool
    uses_items: bool
    description: str
    terms: str
    delivery_text: str
    price_silver: int | None
    price_gold: int | None
    min_stock: int | None
    fulfilment: str
    item_format: str


class StockOut(msgspec.Struct):
    code: str
    stock: int
    uses_items: bool


class ItemsAdded(msgspec.Struct):
    code: str
    added: int
    stock: int


class OrderOut(msgspec.Struct):
    id: str
    user_id: str
    status: str
    total: int
    kind: str
    method: str


class OrderListItem(msgspec.Struct):
    """An order in a list: payment state (`status`) and fulfilment state apart: `delivery` is
    `automatic` (handed out when paid), `waiting` (paid, for the seller to deliver), `delivered`
    (by the seller) or `none` (a top-up, or not paid)."""

    id: str
    user_id: str
    status: str
    total: int
    kind: str
    method: str
    product_code: str | None
    qty: int
    created_at: str
    product_name: str
    delivery: str
    paid_at: str | None


class ManualDelivery(Input):
    text: Annotated[str, Meta(min_length=1, max_length=3000, pattern=r"^[^\x00]*\S[^\x00]*$")]


class WaitingOrderOut(msgspec.Struct):
    id: str
    user_id: str
    product_code: str | None
    product_name: str
    qty: int
    total: int
    paid_at: str | None


class DeliveredOut(msgspec.Struct):
    id: str
    user_id: str
    delivered_at: str


def waiting_out(o: Order) -> WaitingOrderOut:
    return WaitingOrderOut(o.id, o.user_id, o.product_code, o.product_name, o.qty, o.total.value,
                           o.paid_at.isoformat() if o.paid_at else None)


class WalletOut(msgspec.Struct):
    user_id: str
    balance: int


class LedgerEntryOut(msgspec.Struct):
    delta: int
    balance_after: int
    reason: str
    reference: str | None
    at: str


class AdjustmentOut(msgspec.Struct):
    user_id: str
    balance: int
    delta: int
    new_customer: bool
    repeated: bool


class DeadLetterOut(msgspec.Struct):
    """A customer message given up after too many failed runs (`text` None: media)."""

    message_id: str
    sender: str
    text: str | None
    attempts: int
    received_at: str
    sent_at: str | None
    dead_at: str


def product_out(p: Product) -> ProductOut:
    return ProductOut(p.code, p.name, p.price.value, p.stock, p.active)


def order_out(o: Order) -> OrderOut:
    return OrderOut(o.id, o.user_id, o.status.value, o.total.value, o.kind.value, o.method.value)


def order_item(o: Order) -> OrderListItem:
    return OrderListItem(o.id, o.user_id, o.status.value, o.total.value, o.kind.value, o.method.value,
                         o.product_code, o.qty, o.created_at.isoformat(), o.product_name, _delivery(o),
                         o.paid_at.isoformat() if o.paid_at else None)


def _delivery(o: Order) -> str:
    if o.kind is OrderKind.PURCHASE and o.delivered_at is not None:
        return "delivered"
    if o.kind is not OrderKind.PURCHASE or o.status is not OrderStatus.PAID:
        return "none"
    return "automatic" if o.fulfilment is Fulfilment.AUTOMATIC else "waiting"


def product_details(p: Product) -> ProductDetails:
    return ProductDetails(p.code, p.name, p.price.value, p.stock, p.active, p.uses_items, p.description, p.terms,
                          p.delivery_text, p.price_silver.value if p.price_silver else None,
                          p.price_gold.value if p.price_gold else None, p.min_stock, p.fulfilment.value,
                          p.item_format)


def ledger_out(e: LedgerEntry) -> LedgerEntryOut:
    return LedgerEntryOut(e.delta.value, e.balance_after.value, e.reason, e.reference, e.at.isoformat())


def dead_letter_out(d: DeadLetter) -> DeadLetterOut:
    return DeadLetterOut(d.message_id, d.sender, d.text, d.attempts, d.received_at.isoformat(),
                         d.sent_at.isoformat() if d.sent_at else None, d.dead_at.isoformat())
