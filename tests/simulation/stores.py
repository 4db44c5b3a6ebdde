"""Reading what the shop stored, for the invariants: through the ports where they say enough,
else straight from the store (the memory data, or plain SQL on SQLite). Change a read here and
every invariant follows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text as sql

from adapters.memory.storage import MemoryStore
from application.ports import Alert, UnitOfWork
from domain.money import Rupiah
from domain.order import Order
from domain.product import Product
from domain.wallet import LedgerEntry

EVERYTHING = 10**6


@dataclass
class Snapshot:
    orders: list[Order]
    balances: dict[str, Rupiah]
    ledgers: dict[str, list[LedgerEntry]]
    ledger_sums: dict[str, Rupiah]
    off_ledger: list[tuple[str, Rupiah, Rupiah]]
    products: dict[str, Product]
    free_items: dict[str, int]
    items: dict[str, list[str]]  # order id -> its stock items
    outbox_pending: int
    unfinished: set[str]
    dead: set[str]
    alerts: list[Alert] = field(default_factory=list)  # acknowledged ones too

    def order(self, order_id: str) -> Order | None:
        return next((o for o in self.orders if o.id == order_id), None)


class StoreView:
    """The reads the ports have no call for (the inbox's state): per store."""

    async def unfinished(self) -> set[str]:
        raise NotImplementedError

    async def dead(self) -> set[str]:
        raise NotImplementedError


class MemoryView(StoreView):
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def unfinished(self) -> set[str]:
        return {key for key, stored in self._store.data.inbox.items() if not stored.finished and stored.dead_at is None}

    async def dead(self) -> set[str]:
        return {key for key, stored in self._store.data.inbox.items() if stored.dead_at is not None}


class SqlView(StoreView):
    def __init__(self, engine: Any) -> None:
        self._engine = engine

    async def _rows(self, query: str) -> list[Any]:
        async with self._engine.connect() as connection:
            return list((await connection.execute(sql(query))).all())

    async def unfinished(self) -> set[str]:
        return {r[0] for r in await self._rows("SELECT message_id FROM inbox WHERE finished_at IS NULL AND dead_at IS NULL")}

    async def dead(self) -> set[str]:
        return {r[0] for r in await self._rows("SELECT message_id FROM inbox WHERE dead_at IS NOT NULL")}


async def snapshot(uow_factory: Callable[[], UnitOfWork], view: StoreView, users: list[str],
                   codes: list[str]) -> Snapshot:
    async with uow_factory() as uow:
        orders = await uow.orders.recent(None, EVERYTHING)
        balances = {u: (await uow.wallets.get(u)).balance for u in users}
        ledgers = {u: await uow.wallets.ledger(u, EVERYTHING) for u in users}
        sums = {u: await uow.wallets.ledger_sum(u) for u in users}
        off = await uow.wallets.off_ledger()
        products = {c: p for c in codes if (p := await uow.products.get(c)) is not None}
        free = await uow.products.free_item_counts()
        items = {o.id: await uow.products.items_of_order(o.id) for o in orders if o.product_code}
        pending = await uow.outbox.pending_count()
        alerts = await uow.alerts.recent(EVERYTHING)
    return Snapshot(orders, balances, ledgers, sums, off, products, free, items, pending,
                    await view.unfinished(), await view.dead(), alerts)
