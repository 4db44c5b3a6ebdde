"""Messages WhatsApp refused outside the 24-hour window: the outbox keeps the transport's id of a
sent message (a status webhook reporting it refused later finds it) and holds a message until its
recipient writes again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_HAS_PROVIDER_ID = sa.text("provider_id IS NOT NULL")
_HELD = sa.text("held_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("provider_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("held_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_outbox_provider_id", "outbox", ["provider_id"], postgresql_where=_HAS_PROVIDER_ID,
                    sqlite_where=_HAS_PROVIDER_ID)
    op.create_index("ix_outbox_held", "outbox", ["recipient", "id"], postgresql_where=_HELD, sqlite_where=_HELD)


def downgrade() -> None:
    op.drop_index("ix_outbox_held", table_name="outbox")
    op.drop_index("ix_outbox_provider_id", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("held_at")
        batch.drop_column("provider_id")
