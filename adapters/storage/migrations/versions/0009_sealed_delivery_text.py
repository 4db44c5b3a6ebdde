"""A product's delivery text sealed at rest: it may be the goods themselves (a login shared by
every buyer, a licence key), so it is encrypted with TOKOWA_SECRET_KEY like stock items.

Each product's plain `data.delivery_text` becomes `data.delivery_text_sealed` under the first key
`tokowa migrate` hands over. Without a key, and with a delivery text to seal, the upgrade stops
and changes nothing. On SQLite, freed pages are zeroed so the plain text does not linger.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PLAIN, SEALED = "delivery_text", "delivery_text_sealed"
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_produk = sa.table("produk", sa.column("id", sa.String()), sa.column("data", _JSON))

NO_KEY = ("products have a delivery text (`teks`) that must be encrypted: set TOKOWA_SECRET_KEY "
          "and run `tokowa migrate` again (nothing was changed)")


def _keys() -> list[str]:
    key = context.config.attributes.get("secret_key")
    return [part.strip() for part in str(key or "").split(",") if part.strip()]


def _rewrite(move: Any, *, source: str, target: str, fail: str) -> None:
    bind = op.get_bind()
    rows = [row for row in bind.execute(sa.select(_produk.c.id, _produk.c.data))
            if isinstance(row.data, dict) and source in row.data]
    if not rows:
        return
    if any(row.data[source] for row in rows) and not _keys():
        raise RuntimeError(fail)
    if bind.dialect.name == "sqlite":
        op.execute("PRAGMA secure_delete = ON")
    for row in rows:
        data = {key: value for key, value in row.data.items() if key != source}
        data[target] = move(row.data[source]) if row.data[source] else ""
        bind.execute(_produk.update().where(_produk.c.id == row.id).values(data=data))


def upgrade() -> None:
    def seal(plain: str) -> str:
        from cryptography.fernet import Fernet

        return Fernet(_keys()[0].encode()).encrypt(plain.encode()).decode()

    _rewrite(seal, source=PLAIN, target=SEALED, fail=NO_KEY)


def downgrade() -> None:
    def unseal(token: str) -> str:
        from cryptography.fernet import Fernet, MultiFernet

        return MultiFernet([Fernet(k.encode()) for k in _keys()]).decrypt(token.encode()).decode()

    _rewrite(unseal, source=SEALED, target=PLAIN,
             fail="sealed delivery texts need TOKOWA_SECRET_KEY to be turned back into plain text")
