"""The small repositories: shop settings, the inbox and outbox of WhatsApp messages, payment events."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, Row, String, Text, and_, any_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.storage.direct import prebuilt
from adapters.storage.session import Transaction, bound, bound_params
from adapters.storage.tables import UtcDateTime, inbox, outbox, payment_events, settings
from adapters.storage.wallets import SqlAlchemyCustomerRepository
from application.ports import Accepted, ClaimedMessage, DeadLetter, IncomingMessage, Outgoing, QueuedMessage
from application.replies import Reply
from application.serialization import reply_from_json, reply_to_json
from domain.product import Tier


# The per-message writes, built once: values come as parameters, so SQLAlchemy neither rebuilds
# these statements nor walks them for a cache key on every message.
_FINISH = prebuilt(update(inbox).where(inbox.c.message_id == bindparam("finished_id")).values(**bound(inbox, "finished_at")))
_RENEW = prebuilt(
    update(inbox).where(inbox.c.message_id == bindparam("renewed_id"), inbox.c.finished_at.is_(None))
    .values(**bound(inbox, "lease_until"))
)
_QUEUE = prebuilt(
    outbox.insert()
    .values(**bound(outbox, "recipient", "payload", "created_at", "lease_until", "attempts"))
    .returning(outbox.c.id)
)
# SQLite, one message at a time (one, nearly always): a prebuilt statement costs a few
# microseconds, an IN list or a CASE goes through SQLAlchemy's compiler each time.
_MARK_ONE_SENT = prebuilt(update(outbox).where(outbox.c.id == bindparam("sent_id")).values(**bound(outbox, "sent_at")))
_MARK_ONE_SENT_WITH_ID = prebuilt(
    update(outbox).where(outbox.c.id == bindparam("sent_id")).values(**bound(outbox, "sent_at", "provider_id")))
_RELEASE_HELD = prebuilt(text("""
    UPDATE outbox SET held_at = NULL, lease_until = :lease_until, attempts = 0
    WHERE recipient = :recipient AND held_at IS NOT NULL
    RETURNING id, recipient, payload, attempts
""").bindparams(bindparam("lease_until", type_=UtcDateTime()), bindparam("recipient", type_=String)).columns(
    id=BigInteger, recipient=String, payload=Text, attempts=Integer))
# PostgreSQL: a message accepted and its sender made a customer (remembering the business-scoped
# id it came with) in one statement, so with autocommit one round trip; 1 when new, 0 for a redelivery.
_RECORD_PG = prebuilt(text("""
    WITH new_message AS (
        INSERT INTO inbox (message_id, received_at, sender, body, lease_until, sent_at, attempts)
        VALUES (:message_id, :now, :sender, :body, :lease_until, :sent_at, 1)
        ON CONFLICT DO NOTHING
        RETURNING sender
    ), customer AS (
        INSERT INTO users (user_id, saldo, role, data, created_at)
        SELECT sender, 0, :role, :data, :now FROM new_message
        ON CONFLICT DO NOTHING
    ), known_customer AS (
        -- Touches (and locks) an existing customer's row only when the id is new to it.
        UPDATE users SET data = users.data || :data
        WHERE users.user_id = (SELECT sender FROM new_message)
          AND CAST(:business_user_id AS VARCHAR) IS NOT NULL
          AND users.data ->> 'business_user_id' IS DISTINCT FROM :business_user_id
    )
    SELECT count(*) AS accepted,
           -- Whether the outbox holds messages for the sender (ix_outbox_held: nothing held, nothing read).
           count(*) > 0 AND EXISTS (SELECT 1 FROM outbox WHERE recipient = :sender AND held_at IS NOT NULL) AS held
    FROM new_message
