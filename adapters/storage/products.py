"""Products and their stock items, mapped by hand between `produk`/`stock_items` and `Product`.

An item product's `stok` is always the number of its free items: every statement that adds,
takes or frees items recounts it in the same transaction, and `save` writes that count too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.sql.elements import ColumnElement

from adapters.storage.cipher import StockCipher
from adapters.storage.direct import carrier, prebuilt
from adapters.storage.session import Transaction, bound, bound_params
from adapters.storage.tables import produk, stock_items
from domain.errors import DuplicateProductCode, OutOfStock, ProductNotFound
from domain.money import Rupiah
from domain.product import Fulfilment, Product, refused_items


def _free_items(code: Any) -> ColumnElement[int]:
    return (
        select(func.count())
        .select_from(stock_items)
        .where(stock_items.c.produk_id == code, stock_items.c.order_id.is_(None))
        .scalar_subquery()
    )


_SAVED_COLUMNS = ("nama", "harga", "aktif", "uses_items", "data")
# Built once: an UPDATE built per call with `.values(...)` is walked and cache-keyed every time.
# An item product's `stok` is its count of free items, so that one has a statement of its own.
_SAVE = prebuilt(
    update(produk)
    .where(produk.c.id == bindparam("code"))
    .values(**bound(produk, *_SAVED_COLUMNS, "stok"))
)
_SAVE_ITEM_PRODUCT = prebuilt(
    update(produk)
    .where(produk.c.id == bindparam("code"))
    .values(stok=_free_items(produk.c.id), **bound(produk, *_SAVED_COLUMNS))
)
_GET = prebuilt(select(produk).where(produk.c.id == bindparam("code")))
# A sale of a counted product: the database checks and takes the stock in one statement. It and
# the locked read carry the writes a purchase holds (`UnitOfWork.batched`): they touch `produk`
# alone, which no held write reads or writes.
_TAKE = carrier(prebuilt(
    update(produk)
    .where(produk.c.id == bindparam("code"), produk.c.aktif.is_(True), produk.c.uses_items.is_(False),
           produk.c.stok >= bindparam("qty"))
    .values(stok=produk.c.stok - bindparam("qty"))
    .returning(*produk.c)
), "produk")
_GET_FOR_UPDATE = carrier(prebuilt(_GET.with_for_update(key_share=True)), "produk")  # NO KEY UPDATE: rows referencing it go on


# A product's delivery text may be the goods themselves (a shared login, a licence key): it is
# kept sealed with TOKOWA_SECRET_KEY like stock items, never as plain text in `produk.data`.
SEALED_TEXT = "delivery_text_sealed"
PLAIN_TEXT = "delivery_text"  # how it was stored before migration 0009


def _row_values(product: Product, cipher: StockCipher) -> dict[str, Any]:
    return {
        "nama": product.name,
        "harga": product.price.value,
        "stok": product.stock,
        "aktif": product.active,
        "uses_items": product.uses_items,
        "data": {
            "description": product.description,
            "terms": product.terms,
            SEALED_TEXT: cipher.encrypt(product.delivery_text) if product.delivery_text else "",
            "price_silver": product.price_silver.value if product.price_silver else None,
            "price_gold": product.price_gold.value if product.price_gold else None,
            "min_stock": product.min_stock,
            "fulfilment": product.fulfilment.value,
            "item_format": product.item_format,
        },
    }


def product_of_row(row: Row[Any], cipher: StockCipher) -> Product:
    data = row.data or {}
    sealed = data.get(SEALED_TEXT)
    silver, gold = data.get("price_silver"), data.get("price_gold")
    return Product(
        code=row.id,
        name=row.nama,
        price=Rupiah(row.harga),
        stock=row.stok,
        uses_items=row.uses_items,
        active=row.aktif,
        description=data.get("description", ""),
        terms=data.get("terms", ""),
        delivery_text=cipher.decrypt(sealed) if sealed else data.get(PLAIN_TEXT, ""),
        price_silver=Rupiah(silver) if silver is not None else None,
        price_gold=Rupiah(gold) if gold is not None else None,
        min_stock=data.get("min_stock"),
        fulfilment=Fulfilment(data.get("fulfilment", Fulfilment.AUTOMATIC.value)),
        item_format=data.get("item_format", ""),
    )


class SqlAlchemyProductRepository:
    """`ProductRepository` on SQLAlchemy Core."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, code: str, *, for_update: bool = False) -> Product | None:
        query = _GET_FOR_UPDATE if for_update else _GET
        row = (await self._tx.execute(query, {"code": code.upper()})).first()
        return product_of_row(row, self._tx.cipher) if row is not None else None

    async def take(self, code: str, qty: int) -> Product | None:
        row = (await self._tx.execute(_TAKE, {"code": code.upper(), "qty": qty})).first()
        return product_of_row(row, self._tx.cipher) if row is not None else None

    async def list_active(self) -> list[Product]:
        return await self._list(active=True)

    async def list_inactive(self) -> list[Product]:
        return await self._list(active=False)

    async def _list(self, *, active: bool) -> list[Product]:
        rows = await self._tx.execute(select(produk).where(produk.c.aktif.is_(active)).order_by(produk.c.id))
        return [product_of_row(row, self._tx.cipher) for row in rows]

    async def count(self) -> int:
        return int((await self._tx.execute(select(func.count()).select_from(produk))).scalar_one())

    async def add(self, product: Product) -> None:
        values = {"id": product.code, **_row_values(product, self._tx.cipher)}
        inserted = await self._tx.insert_ignoring_conflicts(produk, values)
        if not inserted:
            raise DuplicateProductCode(code=product.code)

    async def save(self, product: Product) -> None:
        values = _row_values(product, self._tx.cipher)
        if product.uses_items:
            del values["stok"]
        statement = _SAVE_ITEM_PRODUCT if product.uses_items else _SAVE
        await self._tx.execute(statement, {"code": product.code, **bound_params(values)})

    async def add_items(self, code: str, contents: list[str], now: datetime) -> None:
        await self._lock(code)
        hashes = [self._tx.cipher.fingerprint(content) for content in contents if content.strip()]
        in_stock = await self.stored_among(code, contents)
        refused: list[tuple[int, str, str]] = []
        seen: set[str] = set()
        for number, content in enumerate(contents, start=1):
            if not content.strip():
                refused.append((number, "", "blank"))
            elif content in seen:
                refused.append((number, content, "repeated"))
            elif content in in_stock:
                refused.append((number, content, "in_stock"))
            seen.add(content)
        if refused or not contents:
            raise refused_items(refused)
        rows = [
            {"produk_id": code, "content": self._tx.cipher.encrypt(c), "content_hash": h, "created_at": now}
            for c, h in zip(contents, hashes, strict=True)
        ]
        await self._tx.execute(stock_items.insert(), rows)
        await self._tx.execute(
            update(produk).where(produk.c.id == code).values(uses_items=True, stok=_free_items(code))
        )

    async def stored_among(self, code: str, contents: list[str]) -> set[str]:
        # Items stored before a key rotation finished carry their hash under an older key.
        known = {content: self._tx.cipher.fingerprints(content) for content in contents if content.strip()}
        if not known:
            return set()
        stored = await self._tx.execute(
            select(stock_items.c.content_hash).where(
                stock_items.c.produk_id == code.upper(),
                stock_items.c.content_hash.in_({h for hs in known.values() for h in hs}),
            )
        )
        stored_hashes = set(stored.scalars())
        return {content for content, hashes in known.items() if stored_hashes & set(hashes)}

    async def take_items(self, code: str, qty: int, order_id: str) -> list[str]:
        await self._lock(code)
        free = (
            await self._tx.execute(
                select(stock_items.c.id, stock_items.c.content)
                .where(stock_items.c.produk_id == code, stock_items.c.order_id.is_(None))
                .order_by(stock_items.c.id)
                .limit(qty)
            )
        ).all()
        if len(free) < qty:
            raise OutOfStock(code=code, asked=qty, left=len(free))
        await self._tx.execute(
            update(stock_items)
            .where(stock_items.c.id.in_([row.id for row in free]), stock_items.c.order_id.is_(None))
            .values(order_id=order_id)
        )
        await self._recount(code)
        return [self._tx.cipher.decrypt(row.content) for row in free]

    async def release_items(self, order_id: str) -> int:
        codes = (
            await self._tx.execute(
                select(stock_items.c.produk_id).where(stock_items.c.order_id == order_id).distinct()
            )
        ).scalars().all()
        for code in sorted(codes):
            await self._lock(code)
        result = await self._tx.execute(
            update(stock_items).where(stock_items.c.order_id == order_id).values(order_id=None)
        )
        for code in codes:
            await self._recount(code)
        return int(result.rowcount)

    async def items_of_order(self, order_id: str) -> list[str]:
        rows = await self._tx.execute(
            select(stock_items.c.content).where(stock_items.c.order_id == order_id).order_by(stock_items.c.id)
        )
        return [self._tx.cipher.decrypt(token) for token in rows.scalars()]

    async def free_item_counts(self) -> dict[str, int]:
        free = func.count().filter(stock_items.c.order_id.is_(None)).label("free")
        rows = await self._tx.execute(select(stock_items.c.produk_id, free).group_by(stock_items.c.produk_id))
        return {str(row.produk_id): int(row.free) for row in rows}

    async def _lock(self, code: str) -> None:
        """Serialise item changes per product (PostgreSQL row lock; SQLite holds the write lock)."""
        query = select(produk.c.id).where(produk.c.id == code).with_for_update(key_share=True)
        if (await self._tx.execute(query)).first() is None:
            raise ProductNotFound(code=code)

    async def _recount(self, code: str) -> None:
        await self._tx.execute(update(produk).where(produk.c.id == code).values(stok=_free_items(code)))
