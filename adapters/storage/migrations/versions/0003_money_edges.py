"""Money at the edges: dead letters and provider timestamps in the inbox, re-checks of given-up
link orders, and durable alerts (including money that needs an admin's action).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)
_RECHECK = sa.text("recheck_at IS NOT NULL")
_OPEN = sa.text("acknowledged_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("sent_at", _TIME, nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("dead_at", _TIME, nullable=True))
        batch.add_column(sa.Column("applied_at", _TIME, nullable=True))
    with op.batch_alter_table("transaksi") as batch:
        batch.add_column(sa.Column("recheck_at", _TIME, nullable=True))
    op.create_index("ix_transaksi_recheck", "transaksi", ["recheck_at"], postgresql_where=_RECHECK,
                    sqlite_where=_RECHECK)
    op.create_table(
        "alerts",
        sa.Column("id", _AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("params", _JSON, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("acknowledged_at", _TIME, nullable=True),
    )
    op.create_index("uq_alerts_open", "alerts", ["kind", "subject"], unique=True, postgresql_where=_OPEN,
                    sqlite_where=_OPEN)
    op.create_index("ix_alerts_created", "alerts", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_alerts_created", table_name="alerts")
    op.drop_index("uq_alerts_open", table_name="alerts")
    op.drop_table("alerts")
    op.drop_index("ix_transaksi_recheck", table_name="transaksi")
    with op.batch_alter_table("transaksi") as batch:
        batch.drop_column("recheck_at")
    with op.batch_alter_table("inbox") as batch:
        for column in ("applied_at", "dead_at", "attempts", "sent_at"):
            batch.drop_column(column)
