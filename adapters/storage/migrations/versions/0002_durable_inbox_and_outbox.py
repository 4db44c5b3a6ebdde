"""Durable inbox (the whole message, with a lease for the worker processing it) and the outbox of
messages to send.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)
_UNFINISHED = sa.text("finished_at IS NULL")
_UNSENT = sa.text("sent_at IS NULL AND abandoned_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("sender", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("body", _JSON, nullable=True))
        batch.add_column(sa.Column("lease_until", _TIME, nullable=True))
        # Messages recorded before this revision were processed already.
        batch.add_column(sa.Column("finished_at", _TIME, nullable=True))
    op.execute("UPDATE inbox SET finished_at = received_at")
    op.create_index("ix_inbox_unfinished", "inbox", ["lease_until"],
                    postgresql_where=_UNFINISHED, sqlite_where=_UNFINISHED)
    op.create_table(
        "outbox",
        sa.Column("id", _AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("recipient", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("lease_until", _TIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("sent_at", _TIME, nullable=True),
        sa.Column("abandoned_at", _TIME, nullable=True),
    )
    op.create_index("ix_outbox_due", "outbox", ["lease_until"], postgresql_where=_UNSENT, sqlite_where=_UNSENT)


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_inbox_unfinished", table_name="inbox")
    with op.batch_alter_table("inbox") as batch:
        for column in ("finished_at", "lease_until", "body", "sender"):
            batch.drop_column(column)