""").bindparams(
    bindparam("message_id", type_=String), bindparam("now", type_=UtcDateTime()), bindparam("sender", type_=String),
    bindparam("body", type_=JSONB), bindparam("lease_until", type_=UtcDateTime()),
    bindparam("sent_at", type_=UtcDateTime()), bindparam("role", type_=String),
    bindparam("data", type_=JSONB), bindparam("business_user_id", type_=String),
).columns(accepted=Integer, held=Boolean))
# PostgreSQL: `_RECORD_PG` for several messages in one statement (accepts arriving together); the
# message ids given are distinct. Each new message's id, and whether its sender has held messages.
_RECORD_MANY_PG = prebuilt(text("""
    WITH incoming AS (
        SELECT * FROM unnest(CAST(:message_ids AS VARCHAR[]), CAST(:senders AS VARCHAR[]), CAST(:bodies AS TEXT[]),
                             CAST(:received AS TIMESTAMPTZ[]), CAST(:leases AS TIMESTAMPTZ[]),
                             CAST(:sent AS TIMESTAMPTZ[]), CAST(:business_user_ids AS VARCHAR[]))
            AS m(message_id, sender, body, received_at, lease_until, sent_at, business_user_id)
    ), new_message AS (
        INSERT INTO inbox (message_id, received_at, sender, body, lease_until, sent_at, attempts)
        SELECT message_id, received_at, sender, CAST(body AS JSONB), lease_until, sent_at, 1 FROM incoming
        ON CONFLICT DO NOTHING
        RETURNING message_id, sender
    ), arrived AS (
        -- One row per sender, as if their messages came one by one: a customer from the first, the
        -- business id of the latest that has one.
        SELECT DISTINCT ON (incoming.sender) incoming.sender, incoming.business_user_id,
               min(incoming.received_at) OVER (PARTITION BY incoming.sender) AS received_at
        FROM new_message JOIN incoming USING (message_id)
        ORDER BY incoming.sender, incoming.business_user_id IS NULL, incoming.received_at DESC
    ), customer AS (
        INSERT INTO users (user_id, saldo, role, data, created_at)
        SELECT sender, 0, :role,
               CASE WHEN business_user_id IS NULL THEN CAST('{}' AS JSONB)
                    ELSE jsonb_build_object('business_user_id', business_user_id) END,
               received_at
        FROM arrived
        ON CONFLICT DO NOTHING
    ), known_customer AS (
        UPDATE users SET data = users.data || jsonb_build_object('business_user_id', arrived.business_user_id)
        FROM arrived
        WHERE users.user_id = arrived.sender AND arrived.business_user_id IS NOT NULL
          AND users.data ->> 'business_user_id' IS DISTINCT FROM arrived.business_user_id
    )
    SELECT new_message.message_id,
           EXISTS (SELECT 1 FROM outbox WHERE recipient = new_message.sender AND held_at IS NOT NULL) AS held
    FROM new_message
""").bindparams(
    bindparam("message_ids", type_=ARRAY(String)), bindparam("senders", type_=ARRAY(String)),
    bindparam("bodies", type_=ARRAY(Text)), bindparam("received", type_=ARRAY(DateTime(timezone=True))),
    bindparam("leases", type_=ARRAY(DateTime(timezone=True))), bindparam("sent", type_=ARRAY(DateTime(timezone=True))),
    bindparam("business_user_ids", type_=ARRAY(String)), bindparam("role", type_=String),
).columns(message_id=String, held=Boolean))
# PostgreSQL: a reply queued and the message it answers marked finished, in one statement.
_QUEUE_FINISHING_PG = prebuilt(text("""
    WITH finished AS (
        UPDATE inbox SET finished_at = :created_at WHERE message_id = :finishes
    )
    INSERT INTO outbox (recipient, payload, created_at, lease_until, attempts)
    VALUES (:recipient, :payload, :created_at, :lease_until, 0)
    RETURNING id
""").bindparams(
    bindparam("created_at", type_=UtcDateTime()), bindparam("finishes", type_=String),
    bindparam("recipient", type_=String), bindparam("payload", type_=Text()),
    bindparam("lease_until", type_=UtcDateTime()),
).columns(id=BigInteger))
# PostgreSQL: `_QUEUE_FINISHING_PG` for several replies in one statement (replies queued together),
# each finishing its own inbox message (or none). The payloads are encrypted with a random IV, so
# each identifies its row among those returned.
_QUEUE_MANY_PG = prebuilt(text("""
    WITH queued AS (
        SELECT * FROM unnest(CAST(:recipients AS VARCHAR[]), CAST(:payloads AS TEXT[]),
                             CAST(:created AS TIMESTAMPTZ[]), CAST(:leases AS TIMESTAMPTZ[]),
                             CAST(:finishes AS VARCHAR[]))
            AS q(recipient, payload, created_at, lease_until, finishes)
    ), finished AS (
        UPDATE inbox SET finished_at = queued.created_at FROM queued WHERE inbox.message_id = queued.finishes
    )
    INSERT INTO outbox (recipient, payload, created_at, lease_until, attempts)
    SELECT recipient, payload, created_at, lease_until, 0 FROM queued
    RETURNING id, payload
