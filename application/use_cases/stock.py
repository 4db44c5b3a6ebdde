"""Taking and returning stock inside a unit of work, for counted and item products alike."""

from __future__ import annotations

from dataclasses import replace

from application.ports import UnitOfWork
from domain.errors import ProductNotFound
from domain.order import Order
from domain.product import Product


async def load_for_sale(uow: UnitOfWork, code: str) -> Product:
    product = await uow.products.get(code, for_update=True)
    if product is None or not product.active:
        raise ProductNotFound(code=code)
    return product


async def take_for_sale(uow: UnitOfWork, offer: Product, qty: int, order_id: str,
                        low_threshold: int) -> tuple[Product, list[str], bool]:
    """Take the stock of a sale, the last write before the commit, so that the product row
    (the busy one in a flash sale) stays locked the shortest: a counted product in one guarded
    step, an item product by locking it and handing out its oldest free items. Returns the
    product after it, the items, and whether its stock was already low before."""
    if not offer.uses_items:
        product = await uow.products.take(offer.code, qty)
        if product is not None:
            return product, [], replace(product, stock=product.stock + qty).is_low(low_threshold)
    # An item product, or a counted one that is gone, inactive or short since `offer` was read:
    # the locked row decides (and names what is left).
    product = await load_for_sale(uow, offer.code)
    was_low = product.is_low(low_threshold)
    return product, await take_stock(uow, product, qty, order_id), was_low


async def take_stock(uow: UnitOfWork, product: Product, qty: int, order_id: str) -> list[str]:
    """Take `qty` units for the order; item products hand out their oldest free items."""
    product.take(qty)
    if product.uses_items:
        return await uow.products.take_items(product.code, qty, order_id)  # recounts the stock itself
    await uow.products.save(product)
    return []


async def release_stock(uow: UnitOfWork, order: Order) -> None:
    """Return what an unpaid purchase reserved (a top-up reserved nothing)."""
    if order.product_code is None:
        return
    product = await uow.products.get(order.product_code, for_update=True)
    if product is None:
        return
    freed = await uow.products.release_items(order.id) if product.uses_items else order.qty
    product.give_back(freed)
    await uow.products.save(product)
