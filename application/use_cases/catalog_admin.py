"""Admin use cases on products and stock.

Each edit may carry the id of the chat message that asked for it (`request_id`): the edit then
happens once however often the message runs. The inbox row is marked applied in the edit's own
transaction, and a later run finds the mark, changes nothing and answers with the product as it
is now.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork, UnitOfWorkFactory
from application.services import Notifier, ShopReads, ShopSettingsReader
from domain.errors import DuplicateProductCode, ProductNotFound
from domain.product import Product, product_code

LOW_STOCK_ALERT = "alert.low_stock"


@dataclass(frozen=True)
class AddProductCommand:
    code: str
    name: str
    price: int
    stock: int
    description: str = ""
    request_id: str | None = None


@dataclass(frozen=True)
class ProductAdded:
    product: Product
    reactivated: bool


class AddProduct:
    """Create a product. An active product with the code is refused; an inactive one is
    reactivated with the new fields (its history keeps the old orders)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, reads: ShopReads, clock: Clock) -> None:
        self._uow_factory, self._reads, self._clock = uow_factory, reads, clock

    async def __call__(self, cmd: AddProductCommand) -> ProductAdded:
        fresh = Product.create(cmd.code, cmd.name, cmd.price, cmd.stock, cmd.description)
        async with self._uow_factory() as uow:
            if await applied_now(uow, cmd.request_id, self._clock):
                product, reactivated = await self._add(uow, fresh, cmd)
                await uow.commit()
            else:
                product, reactivated = await _applied_before(uow, fresh.code), False
        await self._reads.forget_products(product.code)
        return ProductAdded(product, reactivated)

    @staticmethod
    async def _add(uow: UnitOfWork, fresh: Product, cmd: AddProductCommand) -> tuple[Product, bool]:
        existing = await uow.products.get(fresh.code, for_update=True)
        if existing is not None and existing.active:
            raise DuplicateProductCode(code=fresh.code)
        if existing is None:
            await uow.products.add(fresh)
            return fresh, False
        existing.reactivate(cmd.name, cmd.price, cmd.stock, cmd.description)
        await uow.products.save(existing)
        return existing, True


class _ProductChange:
    """Load one active product under its row lock, change it, save, forget the cached copies.

    Stock is watched on the way: a change that brings it down to its low-stock threshold alerts
    the admins in the same transaction (as a sale does); one that lifts it above closes the open
    low-stock alert, so the next fall is told again."""

    def __init__(self, uow_factory: UnitOfWorkFactory, reads: ShopReads, notifier: Notifier,
                 settings: ShopSettingsReader, clock: Clock) -> None:
        self._uow_factory, self._reads = uow_factory, reads
        self._notifier, self._settings, self._clock = notifier, settings, clock

    async def _change(self, code: str, *args: str | int | list[str], request_id: str | None) -> Product:
        code = product_code(code)
        threshold = (await self._settings.get()).low_stock_threshold
        async with self._uow_factory() as uow:
            queued = []
            if await applied_now(uow, request_id, self._clock):
                product = await uow.products.get(code, for_update=True)
                if product is None or not product.active:
                    raise ProductNotFound(code=code)
                was_low = product.is_low(threshold)
                await self._apply(uow, product, *args)
                await uow.products.save(product)
                if product.active and product.is_low(threshold) and not was_low:
                    queued = await self._notifier.queue_alert(uow, LOW_STOCK_ALERT, about=product.code,
                                                              code=product.code, name=product.name, stock=product.stock)
                elif not product.is_low(threshold):
                    await uow.alerts.resolve(LOW_STOCK_ALERT, product.code, self._clock.now())
                await uow.commit()
            else:
                product = await _applied_before(uow, code)
        await self._reads.forget_products(code)
        await self._notifier.deliver(queued)
        return product

    async def _apply(self, uow: UnitOfWork, product: Product, *args: str | int | list[str]) -> None:
        raise NotImplementedError


class SetProductField(_ProductChange):
    """`.setharga` and `.setproduk`: one field; PENDING orders keep the price they captured."""

    async def __call__(self, code: str, field: str, value: str, *, request_id: str | None = None) -> Product:
        return await self._change(code, field, value, request_id=request_id)

    async def _apply(self, uow: UnitOfWork, product: Product, *args: str | int | list[str]) -> None:
        field, value = args
        product.set_field(str(field), str(value))


class AddStock(_ProductChange):
    """Add to a counted product's stock (item products refuse numbers)."""

    async def __call__(self, code: str, qty: int, *, request_id: str | None = None) -> Product:
        return await self._change(code, qty, request_id=request_id)

    async def _apply(self, uow: UnitOfWork, product: Product, *args: str | int | list[str]) -> None:
        product.add_stock(int(str(args[0])))


class SetStock(_ProductChange):
    """Set a counted product's stock."""

    async def __call__(self, code: str, qty: int, *, request_id: str | None = None) -> Product:
        return await self._change(code, qty, request_id=request_id)

    async def _apply(self, uow: UnitOfWork, product: Product, *args: str | int | list[str]) -> None:
        product.set_stock(int(str(args[0])))


class AddStockItems(_ProductChange):
    """Add stock items (one per line); blank or duplicate lines refuse the whole batch."""

    async def __call__(self, code: str, lines: list[str], *, request_id: str | None = None) -> Product:
        return await self._change(code, lines, request_id=request_id)

    async def _apply(self, uow: UnitOfWork, product: Product, *args: str | int | list[str]) -> None:
        lines = args[0]
        assert isinstance(lines, list)
        # Every refused line named in one reply: the batch's own repeats and what was stored before.
        stored = await uow.products.stored_among(product.code, [line.strip() for line in lines if line.strip()])
        accepted = product.accept_items(lines, stored)
        await uow.products.add_items(product.code, accepted, self._clock.now())


class RemoveProduct(_ProductChange):
    """Deactivate a product; its orders keep it."""

    async def __call__(self, code: str, *, request_id: str | None = None) -> Product:
        return await self._change(code, request_id=request_id)

    async def _apply(self, uow: UnitOfWork, product: Product, *args: str | int | list[str]) -> None:
        product.deactivate()


async def applied_now(uow: UnitOfWork, request_id: str | None, clock: Clock) -> bool:
    """True when the edit is to be made in this unit of work (marking the message that asked for
    it applied); False when an earlier run of that message made it already."""
    return request_id is None or await uow.inbox.mark_applied(request_id, clock.now())


async def _applied_before(uow: UnitOfWork, code: str) -> Product:
    """The product an earlier run of the same message edited, as it is now."""
    product = await uow.products.get(code)
    if product is None:
        raise ProductNotFound(code=code)
    return product


class CheckStock:
    """How many units are left (never the items themselves)."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, code: str) -> Product:
        code = product_code(code)
        async with self._uow_factory() as uow:
            product = await uow.products.get(code)
        if product is None or not product.active:
            raise ProductNotFound(code=code)
        return product
