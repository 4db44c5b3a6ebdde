"""The seller's side of an order: manual fulfilment (delivered, what, next reminder) on orders,
(the cluster-wide job leases table came with 0005).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
_WAITING = sa.text("fulfilment = 'manual' AND status = 'PAID' AND delivered_at IS NULL AND kind = 'purchase'")


def upgrade() -> None:
    with op.batch_alter_table("transaksi") as batch:
        batch.add_column(sa.Column("fulfilment", sa.String(16), nullable=False, server_default="otomatis"))
        batch.add_column(sa.Column("delivered_at", _TIME, nullable=True))
        batch.add_column(sa.Column("delivery", sa.Text(), nullable=True))
        batch.add_column(sa.Column("remind_at", _TIME, nullable=True))
    op.create_index("ix_transaksi_waiting", "transaksi", ["paid_at"], postgresql_where=_WAITING,
                    sqlite_where=_WAITING)


def downgrade() -> None:
    op.drop_index("ix_transaksi_waiting", table_name="transaksi")
    with op.batch_alter_table("transaksi") as batch:
        for column in ("remind_at", "delivery", "delivered_at", "fulfilment"):
            batch.drop_column(column)
