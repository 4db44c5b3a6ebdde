"""The SQL repositories bound to one transaction: the same set for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from adapters.storage.alerts import SqlAlchemyAlertRepository
from adapters.storage.housekeeping import SqlAlchemyHousekeepingRepository
from adapters.storage.leases import SqlAlchemyJobLeaseRepository
from adapters.storage.orders import SqlAlchemyOrderRepository
from adapters.storage.products import SqlAlchemyProductRepository
from adapters.storage.records import (
    SqlAlchemyInboxRepository,
    SqlAlchemyOutboxRepository,
    SqlAlchemyPaymentEventRepository,
    SqlAlchemySettingsRepository,
)
from adapters.storage.session import Transaction
from adapters.storage.wallets import SqlAlchemyCustomerRepository, SqlAlchemyWalletRepository


class SqlRepositories:
    """The repositories of a SQL unit of work, bound when it opens its transaction."""

    products: SqlAlchemyProductRepository
    customers: SqlAlchemyCustomerRepository
    wallets: SqlAlchemyWalletRepository
    orders: SqlAlchemyOrderRepository
    settings: SqlAlchemySettingsRepository
    inbox: SqlAlchemyInboxRepository
    payments: SqlAlchemyPaymentEventRepository
    outbox: SqlAlchemyOutboxRepository
    alerts: SqlAlchemyAlertRepository
    housekeeping: SqlAlchemyHousekeepingRepository
    leases: SqlAlchemyJobLeaseRepository

    _bound: Transaction

    @asynccontextmanager
    async def batched(self) -> AsyncIterator[None]:
        """`UnitOfWork.batched`: the transaction holds writes while the block runs (PostgreSQL),
        and sends what is still held when it ends, even by an error: a held write's own error
        comes first, as it would have at once. (Cancelled: dropped unsent, and the unit may
        only roll back.) A nested scope belongs to the outer one."""
        tx = self._bound
        if not tx.can_hold or tx.holding:
            yield
            return
        tx.holding = True
        try:
            yield
        except Exception:
            tx.holding = False
            await tx.flush()
            raise
        except BaseException:
            tx.holding = False
            tx.discard()
            raise
        tx.holding = False
        await tx.flush()

    def _bind(self, tx: Transaction) -> None:
        self._bound = tx
        self.products = SqlAlchemyProductRepository(tx)
        self.customers = SqlAlchemyCustomerRepository(tx)
        self.wallets = SqlAlchemyWalletRepository(tx)
        self.orders = SqlAlchemyOrderRepository(tx)
        self.settings = SqlAlchemySettingsRepository(tx)
        self.inbox = SqlAlchemyInboxRepository(tx)
        self.payments = SqlAlchemyPaymentEventRepository(tx)
        self.outbox = SqlAlchemyOutboxRepository(tx)
        self.alerts = SqlAlchemyAlertRepository(tx)
        self.housekeeping = SqlAlchemyHousekeepingRepository(tx)
        self.leases = SqlAlchemyJobLeaseRepository(tx)
