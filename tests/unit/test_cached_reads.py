"""The cached reads: a miss reads its one statement through the single-statement unit of work
(on PostgreSQL: no BEGIN/ROLLBACK around it), never through a transaction."""

from __future__ import annotations

from typing import Any

from adapters.coordination.memory import MemoryCache
from adapters.memory.storage import MemoryStore, MemoryUnitOfWork
from application.services import ShopReads, ShopSettingsReader


def no_transaction() -> Any:
    raise AssertionError("a cached read opened a transaction")


async def test_cache_misses_are_read_by_single_statement_units() -> None:
    store, opened = MemoryStore(), []

    def single() -> MemoryUnitOfWork:
        opened.append(1)
        return MemoryUnitOfWork(store)

    reads = ShopReads(no_transaction, MemoryCache(), single_statement_uow=single)
    assert await reads.products() == [] and await reads.product("VC") is None
    assert (await reads.balance("62811")).value == 0 and (await reads.profile("62811")).language is None
    settings = ShopSettingsReader(no_transaction, MemoryCache(), single_statement_uow=single)
    assert (await settings.get()).language == "id"
    assert len(opened) == 5
    await reads.balance("62811")  # cached now: nothing read
    assert len(opened) == 5
