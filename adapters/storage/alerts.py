"""Alerts: rows admins see until they acknowledge them; one open alert per kind and subject is
the partial unique index's job, so repeats of a cause (on any worker) add nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.storage.session import Transaction
from adapters.storage.tables import alerts
from application.ports import Alert
from domain.money import Rupiah


def _to_alert(row: Row[Any]) -> Alert:
    return Alert(kind=row.kind, subject=row.subject, params={str(k): str(v) for k, v in (row.params or {}).items()},
                 created_at=row.created_at, amount=Rupiah(row.amount) if row.amount is not None else None,
                 id=row.id, acknowledged_at=row.acknowledged_at)


class SqlAlchemyAlertRepository:
    """`AlertRepository` on SQLAlchemy Core."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def raise_(self, alert: Alert) -> int | None:
        insert = pg_insert(alerts) if self._tx.is_postgres else sqlite_insert(alerts)
        statement = insert.values(
            kind=alert.kind, subject=alert.subject[:255], params=alert.params, created_at=alert.created_at,
            amount=alert.amount.value if alert.amount is not None else None,
        ).on_conflict_do_nothing().returning(alerts.c.id)
        row = (await self._tx.execute(statement)).first()
        return int(row.id) if row is not None else None

    async def open(self, limit: int = 100) -> list[Alert]:
        query = (select(alerts).where(alerts.c.acknowledged_at.is_(None))
                 .order_by(alerts.c.created_at.desc(), alerts.c.id.desc()).limit(limit))
        return [_to_alert(row) for row in await self._tx.execute(query)]

    async def recent(self, limit: int = 50) -> list[Alert]:
        query = select(alerts).order_by(alerts.c.created_at.desc(), alerts.c.id.desc()).limit(limit)
        return [_to_alert(row) for row in await self._tx.execute(query)]

    async def acknowledge(self, alert_id: int, now: datetime) -> bool:
        result = await self._tx.execute(
            update(alerts).where(alerts.c.id == alert_id, alerts.c.acknowledged_at.is_(None)).values(acknowledged_at=now))
        return result.rowcount == 1

    async def resolve(self, kind: str, subject: str, now: datetime) -> bool:
        result = await self._tx.execute(
            update(alerts).where(alerts.c.kind == kind, alerts.c.subject == subject[:255],
                                 alerts.c.acknowledged_at.is_(None)).values(acknowledged_at=now))
        return result.rowcount >= 1
