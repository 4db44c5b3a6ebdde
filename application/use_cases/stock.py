"""Taking and returning stock inside a unit of work, for counted and item products alike."""

from __future__ import annotations

from application.ports import UnitOfWork
from domain.errors import ProductNotFound
from domain.order import Order
from domain.product import Product


async def load_for_sale(uow: UnitOfWork, code: str) -> Product:
    product = await uow.products.get(code, for_update=True)
    if product is None or not product.active:
        raise ProductNotFound(code=code)
    return product


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
