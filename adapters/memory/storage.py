"""An in-memory unit of work that behaves like a database transaction.

Each unit of work works on a deep copy of the store and publishes it on commit, under one
asyncio lock held for the whole unit of work: the same serialisation SQLite's BEGIN IMMEDIATE
gives, so the concurrency rules hold here too. The rules the database enforces (unique codes,
one PENDING order per user, unique ledger references, unique stock items) raise the same
domain errors as the SQL adapters.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

from adapters.memory.alerts import MemoryAlertRepository, MemoryJobLeaseRepository
from adapters.memory.records import MemoryData
from adapters.memory.repositories import (
    MemoryCustomerRepository, MemoryHousekeepingRepository, MemoryInboxRepository, MemoryOrderRepository, MemoryOutboxRepository,
    MemoryPaymentEventRepository, MemoryProductRepository, MemorySettingsRepository, MemoryWalletRepository,
)

__all__ = ["MemoryData", "MemoryStore", "MemoryUnitOfWork"]


class MemoryStore:
    """The committed state, shared by every unit of work of one process."""

    def __init__(self) -> None:
        self.data = MemoryData()
        self.lock = asyncio.Lock()


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._data = MemoryData()
        self._held = False

    async def __aenter__(self) -> MemoryUnitOfWork:
        await self._store.lock.acquire()
        self._held = True
        self._data = copy.deepcopy(self._store.data)
        self.products = MemoryProductRepository(self._data)
        self.customers = MemoryCustomerRepository(self._data)
        self.wallets = MemoryWalletRepository(self._data)
        self.orders = MemoryOrderRepository(self._data)
        self.settings = MemorySettingsRepository(self._data)
        self.inbox = MemoryInboxRepository(self._data)
        self.payments = MemoryPaymentEventRepository(self._data)
        self.outbox = MemoryOutboxRepository(self._data)
        self.alerts = MemoryAlertRepository(self._data)
        self.housekeeping = MemoryHousekeepingRepository(self._data)
        self.leases = MemoryJobLeaseRepository(self._data)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        if self._held:
            self._store.data = self._data
            self._data = copy.deepcopy(self._data)
            self._rebind()

    @asynccontextmanager
    async def batched(self) -> AsyncIterator[None]:
        """Every write runs at once here: nothing to hold."""
        yield

    async def rollback(self) -> None:
        if self._held:
            self._held = False
            self._store.lock.release()

    def _rebind(self) -> None:
        for repo in (self.products, self.customers, self.wallets, self.orders, self.settings, self.inbox, self.payments,
                     self.outbox, self.alerts, self.housekeeping, self.leases):
            repo.data = self._data
