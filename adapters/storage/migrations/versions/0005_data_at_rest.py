"""Data at rest: message bodies and outgoing messages encrypted, retention's index and job leases.

Existing plain rows move to the new form: bodies of finished messages (no longer needed, kept
only for redelivery checks) and sent or given-up outgoing messages are dropped; messages still
waiting are encrypted with the first key of TOKOWA_SECRET_KEY (the embedded default's key
file), which `tokowa migrate` hands over. Without a key, and with such messages waiting, the
upgrade stops and changes nothing.

Revision ID: 0005
Revises: 0003 (re-chained when merged after 0004)
Create Date: 2026-12-05
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)

_inbox = sa.table("inbox", sa.column("message_id", sa.String()), sa.column("body", _JSON),
                  sa.column("finished_at", _TIME), sa.column("dead_at", _TIME))
_outbox = sa.table("outbox", sa.column("id", sa.BigInteger()), sa.column("payload", sa.Text()),
                   sa.column("sent_at", _TIME), sa.column("abandoned_at", _TIME))

NO_KEY = ("messages are waiting in the inbox or outbox and must be encrypted: set TOKOWA_SECRET_KEY "
          "and run `tokowa migrate` again (nothing was changed)")


def _fernet() -> Any:
    """The cipher of the key `migrate()` was given (None without one)."""
    from cryptography.fernet import Fernet

    key = context.config.attributes.get("secret_key")
    if not key:
        return None
    return Fernet(str(key).split(",")[0].strip().encode())


def _sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("gAAAA")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # Freed pages are zeroed, so the plain text replaced below does not linger in the file.
        op.execute("PRAGMA secure_delete = ON")
    op.create_table(
        "job_leases",
        sa.Column("job", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("until", _TIME, nullable=False),
    )
    op.create_index("ix_inbox_received", "inbox", ["received_at"])

    op.execute(_inbox.update().where(_inbox.c.finished_at.is_not(None), _inbox.c.dead_at.is_(None))
               .values(body=sa.null()))
    op.execute(_outbox.delete().where(sa.or_(_outbox.c.sent_at.is_not(None), _outbox.c.abandoned_at.is_not(None))))
    waiting = [row for row in bind.execute(sa.select(_inbox.c.message_id, _inbox.c.body)
                                           .where(_inbox.c.body.is_not(None))) if not _sealed(row.body)]
    unsent = [row for row in bind.execute(sa.select(_outbox.c.id, _outbox.c.payload)) if not _sealed(row.payload)]
    if not waiting and not unsent:
        return
    fernet = _fernet()
    if fernet is None:
        raise RuntimeError(NO_KEY)
    for row in waiting:
        plain = json.dumps(row.body, separators=(",", ":"), ensure_ascii=False)
        bind.execute(_inbox.update().where(_inbox.c.message_id == row.message_id)
                     .values(body=fernet.encrypt(plain.encode()).decode()))
    for row in unsent:
        bind.execute(_outbox.update().where(_outbox.c.id == row.id)
                     .values(payload=fernet.encrypt(row.payload.encode()).decode()))


def downgrade() -> None:
    bind = op.get_bind()
    sealed_in = [row for row in bind.execute(sa.select(_inbox.c.message_id, _inbox.c.body)
                                             .where(_inbox.c.body.is_not(None))) if _sealed(row.body)]
    sealed_out = [row for row in bind.execute(sa.select(_outbox.c.id, _outbox.c.payload)) if _sealed(row.payload)]
    if sealed_in or sealed_out:
        from cryptography.fernet import MultiFernet, Fernet

        key = context.config.attributes.get("secret_key")
        if not key:
            raise RuntimeError("encrypted messages need TOKOWA_SECRET_KEY to be turned back into plain text")
        multi = MultiFernet([Fernet(k.strip().encode()) for k in str(key).split(",") if k.strip()])
        for row in sealed_in:
            bind.execute(_inbox.update().where(_inbox.c.message_id == row.message_id)
                         .values(body=json.loads(multi.decrypt(row.body.encode()))))
        for row in sealed_out:
            bind.execute(_outbox.update().where(_outbox.c.id == row.id)
                         .values(payload=multi.decrypt(row.payload.encode()).decode()))
    op.drop_index("ix_inbox_received", table_name="inbox")
    op.drop_table("job_leases")
