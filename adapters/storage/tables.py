"""The schema as SQLAlchemy Core tables: the seed's four tables, extended, plus Tokowa's own.

The seed's names and columns stay (`users`, `produk`, `transaksi`, `settings`); what the domain
queries or guards gets a real column, the rest lives in the `data`/`meta` JSON. The rules that keep
money and stock correct are constraints here, so the database enforces them whoever writes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
AutoId = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")
Money = BigInteger


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on both databases.

    SQLite has no time zones: values are stored as naive UTC (one format, so comparing them as
    text orders them correctly) and come back marked as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use timezone-aware UTC")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


users = Table(
    "users",
    metadata,
    Column("user_id", String(32), primary_key=True),
    Column("saldo", Money, nullable=False, server_default="0"),
    Column("role", String(16), nullable=False, server_default="bronze"),
    Column("data", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=True),
    CheckConstraint("saldo >= 0", name="ck_users_saldo_nonneg"),
)

produk = Table(
    "produk",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("nama", String(100), nullable=False),
    Column("harga", Money, nullable=False),
    Column("stok", Integer, nullable=False, server_default="0"),
    Column("aktif", Boolean, nullable=False, server_default=text("true")),
    Column("uses_items", Boolean, nullable=False, server_default=text("false")),
    Column("data", Json, nullable=False),
    CheckConstraint("stok >= 0", name="ck_produk_stok_nonneg"),
)

WAITING_FOR_SELLER = "fulfilment = 'manual' AND status = 'PAID' AND delivered_at IS NULL AND kind = 'purchase'"

transaksi = Table(
    "transaksi",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(32), nullable=False),
    Column("produk_id", String(32), nullable=True),
    Column("status", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("method", String(16), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("unit_price", Money, nullable=False),
    Column("total", Money, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("paid_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=True),
    Column("payment_url", Text, nullable=True),
    Column("meta", Json, nullable=False),
    # A given-up link order is asked about again until then (a payment without a notification).
    Column("recheck_at", UtcDateTime, nullable=True),
    # Fulfilment beside payment: manual orders wait for the seller's `.kirim` once PAID.
    Column("fulfilment", String(16), nullable=False, server_default="otomatis"),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("delivery", Text, nullable=True),  # what the seller delivered, encrypted like stock items
    Column("remind_at", UtcDateTime, nullable=True),
    Index("ix_transaksi_user_created", "user_id", "created_at", "id"),  # a customer's latest orders
    Index("ix_transaksi_produk_id", "produk_id"),
    Index("ix_transaksi_status_created", "status", "created_at"),
    Index("ix_transaksi_recheck", "recheck_at", postgresql_where=text("recheck_at IS NOT NULL"),
          sqlite_where=text("recheck_at IS NOT NULL")),
    Index("ix_transaksi_waiting", "paid_at", postgresql_where=text(WAITING_FOR_SELLER),
          sqlite_where=text(WAITING_FOR_SELLER)),
    Index(
        "uq_transaksi_one_pending_per_user",
        "user_id",
        unique=True,
        postgresql_where=text("status = 'PENDING'"),
        sqlite_where=text("status = 'PENDING'"),
    ),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("user_id", String(32), ForeignKey("users.user_id"), nullable=False),
    Column("delta", Money, nullable=False),
    Column("balance_after", Money, nullable=False),
    Column("reason", String(64), nullable=False),
    Column("reference", String(128), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("reason", "reference", name="uq_ledger_reason_reference"),
    Index("ix_ledger_user_id", "user_id", "id"),
)

stock_items = Table(
    "stock_items",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("produk_id", String(32), ForeignKey("produk.id"), nullable=False),
    Column("content", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("order_id", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("produk_id", "content_hash", name="uq_stock_items_content"),
    Index("ix_stock_items_free", "produk_id", "order_id", "id"),
    Index("ix_stock_items_order_id", "order_id"),
)

payment_events = Table(
    "payment_events",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("order_id", String(64), nullable=False),
    Column("event_key", String(255), nullable=False),
    Column("raw", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint("event_key", name="uq_payment_events_event_key"),
    Index("ix_payment_events_order_id", "order_id"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("message_id", String(255), primary_key=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("sender", String(32), nullable=False, server_default=""),
    Column("body", Json, nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),  # the provider's timestamp: when the customer sent it
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("dead_at", UtcDateTime, nullable=True),  # given up after too many attempts (dead letter)
    Column("applied_at", UtcDateTime, nullable=True),  # its effect committed (idempotent admin commands)
    Index("ix_inbox_unfinished", "lease_until", postgresql_where=text("finished_at IS NULL"),
          sqlite_where=text("finished_at IS NULL")),
    Index("ix_inbox_received", "received_at"),  # retention prunes the oldest first
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("recipient", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("abandoned_at", UtcDateTime, nullable=True),
    # The transport's id of the sent message (Cloud API wamid): a status webhook reporting it
    # refused later finds the message by it. Forgotten once such a report was handled.
    Column("provider_id", String(128), nullable=True),
    # Held until the recipient writes again (WhatsApp refused it outside the 24-hour window).
    Column("held_at", UtcDateTime, nullable=True),
    Index("ix_outbox_due", "lease_until", postgresql_where=text("sent_at IS NULL AND abandoned_at IS NULL"),
          sqlite_where=text("sent_at IS NULL AND abandoned_at IS NULL")),
    Index("ix_outbox_provider_id", "provider_id", postgresql_where=text("provider_id IS NOT NULL"),
          sqlite_where=text("provider_id IS NOT NULL")),
    Index("ix_outbox_held", "recipient", "id", postgresql_where=text("held_at IS NOT NULL"),
          sqlite_where=text("held_at IS NOT NULL")),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("params", Json, nullable=False),
    Column("amount", Money, nullable=True),  # money that needs an admin's action, when there is some
    Column("created_at", UtcDateTime, nullable=False),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    # One open alert per kind and subject: repeats of its cause add nothing.
    Index("uq_alerts_open", "kind", "subject", unique=True, postgresql_where=text("acknowledged_at IS NULL"),
          sqlite_where=text("acknowledged_at IS NULL")),
    Index("ix_alerts_created", "created_at"),
)

job_leases = Table(
    "job_leases",
    metadata,
    # A periodic job that must run once per round in the whole cluster (retention, the doctor,
    # reminders) claims its round here: one conditional upsert, won only when the last claim ran out.
    Column("job", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("until", UtcDateTime, nullable=False),
)

ALL_TABLES = (job_leases, alerts, ledger, stock_items, payment_events, inbox, outbox, transaksi, settings, produk, users)
