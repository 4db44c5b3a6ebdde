"""Key maintenance on the SQL stores: re-encrypting every secret under the first key of
TOKOWA_SECRET_KEY (`tokowa rotate-key`), and finding rows no configured key can read
(`tokowa doctor`).

Rotation walks each table in key order, in small transactions that lock only the rows of their
batch (PostgreSQL `FOR UPDATE`; SQLite's writer lock for one batch), so the shop keeps selling
meanwhile. A row already under the first key is left alone: running it again is harmless, and an
interrupted run is simply started again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.storage.cipher import StockCipher
from adapters.storage.products import SEALED_TEXT
from adapters.storage.storage import SqlStorage
from adapters.storage.tables import inbox, outbox, produk, stock_items


@dataclass(frozen=True)
class _Secrets:
    """One encrypted column: the table, its key column, how its stored value holds a token, and
    the stored value with a new token in its place."""

    table: Table
    key: Column[Any]
    column: Column[Any]
    token_of: Callable[[Any], str | None]
    store: Callable[[Any, str], Any] = lambda _, token: token


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _sealed_text(data: Any) -> str | None:
    return _text(data.get(SEALED_TEXT)) if isinstance(data, dict) else None


SECRETS = (
    _Secrets(stock_items, stock_items.c.id, stock_items.c.content, _text),
    _Secrets(inbox, inbox.c.message_id, inbox.c.body, _text),  # a sealed JSON string; None when dropped
    _Secrets(outbox, outbox.c.id, outbox.c.payload, _text),
    # A product's delivery text, sealed inside its JSON `data`.
    _Secrets(produk, produk.c.id, produk.c.data, _sealed_text, lambda data, token: {**data, SEALED_TEXT: token}),
)


@dataclass
class Rotation:
    rewritten: dict[str, int] = field(default_factory=dict)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (table, row key)


async def rotate_keys(storage: SqlStorage, *, batch: int = 200) -> Rotation:
    """Re-encrypt every secret not yet under the first key; rows no key reads are listed, left as they are."""
    cipher = storage.cipher
    report = Rotation()
    for spec in SECRETS:
        report.rewritten[spec.table.name] = 0
        after: Any = None
        while True:
            async with storage.engine.begin() as connection:
                rows = await _batch(connection, spec, after, batch, lock=True)
                for row in rows:
                    token = spec.token_of(row.value)
                    if token is None or cipher.is_current(token):
                        continue
                    if not cipher.readable(token):
                        report.unreadable.append((spec.table.name, str(row.key)))
                        continue
                    values: dict[str, Any] = {spec.column.name: spec.store(row.value, cipher.rotate(token))}
                    if spec.table is stock_items and not str(row.extra).startswith("forgotten:"):
                        # The duplicate check's hash follows the first key too.
                        values["content_hash"] = cipher.fingerprint(cipher.decrypt(token))
                    await connection.execute(update(spec.table).where(spec.key == row.key).values(**values))
                    report.rewritten[spec.table.name] += 1
            if len(rows) < batch:
                break
            after = rows[-1].key
    return report


async def unreadable_rows(storage: SqlStorage, *, batch: int = 1000, limit: int = 100) -> list[tuple[str, str]]:
    """Rows holding a secret that no configured key decrypts (at most `limit`), as (table, row key)."""
    cipher: StockCipher = storage.cipher
    found: list[tuple[str, str]] = []
    for spec in SECRETS:
        after: Any = None
        while len(found) < limit:
            async with storage.engine.connect() as connection:
                rows = await _batch(connection, spec, after, batch, lock=False)
            found += [(spec.table.name, str(row.key)) for row in rows
                      if (token := spec.token_of(row.value)) is not None and not cipher.readable(token)]
            if len(rows) < batch:
                break
            after = rows[-1].key
    return found[:limit]


async def _batch(connection: AsyncConnection, spec: _Secrets, after: Any, size: int, *, lock: bool) -> list[Any]:
    extra = stock_items.c.content_hash if spec.table is stock_items else spec.key
    query = (select(spec.key.label("key"), spec.column.label("value"), extra.label("extra"))
             .order_by(spec.key).limit(size))
    if after is not None:
        query = query.where(spec.key > after)
    if lock and connection.dialect.name == "postgresql":
        query = query.with_for_update()
    return list(await connection.execute(query))