""").bindparams(
    bindparam("recipients", type_=ARRAY(String)), bindparam("payloads", type_=ARRAY(Text)),
    bindparam("created", type_=ARRAY(DateTime(timezone=True))), bindparam("leases", type_=ARRAY(DateTime(timezone=True))),
    bindparam("finishes", type_=ARRAY(String)),
).columns(id=BigInteger, payload=Text))
# PostgreSQL: a number's held messages released to the caller; runs for every new incoming message,
# so built once (with nothing held, the usual case, an index probe that finds nothing).
_RELEASE_HELD_PG = prebuilt(text("""
    UPDATE outbox SET held_at = NULL, lease_until = :lease_until, attempts = 0
    WHERE id IN (SELECT id FROM outbox WHERE recipient = :recipient AND held_at IS NOT NULL FOR UPDATE SKIP LOCKED)
      AND held_at IS NOT NULL
    RETURNING id, recipient, payload, attempts
""").bindparams(bindparam("lease_until", type_=UtcDateTime()), bindparam("recipient", type_=String)).columns(
    id=BigInteger, recipient=String, payload=Text, attempts=Integer))
# SQLite: whether the outbox holds messages for a number that wrote (ix_outbox_held).
_HELD_FOR = prebuilt(select(outbox.c.id).where(outbox.c.recipient == bindparam("recipient", type_=String),
                                               outbox.c.held_at.is_not(None)).limit(1))
# PostgreSQL takes the ids as one array parameter: one statement text for any number of ids.
_MARK_SENT_ARRAY = prebuilt(
    update(outbox).where(outbox.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger)))).values(**bound(outbox, "sent_at"))
)
# PostgreSQL: messages marked sent with the transport's id of each, one statement for any number.
_MARK_SENT_WITH_IDS_PG = prebuilt(text("""
    UPDATE outbox SET sent_at = :sent_at, provider_id = sent.provider_id
    FROM unnest(CAST(:ids AS BIGINT[]), CAST(:provider_ids AS VARCHAR[])) AS sent(id, provider_id)
    WHERE outbox.id = sent.id
