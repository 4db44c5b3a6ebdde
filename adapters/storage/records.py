"""The small repositories: shop settings, the inbox and outbox of WhatsApp messages, payment events."""

from __future__ import annotations

from datetime import datetime

from typing import Any

from sqlalchemy import BigInteger, Row, and_, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.storage.direct import prebuilt
from adapters.storage.session import Transaction, bound, bound_params
from adapters.storage.tables import inbox, outbox, payment_events, settings
from application.ports import IncomingMessage, QueuedMessage
from application.replies import Reply
from application.serialization import reply_from_json, reply_to_json


# The per-message writes, built once: values come as parameters, so SQLAlchemy neither rebuilds
# these statements nor walks them for a cache key on every message.
_FINISH = prebuilt(update(inbox).where(inbox.c.message_id == bindparam("finished_id")).values(**bound(inbox, "finished_at")))
_QUEUE = prebuilt(
    outbox.insert()
    .values(**bound(outbox, "recipient", "payload", "created_at", "lease_until", "attempts"))
    .returning(outbox.c.id)
)
_MARK_SENT = (
    update(outbox).where(outbox.c.id.in_(bindparam("ids", expanding=True))).values(**bound(outbox, "sent_at"))
)
# PostgreSQL takes the ids as one array parameter: one statement text for any number of ids.
_MARK_SENT_ARRAY = prebuilt(
    update(outbox).where(outbox.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger)))).values(**bound(outbox, "sent_at"))
)


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
    """`InboxRepository`: the primary key on the message id drops redeliveries; a lease marks the
    worker processing a message, so a crashed worker's messages are taken up by another."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def record(self, message: IncomingMessage, now: datetime, lease_until: datetime) -> bool:
        body = {"text": message.text, "business_user_id": message.business_user_id}
        return await self._tx.insert_ignoring_conflicts(inbox, {
            "message_id": message.message_id, "received_at": now, "sender": message.sender, "body": body,
            "lease_until": lease_until,
        })

    async def claim_stale(self, now: datetime, lease_until: datetime, limit: int = 50) -> list[IncomingMessage]:
        stale = (select(inbox.c.message_id).where(inbox.c.finished_at.is_(None), inbox.c.lease_until <= now)
                 .order_by(inbox.c.received_at).limit(limit))
        if self._tx.is_postgres:
            stale = stale.with_for_update(skip_locked=True)
        rows = await self._tx.execute(
            update(inbox).where(inbox.c.message_id.in_(stale.scalar_subquery())).values(lease_until=lease_until)
            .returning(inbox.c.message_id, inbox.c.sender, inbox.c.body, inbox.c.received_at))
        ordered = sorted(rows, key=lambda row: row.received_at)
        return [IncomingMessage(row.message_id, row.sender, (row.body or {}).get("text"),
                                (row.body or {}).get("business_user_id")) for row in ordered]

    async def finish(self, message_id: str, now: datetime) -> None:
        await self._tx.execute(_FINISH, {"finished_id": message_id, "v_finished_at": now})


class SqlAlchemyOutboxRepository:
    """`OutboxRepository`: rows claimed with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL)."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, to: str, reply: Reply, now: datetime, lease_until: datetime) -> int:
        result = await self._tx.execute(_QUEUE, bound_params({
            "recipient": to, "payload": reply_to_json(reply), "created_at": now, "lease_until": lease_until,
            "attempts": 0,
        }))
        return int(result.scalar_one())

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int = 50) -> list[QueuedMessage]:
        due = select(outbox.c.id).where(_UNSENT, outbox.c.lease_until <= now).order_by(outbox.c.id).limit(limit)
        if self._tx.is_postgres:
            due = due.with_for_update(skip_locked=True)
        rows = await self._tx.execute(
            update(outbox).where(outbox.c.id.in_(due.scalar_subquery())).values(lease_until=lease_until)
            .returning(outbox.c.id, outbox.c.recipient, outbox.c.payload, outbox.c.attempts))
        return sorted((_queued(row) for row in rows), key=lambda m: m.id)

    async def get(self, message_id: int) -> QueuedMessage | None:
        row = (await self._tx.execute(
            select(outbox.c.id, outbox.c.recipient, outbox.c.payload, outbox.c.attempts)
            .where(outbox.c.id == message_id, _UNSENT))).first()
        return _queued(row) if row is not None else None

    async def mark_sent(self, message_ids: list[int], now: datetime) -> None:
        statement = _MARK_SENT_ARRAY if self._tx.is_postgres else _MARK_SENT
        await self._tx.execute(statement, {"ids": list(message_ids), "v_sent_at": now})

    async def postpone(self, message_id: int, until: datetime) -> None:
        await self._tx.execute(update(outbox).where(outbox.c.id == message_id)
                               .values(lease_until=until, attempts=outbox.c.attempts + 1))

    async def give_up(self, message_id: int, now: datetime) -> None:
        await self._tx.execute(update(outbox).where(outbox.c.id == message_id).values(abandoned_at=now))

    async def pending_count(self) -> int:
        return int((await self._tx.execute(select(func.count()).select_from(outbox).where(_UNSENT))).scalar_one())


_UNSENT = and_(outbox.c.sent_at.is_(None), outbox.c.abandoned_at.is_(None))


def _queued(row: Row[Any]) -> QueuedMessage:
    return QueuedMessage(int(row.id), row.recipient, reply_from_json(row.payload), int(row.attempts))


class SqlAlchemyPaymentEventRepository:
    """`PaymentEventRepository`: a unique event key stores each notification once."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def record(self, order_id: str, event_key: str, raw: str, now: datetime) -> bool:
        return await self._tx.insert_ignoring_conflicts(
            payment_events, {"order_id": order_id, "event_key": event_key, "raw": raw, "received_at": now}
        )
