"""The SQL repositories bound to one transaction: the same set for SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

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


def bind_repositories(uow: Any, tx: Transaction) -> None:
    uow.products = SqlAlchemyProductRepository(tx)
    uow.customers = SqlAlchemyCustomerRepository(tx)
    uow.wallets = SqlAlchemyWalletRepository(tx)
    uow.orders = SqlAlchemyOrderRepository(tx)
    uow.settings = SqlAlchemySettingsRepository(tx)
    uow.inbox = SqlAlchemyInboxRepository(tx)
    uow.payments = SqlAlchemyPaymentEventRepository(tx)
    uow.outbox = SqlAlchemyOutboxRepository(tx)