""").bindparams(
    bindparam("sent_at", type_=UtcDateTime()), bindparam("ids", type_=ARRAY(BigInteger)),
    bindparam("provider_ids", type_=ARRAY(String)),
))


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
        return (await self.accept(message, now, lease_until)).first

    async def accept_all(self, arrivals: Sequence[tuple[IncomingMessage, datetime, datetime]]) -> list[Accepted]:
        if not self._tx.is_postgres or len(arrivals) == 1:
            return [await self.accept(message, now, lease_until) for message, now, lease_until in arrivals]
        distinct = list({message.message_id: (message, now, lease) for message, now, lease in reversed(arrivals)}
                        .values())  # of an id given twice, its first arrival
        seal = self._tx.cipher.seal
        rows = await self._tx.execute(_RECORD_MANY_PG, {
            "message_ids": [m.message_id for m, _, _ in distinct], "senders": [m.sender for m, _, _ in distinct],
            "bodies": [json.dumps(seal({"text": m.text, "business_user_id": m.business_user_id}))
                       for m, _, _ in distinct],
            "received": [now for _, now, _ in distinct], "leases": [lease for _, _, lease in distinct],
            "sent": [m.sent_at for m, _, _ in distinct], "business_user_ids": [m.business_user_id for m, _, _ in distinct],
            "role": Tier.BRONZE.value,
        })
        held = {row.message_id: bool(row.held) for row in rows}
        answers: list[Accepted] = []
        for message, _, _ in arrivals:
            new = message.message_id in held
            answers.append(Accepted(first=new, held=held.pop(message.message_id) if new else False))
        return answers

    async def accept(self, message: IncomingMessage, now: datetime, lease_until: datetime) -> Accepted:
        # Sealed: an admin's `.addstok` lines are secrets, and any message is the customer's own.
        body = self._tx.cipher.seal({"text": message.text, "business_user_id": message.business_user_id})
        if self._tx.is_postgres:
            row = (await self._tx.execute(_RECORD_PG, {
                "message_id": message.message_id, "now": now, "sender": message.sender, "body": body,
                "lease_until": lease_until, "sent_at": message.sent_at, "role": Tier.BRONZE.value,
                "data": {"business_user_id": message.business_user_id} if message.business_user_id else {},
                "business_user_id": message.business_user_id,
            })).first()
            return Accepted(first=bool(row.accepted), held=bool(row.held))
        inserted = await self._tx.insert_ignoring_conflicts(inbox, {
            "message_id": message.message_id, "received_at": now, "sender": message.sender, "body": body,
            "lease_until": lease_until, "sent_at": message.sent_at, "attempts": 1,
        })
        if inserted:
            customers = SqlAlchemyCustomerRepository(self._tx)
            await customers.ensure(message.sender, now)
            if message.business_user_id:
                customer = await customers.get(message.sender)
                if customer is not None and customer.business_user_id != message.business_user_id:
                    customer.business_user_id = message.business_user_id
                    await customers.save(customer)
            held = (await self._tx.execute(_HELD_FOR, {"recipient": message.sender})).first() is not None
            return Accepted(first=True, held=held)
        return Accepted(first=False, held=False)

    async def claim_stale(self, now: datetime, lease_until: datetime, limit: int = 50) -> list[ClaimedMessage]:
        stale = (select(inbox.c.message_id).where(inbox.c.finished_at.is_(None), inbox.c.lease_until <= now)
                 .order_by(inbox.c.received_at).limit(limit))
        if self._tx.is_postgres:
            stale = stale.with_for_update(skip_locked=True)
        rows = await self._tx.execute(
            update(inbox).where(inbox.c.message_id.in_(stale.scalar_subquery()))
            .values(lease_until=lease_until, attempts=inbox.c.attempts + 1)
            .returning(inbox.c.message_id, inbox.c.sender, inbox.c.body, inbox.c.received_at, inbox.c.sent_at,
                       inbox.c.attempts))
        ordered = sorted(rows, key=lambda row: row.received_at)
        return [ClaimedMessage(_incoming(self._tx, row), int(row.attempts)) for row in ordered]

    async def renew(self, message_id: str, lease_until: datetime) -> bool:
        result = await self._tx.execute(_RENEW, {"renewed_id": message_id, "v_lease_until": lease_until})
        return result.rowcount == 1

    async def finish(self, message_id: str, now: datetime) -> None:
        await self._tx.execute(_FINISH, {"finished_id": message_id, "v_finished_at": now})

    async def dead_letter(self, message_id: str, now: datetime) -> bool:
        result = await self._tx.execute(
            update(inbox).where(inbox.c.message_id == message_id, inbox.c.finished_at.is_(None))
            .values(finished_at=now, dead_at=now, attempts=inbox.c.attempts - 1))
        return result.rowcount == 1

    async def dead_letters(self, limit: int = 50) -> list[DeadLetter]:
        rows = await self._tx.execute(
            select(inbox.c.message_id, inbox.c.sender, inbox.c.body, inbox.c.received_at, inbox.c.sent_at,
                   inbox.c.attempts, inbox.c.dead_at)
            .where(inbox.c.dead_at.is_not(None)).order_by(inbox.c.dead_at.desc(), inbox.c.message_id.desc())
            .limit(limit))
        return [DeadLetter(row.message_id, row.sender, opened_body(self._tx, row.body).get("text"), row.received_at,
                           row.sent_at,
                           int(row.attempts), row.dead_at) for row in rows]

    async def mark_applied(self, message_id: str, now: datetime) -> bool:
        result = await self._tx.execute(
            update(inbox).where(inbox.c.message_id == message_id, inbox.c.applied_at.is_(None))
            .values(applied_at=now))
        if result.rowcount == 1:
            return True
        # Already applied, or a message the inbox never had (nothing to tell it apart from).
        known = (await self._tx.execute(select(inbox.c.message_id).where(inbox.c.message_id == message_id))).first()
        return known is None


class SqlAlchemyOutboxRepository:
    """`OutboxRepository`: rows claimed with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL)."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, to: str, reply: Reply, now: datetime, lease_until: datetime, *,
                  finishes: str | None = None) -> int:
        values = {"recipient": to, "payload": self._tx.cipher.encrypt(reply_to_json(reply)), "created_at": now,
                  "lease_until": lease_until}
        if finishes is not None and self._tx.is_postgres:
            return int((await self._tx.execute(_QUEUE_FINISHING_PG, {**values, "finishes": finishes})).scalar_one())
        result = await self._tx.execute(_QUEUE, bound_params({**values, "attempts": 0}))
        if finishes is not None:
            await self._tx.execute(_FINISH, {"finished_id": finishes, "v_finished_at": now})
        return int(result.scalar_one())

    async def add_all(self, messages: Sequence[Outgoing]) -> list[int]:
        if not self._tx.is_postgres or len(messages) == 1:
            return [await self.add(m.to, m.reply, m.now, m.lease_until, finishes=m.finishes) for m in messages]
        payloads = [self._tx.cipher.encrypt(reply_to_json(m.reply)) for m in messages]
        if len(set(payloads)) < len(payloads):  # cannot happen with a random IV; never guess, then
            return [await self.add(m.to, m.reply, m.now, m.lease_until, finishes=m.finishes) for m in messages]
        rows = await self._tx.execute(_QUEUE_MANY_PG, {
            "recipients": [m.to for m in messages], "payloads": payloads, "created": [m.now for m in messages],
            "leases": [m.lease_until for m in messages], "finishes": [m.finishes for m in messages],
        })
        ids = {row.payload: int(row.id) for row in rows}
        return [ids[payload] for payload in payloads]

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int = 50) -> list[QueuedMessage]:
        due = (select(outbox.c.id).where(_UNSENT, outbox.c.held_at.is_(None), outbox.c.lease_until <= now)
               .order_by(outbox.c.id).limit(limit))
        if self._tx.is_postgres:
            due = due.with_for_update(skip_locked=True)
        rows = await self._tx.execute(
            update(outbox).where(outbox.c.id.in_(due.scalar_subquery())).values(lease_until=lease_until)
            .returning(outbox.c.id, outbox.c.recipient, outbox.c.payload, outbox.c.attempts))
        return sorted((_queued(self._tx, row) for row in rows), key=lambda m: m.id)

    async def get(self, message_id: int) -> QueuedMessage | None:
        row = (await self._tx.execute(
            select(outbox.c.id, outbox.c.recipient, outbox.c.payload, outbox.c.attempts)
            .where(outbox.c.id == message_id, _UNSENT))).first()
        return _queued(self._tx, row) if row is not None else None

    async def renew(self, message_id: int, lease_until: datetime) -> bool:
        result = await self._tx.execute(
            update(outbox).where(outbox.c.id == message_id, _UNSENT).values(lease_until=lease_until))
        return result.rowcount == 1

    async def mark_sent(self, message_ids: list[int], now: datetime,
                        provider_ids: dict[int, str] | None = None) -> None:
        if not self._tx.is_postgres:
            for message_id in message_ids:
                if provider_ids:
                    await self._tx.execute(_MARK_ONE_SENT_WITH_ID, {
                        "sent_id": message_id, "v_sent_at": now, "v_provider_id": provider_ids.get(message_id)})
                else:
                    await self._tx.execute(_MARK_ONE_SENT, {"sent_id": message_id, "v_sent_at": now})
            return
        if not provider_ids:
            await self._tx.execute(_MARK_SENT_ARRAY, {"ids": list(message_ids), "v_sent_at": now})
            return
        await self._tx.execute(_MARK_SENT_WITH_IDS_PG, {
            "sent_at": now, "ids": list(message_ids),
            "provider_ids": [provider_ids.get(message_id) for message_id in message_ids],
        })

    async def hold(self, message_id: int, now: datetime) -> None:
        await self._tx.execute(
            update(outbox).where(outbox.c.id == message_id, outbox.c.abandoned_at.is_(None))
            .values(held_at=now, sent_at=None, provider_id=None))

    async def retry(self, message_id: int, until: datetime) -> None:
        await self._tx.execute(
            update(outbox).where(outbox.c.id == message_id, outbox.c.abandoned_at.is_(None))
            .values(sent_at=None, held_at=None, provider_id=None, lease_until=until, attempts=outbox.c.attempts + 1))

    async def release_held(self, to: str, lease_until: datetime) -> list[QueuedMessage]:
        statement = _RELEASE_HELD_PG if self._tx.is_postgres else _RELEASE_HELD
        rows = await self._tx.execute(statement, {"lease_until": lease_until, "recipient": to})
        return sorted((_queued(self._tx, row) for row in rows), key=lambda m: m.id)

    async def take_refused(self, provider_id: str) -> QueuedMessage | None:
        row = (await self._tx.execute(
            update(outbox).where(outbox.c.provider_id == provider_id, outbox.c.sent_at.is_not(None))
            .values(provider_id=None)
            .returning(outbox.c.id, outbox.c.recipient, outbox.c.payload, outbox.c.attempts))).first()
        return _queued(self._tx, row) if row is not None else None

    async def postpone(self, message_id: int, until: datetime) -> None:
        await self._tx.execute(update(outbox).where(outbox.c.id == message_id)
                               .values(lease_until=until, attempts=outbox.c.attempts + 1))

    async def give_up(self, message_id: int, now: datetime) -> None:
        await self._tx.execute(update(outbox).where(outbox.c.id == message_id).values(abandoned_at=now))

    async def pending_count(self) -> int:
        return int((await self._tx.execute(
            select(func.count()).select_from(outbox).where(_UNSENT, outbox.c.held_at.is_(None)))).scalar_one())

    async def recipient_wrote_since_queued(self, message_id: int) -> bool:
        # Only the inbox rows received since the message was queued are looked at (ix_inbox_received).
        wrote = (select(inbox.c.message_id).select_from(outbox.join(
            inbox, and_(inbox.c.sender == outbox.c.recipient, inbox.c.received_at > outbox.c.created_at)))
            .where(outbox.c.id == message_id).limit(1))
        return (await self._tx.execute(wrote)).first() is not None

    async def held_count(self, to: str | None = None) -> int:
        held = select(func.count()).select_from(outbox).where(outbox.c.held_at.is_not(None))
        if to is not None:
            held = held.where(outbox.c.recipient == to)
        return int((await self._tx.execute(held)).scalar_one())


_UNSENT = and_(outbox.c.sent_at.is_(None), outbox.c.abandoned_at.is_(None))


def _queued(tx: Transaction, row: Row[Any]) -> QueuedMessage:
    return QueuedMessage(int(row.id), row.recipient, reply_from_json(tx.cipher.decrypt(row.payload)), int(row.attempts))


def opened_body(tx: Transaction, body: Any) -> dict[str, Any]:
    """An inbox body as stored (a sealed JSON string; None once forgotten) opened."""
    if isinstance(body, str):
        opened = tx.cipher.unseal(body)
        return opened if isinstance(opened, dict) else {}
    return {}


def _incoming(tx: Transaction, row: Row[Any]) -> IncomingMessage:
    body = opened_body(tx, row.body)
    return IncomingMessage(row.message_id, row.sender, body.get("text"), body.get("business_user_id"), row.sent_at)


class SqlAlchemyPaymentEventRepository:
    """`PaymentEventRepository`: a unique event key stores each notification once."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def record(self, order_id: str, event_key: str, raw: str, now: datetime) -> bool:
        return await self._tx.insert_ignoring_conflicts(
            payment_events, {"order_id": order_id, "event_key": event_key, "raw": raw, "received_at": now}
        )
