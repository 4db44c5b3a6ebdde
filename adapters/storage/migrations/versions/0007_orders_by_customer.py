"""A customer's orders newest first from an index: the double-tap check inside every purchase
and the history read the latest few without sorting all of them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_transaksi_user_created", "transaksi", ["user_id", "created_at", "id"])
    op.drop_index("ix_transaksi_user_id", table_name="transaksi")  # a prefix of the new one


def downgrade() -> None:
    op.create_index("ix_transaksi_user_id", "transaksi", ["user_id"])
    op.drop_index("ix_transaksi_user_created", table_name="transaksi")
