"""Cluster-wide leases of periodic jobs: one row per job, taken by one upsert that only
succeeds when the lease ran out (or is the caller's own), so one worker of all runs a round."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapters.storage.session import Transaction
from adapters.storage.tables import job_leases


class SqlAlchemyJobLeaseRepository:
    """`JobLeaseRepository` on SQLAlchemy Core."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def claim(self, job: str, holder: str, now: datetime, until: datetime) -> bool:
        insert = pg_insert(job_leases) if self._tx.is_postgres else sqlite_insert(job_leases)
        values = insert.values(job=job, holder=holder, until=until)
        statement = values.on_conflict_do_update(
            index_elements=[job_leases.c.job],
            set_={"holder": values.excluded.holder, "until": values.excluded.until},
            where=(job_leases.c.until <= now) | (job_leases.c.holder == holder),
        ).returning(job_leases.c.job)
        return (await self._tx.execute(statement)).first() is not None
