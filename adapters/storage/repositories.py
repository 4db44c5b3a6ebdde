"""The SQL repositories bound to one transaction: the same set for SQLite and PostgreSQL."""

from __future__ import annotations

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

    def _bind(self, tx: Transaction) -> None:
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
