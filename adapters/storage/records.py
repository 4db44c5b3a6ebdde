"""The small repositories: shop settings, the inbox of WhatsApp message ids, payment events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.storage.session import Transaction
from adapters.storage.tables import inbox, payment_events, settings


class SqlAlchemySettingsRepository:
    """`SettingsRepository`: raw key/value strings; ShopSettings validates them."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def all(self) -> dict[str, str]:
        rows = await self._tx.execute(select(settings.c.key, settings.c.value))
        return {row.key: row.value for row in rows}

    async def put(self, key: str, value: str) -> None:
        insert = pg_insert(settings) if self._tx.is_postgres else sqlite_insert(settings)
        statement = insert.values(key=key, value=value).on_conflict_do_update(
            index_elements=[settings.c.key], set_={"value": value}
        )
        await self._tx.execute(statement)


class SqlAlchemyInboxRepository:
    """`InboxRepository`: the primary key on the message id drops redeliveries."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def record(self, message_id: str, now: datetime) -> bool:
        return await self._tx.insert_ignoring_conflicts(inbox, {"message_id": message_id, "received_at": now})


class SqlAlchemyPaymentEventRepository:
    """`PaymentEventRepository`: a unique event key stores each notification once."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def record(self, order_id: str, event_key: str, raw: str, now: datetime) -> bool:
        return await self._tx.insert_ignoring_conflicts(
            payment_events, {"order_id": order_id, "event_key": event_key, "raw": raw, "received_at": now}
        )
