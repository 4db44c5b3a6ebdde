"""Housekeeping on SQL: retention (small batches, oldest first), cluster-wide job rounds, and a
customer's data (export, forgetting)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.storage.records import opened_body
from adapters.storage.session import Transaction
from adapters.storage.tables import (
    alerts, inbox, job_leases, ledger, outbox, payment_events, stock_items, transaksi, users,
)
from application.ports import StoredText
from application.serialization import reply_from_json


class SqlAlchemyHousekeepingRepository:
    """`HousekeepingRepository` on SQLAlchemy Core (PostgreSQL skips rows other instances hold)."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def claim_job(self, name: str, now: datetime, until: datetime) -> bool:
        insert = pg_insert(job_leases) if self._tx.is_postgres else sqlite_insert(job_leases)
        # The job leases' table: a round taken only once the last one ran out (any holder).
        statement = insert.values(job=name, holder="housekeeping", until=until).on_conflict_do_update(
            index_elements=[job_leases.c.job], set_={"until": until, "holder": "housekeeping"},
            where=job_leases.c.until <= now,
        ).returning(job_leases.c.job)
        return (await self._tx.execute(statement)).first() is not None

    async def prune_inbox(self, received_before: datetime, limit: int) -> int:
        oldest = (select(inbox.c.message_id)
                  .where(inbox.c.received_at < received_before, inbox.c.finished_at.is_not(None))
                  .order_by(inbox.c.received_at).limit(limit))
        if self._tx.is_postgres:
            oldest = oldest.with_for_update(skip_locked=True)
        result = await self._tx.execute(delete(inbox).where(inbox.c.message_id.in_(oldest.scalar_subquery())))
        return int(result.rowcount)

    async def prune_outbox(self, created_before: datetime, limit: int) -> int:
        done = or_(outbox.c.sent_at.is_not(None), outbox.c.abandoned_at.is_not(None))
        oldest = (select(outbox.c.id).where(outbox.c.created_at < created_before, done)
                  .order_by(outbox.c.id).limit(limit))
        if self._tx.is_postgres:
            oldest = oldest.with_for_update(skip_locked=True)
        result = await self._tx.execute(delete(outbox).where(outbox.c.id.in_(oldest.scalar_subquery())))
        return int(result.rowcount)

    async def prune_payment_events(self, received_before: datetime, limit: int) -> int:
        oldest = (select(payment_events.c.id).where(payment_events.c.received_at < received_before)
                  .order_by(payment_events.c.id).limit(limit))
        if self._tx.is_postgres:
            oldest = oldest.with_for_update(skip_locked=True)
        result = await self._tx.execute(
            delete(payment_events).where(payment_events.c.id.in_(oldest.scalar_subquery())))
        return int(result.rowcount)

    async def messages_of(self, user_id: str, limit: int = 1000) -> list[StoredText]:
        found: list[StoredText] = []
        received = await self._tx.execute(
            select(inbox.c.received_at, inbox.c.body).where(inbox.c.sender == user_id)
            .order_by(inbox.c.received_at).limit(limit))
        for row in received:
            text = opened_body(self._tx, row.body).get("text")
            if text is not None:
                found.append(StoredText("in", row.received_at, text))
        sent = await self._tx.execute(
            select(outbox.c.created_at, outbox.c.payload).where(outbox.c.recipient == user_id)
            .order_by(outbox.c.id).limit(limit))
        for row in sent:
            reply = reply_from_json(self._tx.cipher.decrypt(row.payload))
            found.append(StoredText("out", row.created_at, reply.text, reply))
        return sorted(found, key=lambda m: m.at)[:limit]

    async def forget_customer(self, user_id: str, pseudonym: str) -> None:
        tx = self._tx
        customer = (await tx.execute(select(users).where(users.c.user_id == user_id)
                                     .with_for_update())).first()
        if customer is None:
            return
        # The ledger refers to the customer's row: a new row under the pseudonym takes it over.
        await tx.execute(users.insert().values(user_id=pseudonym, saldo=customer.saldo, role=customer.role,
                                               data={}, created_at=customer.created_at))
        await tx.execute(update(ledger).where(ledger.c.user_id == user_id).values(user_id=pseudonym))
        await tx.execute(delete(users).where(users.c.user_id == user_id))
        order_ids = list((await tx.execute(select(transaksi.c.id).where(transaksi.c.user_id == user_id))).scalars())
        await tx.execute(update(transaksi).where(transaksi.c.user_id == user_id).values(user_id=pseudonym))
        if order_ids:
            # The goods delivered to them are their secrets now: gone, the row (and count) kept.
            delivered = list((await tx.execute(select(stock_items.c.id)
                                               .where(stock_items.c.order_id.in_(order_ids)))).scalars())
            for item_id in delivered:
                await tx.execute(update(stock_items).where(stock_items.c.id == item_id).values(
                    content=tx.cipher.encrypt(""), content_hash=f"forgotten:{item_id}"))
            events = await tx.execute(select(payment_events.c.id, payment_events.c.raw)
                                      .where(payment_events.c.order_id.in_(order_ids)))
            for event in list(events):
                if user_id in event.raw:
                    await tx.execute(update(payment_events).where(payment_events.c.id == event.id)
                                     .values(raw=event.raw.replace(user_id, pseudonym)))
        await tx.execute(delete(inbox).where(inbox.c.sender == user_id))
        await tx.execute(delete(outbox).where(outbox.c.recipient == user_id))
        mentioned = await tx.execute(select(alerts.c.id, alerts.c.subject, alerts.c.params))
        for alert in list(mentioned):
            params: dict[str, Any] = dict(alert.params or {})
            if user_id not in alert.subject and not any(user_id in str(v) for v in params.values()):
                continue
            await tx.execute(update(alerts).where(alerts.c.id == alert.id).values(
                subject=alert.subject.replace(user_id, pseudonym),
                params={k: str(v).replace(user_id, pseudonym) for k, v in params.items()}))
