"""What the in-memory store holds: the committed state every unit of work copies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from application.ports import Alert, IncomingMessage, QueuedMessage
from domain.customer import Customer
from domain.money import Rupiah
from domain.order import Order
from domain.product import Product
from domain.wallet import LedgerEntry


@dataclass
class StoredItem:
    id: int
    product_code: str
    content: str
    order_id: str | None = None


@dataclass
class StoredMessage:
    message: IncomingMessage
    received_at: datetime
    lease_until: datetime
    finished: bool = False
    attempts: int = 1
    dead_at: datetime | None = None
    applied_at: datetime | None = None


@dataclass
class StoredOutgoing:
    message: QueuedMessage
    created_at: datetime
    lease_until: datetime
    held_at: datetime | None = None  # held until the recipient writes again


@dataclass
class MemoryData:
    products: dict[str, Product] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    balances: dict[str, Rupiah] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    orders: dict[str, Order] = field(default_factory=dict)
    items: list[StoredItem] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    inbox: dict[str, StoredMessage] = field(default_factory=dict)
    payment_events: dict[str, str] = field(default_factory=dict)
    outbox: dict[int, StoredOutgoing] = field(default_factory=dict)
    # Sent messages are not kept, but those the transport gave an id are, by that id (the most
    # recent SENT_IDS_KEPT), so a report of one refused later can still find it.
    sent_ids: dict[str, StoredOutgoing] = field(default_factory=dict)
    refused: dict[int, StoredOutgoing] = field(default_factory=dict)  # taken by `take_refused`, by message id
    alerts: dict[int, Alert] = field(default_factory=dict)
    payment_event_times: dict[str, datetime] = field(default_factory=dict)
    job_leases: dict[str, datetime] = field(default_factory=dict)
    leases: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # job -> (holder, until)
    next_item_id: int = 1
    next_outbox_id: int = 1
    next_alert_id: int = 1
