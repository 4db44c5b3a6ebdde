"""A product's delivery text may be the goods themselves (one login every buyer gets): browsing
caches products (Redis in production), and the cache must never hold that text."""

from __future__ import annotations

from adapters.coordination.memory import MemoryCache
from adapters.memory.storage import MemoryStore, MemoryUnitOfWork
from application.services import ShopReads, product_key
from domain.product import Product

LOGIN = "Login keluarga: family.sekret@mail.test Pw-Family-3318"


class _RecordingCache(MemoryCache):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[str] = []

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self.written.append(value)
        await super().set(key, value, ttl_seconds)


async def test_browsing_caches_products_without_their_delivery_text() -> None:
    store = MemoryStore()
    async with MemoryUnitOfWork(store) as uow:
        product = Product.create("NF1", "Netflix 1 Bulan", 35_000, 5, "Akun premium")
        product.delivery_text = LOGIN
        await uow.products.add(product)
        await uow.commit()
    cache = _RecordingCache()
    reads = ShopReads(lambda: MemoryUnitOfWork(store), cache)

    listed, detail = await reads.products(), await reads.product("NF1")
    assert [p.code for p in listed] == ["NF1"] and detail is not None and detail.price.value == 35_000
    # Both reads went to the cache (a second read is a hit), and nothing written there has the text.
    assert len(cache.written) == 2 and await cache.get(product_key("NF1")) is not None
    assert all("family.sekret" not in value and "Pw-Family" not in value for value in cache.written)
    cached = await reads.product("NF1")
    assert cached is not None and cached.price.value == 35_000 and cached.delivery_text == ""
    async with MemoryUnitOfWork(store) as uow:  # the shop's own copy keeps it, for deliveries
        stored = await uow.products.get("NF1")
    assert stored is not None and stored.delivery_text == LOGIN
