"""Initial schema: the seed's users/produk/transaksi/settings, extended, plus ledger, stock items,
payment events and the inbox of processed message ids.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)
_PENDING = sa.text("status = 'PENDING'")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("saldo", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("role", sa.String(16), nullable=False, server_default="bronze"),
        sa.Column("data", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=True),
        sa.CheckConstraint("saldo >= 0", name="ck_users_saldo_nonneg"),
    )
    op.create_table(
        "produk",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("nama", sa.String(100), nullable=False),
        sa.Column("harga", sa.BigInteger(), nullable=False),
        sa.Column("stok", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("aktif", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.Column("uses_items", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("data", _JSON, nullable=False),
        sa.CheckConstraint("stok >= 0", name="ck_produk_stok_nonneg"),
    )
    op.create_table(
        "transaksi",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("produk_id", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("paid_at", _TIME, nullable=True),
        sa.Column("updated_at", _TIME, nullable=True),
        sa.Column("payment_url", sa.Text(), nullable=True),
        sa.Column("meta", _JSON, nullable=False),
    )
    op.create_index("ix_transaksi_user_id", "transaksi", ["user_id"])
    op.create_index("ix_transaksi_produk_id", "transaksi", ["produk_id"])
    op.create_index("ix_transaksi_status_created", "transaksi", ["status", "created_at"])
    op.create_index(
        "uq_transaksi_one_pending_per_user",
        "transaksi",
        ["user_id"],
        unique=True,
        postgresql_where=_PENDING,
        sqlite_where=_PENDING,
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "ledger",
        sa.Column("id", _AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.user_id"), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(128), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.UniqueConstraint("reason", "reference", name="uq_ledger_reason_reference"),
    )
    op.create_index("ix_ledger_user_id", "ledger", ["user_id", "id"])
    op.create_table(
        "stock_items",
        sa.Column("id", _AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("produk_id", sa.String(32), sa.ForeignKey("produk.id"), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.UniqueConstraint("produk_id", "content_hash", name="uq_stock_items_content"),
    )
    op.create_index("ix_stock_items_free", "stock_items", ["produk_id", "order_id", "id"])
    op.create_index("ix_stock_items_order_id", "stock_items", ["order_id"])
    op.create_table(
        "payment_events",
        sa.Column("id", _AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("event_key", sa.String(255), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.UniqueConstraint("event_key", name="uq_payment_events_event_key"),
    )
    op.create_index("ix_payment_events_order_id", "payment_events", ["order_id"])
    op.create_table(
        "inbox",
        sa.Column("message_id", sa.String(255), primary_key=True),
        sa.Column("received_at", _TIME, nullable=False),
    )


def downgrade() -> None:
    for table in ("inbox", "payment_events", "stock_items", "ledger", "settings", "transaksi", "produk", "users"):
        op.drop_table(table)
