"""The Product aggregate: prices per customer tier and stock that never goes below zero."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from domain.errors import (
    InvalidAmount,
    InvalidProductCode,
    InvalidProductField,
    InvalidStockItems,
    ManualNeedsCountedStock,
    OutOfStock,
    StockKindMismatch,
)
from domain.money import Rupiah

_CODE = re.compile(r"^[A-Za-z0-9]{1,32}$")
MAX_STOCK = 1_000_000


class Fulfilment(str, enum.Enum):
    """How a paid order reaches the buyer: at once (stock items, or a delivery text that needs
    nothing from the seller) or by the seller's hand (`.kirim`)."""

    AUTOMATIC = "otomatis"
    MANUAL = "manual"

    @classmethod
    def parse(cls, raw: str) -> Fulfilment:
        value = {"auto": "otomatis", "automatic": "otomatis"}.get(raw.strip().lower(), raw.strip().lower())
        try:
            return cls(value)
        except ValueError:
            raise InvalidProductField(field="kirim", value=raw) from None


class Tier(str, enum.Enum):
    """A customer's price tier; bronze is the default."""

    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"


def product_code(raw: str) -> str:
    """Product codes are letters and digits, compared case-insensitively (kept upper-case)."""
    if not _CODE.match(raw):
        raise InvalidProductCode(code=raw)
    return raw.upper()


def _stock_amount(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_STOCK:
        raise InvalidAmount(value=value)
    return value


@dataclass
class Product:
    """A thing the shop sells.

    - Stock is either a count (`uses_items` False) or the number of stock items left (digital
      goods handed out one per unit, oldest first). A product created with stock 0 becomes an
      item product when its first items arrive; the two kinds refuse each other's operations.
    - Stock never goes below zero; `take` refuses rather than clamps.
    - A tier without its own price pays the base (bronze) price.
    """

    code: str
    name: str
    price: Rupiah
    stock: int = 0
    uses_items: bool = False
    active: bool = True
    description: str = ""
    terms: str = ""
    delivery_text: str = ""
    price_silver: Rupiah | None = None
    price_gold: Rupiah | None = None
    min_stock: int | None = None
    fulfilment: Fulfilment = Fulfilment.AUTOMATIC
    # The fields of a stock item, e.g. `email|password|profil|pin`: delivered items are labelled.
    item_format: str = ""

    @classmethod
    def create(cls, code: str, name: str, price: int, stock: int, description: str = "") -> Product:
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidProductField(field="nama", value=name)
        return cls(
            code=product_code(code),
            name=name,
            price=Rupiah.positive(price),
            stock=_stock_amount(stock),
            description=description.strip(),
        )

    def price_for(self, tier: Tier) -> Rupiah:
        if tier is Tier.GOLD and self.price_gold is not None:
            return self.price_gold
        if tier in (Tier.GOLD, Tier.SILVER) and self.price_silver is not None:
            return self.price_silver
        return self.price

    def take(self, qty: int) -> None:
        """Take `qty` units (sale or reservation)."""
        if qty > self.stock:
            raise OutOfStock(code=self.code, asked=qty, left=self.stock)
        self.stock -= qty

    def give_back(self, qty: int) -> None:
        """Return units of a reservation that was not paid (always possible: the units were
        taken from this stock, even if an admin has since set it to the maximum)."""
        if qty < 0:
            raise InvalidAmount(value=qty)
        self.stock += qty

    def add_stock(self, qty: int) -> None:
        self._refuse_items()
        if qty <= 0:
            raise InvalidAmount(value=qty)
        self.stock = _stock_amount(self.stock + qty)

    def set_stock(self, qty: int) -> None:
        self._refuse_items()
        self.stock = _stock_amount(qty)

    def accept_items(self, lines: list[str], stored: Collection[str] = ()) -> list[str]:
        """Validate new stock item lines; returns them stripped. Blank lines, repeated ones and
        ones stored already (`stored`: sold or not) refuse all, every one of them named."""
        if self.fulfilment is Fulfilment.MANUAL:
            raise ManualNeedsCountedStock(code=self.code)
        if not self.uses_items and self.stock > 0:
            raise StockKindMismatch(code=self.code, expected="count")
        cleaned = [line.strip() for line in lines]
        refused: list[tuple[int, str, str]] = []
        seen: set[str] = set()
        for number, line in enumerate(cleaned, start=1):
            if not line:
                refused.append((number, "", "blank"))
            elif line in seen:
                refused.append((number, line, "repeated"))
            elif line in stored:
                refused.append((number, line, "in_stock"))
            seen.add(line)
        if refused or not cleaned:
            raise refused_items(refused)
        self.uses_items = True
        self.stock = _stock_amount(self.stock + len(cleaned))
        return cleaned

    def is_low(self, default_threshold: int) -> bool:
        threshold = self.min_stock if self.min_stock is not None else default_threshold
        return self.stock <= threshold

    def reactivate(self, name: str, price: int, stock: int, description: str) -> None:
        fresh = Product.create(self.code, name, price, stock, description)
        self.name, self.price, self.description = fresh.name, fresh.price, fresh.description
        self.active = True
        if not self.uses_items:
            self.stock = fresh.stock

    def deactivate(self) -> None:
        self.active = False

    def set_field(self, field: str, value: str) -> None:
        """One admin-editable field (`.setproduk KODE FIELD NILAI`)."""
        setter = _FIELD_SETTERS.get(field.lower())
        if setter is None:
            raise InvalidProductField(field=field, value=value)
        setter(self, value.strip())

    def _refuse_items(self) -> None:
        if self.uses_items:
            raise StockKindMismatch(code=self.code, expected="items")


def _parse_int(field: str, value: str) -> int:
    digits = value.replace(".", "")
    if not digits.isascii() or not digits.isdigit():
        raise InvalidProductField(field=field, value=value)
    return int(digits)


def _set_name(p: Product, v: str) -> None:
    if not v or len(v) > 100:
        raise InvalidProductField(field="nama", value=v)
    p.name = v


def _set_price(p: Product, v: str) -> None:
    p.price = Rupiah.positive(_parse_int("harga", v))


def _set_silver(p: Product, v: str) -> None:
    p.price_silver = Rupiah.positive(_parse_int("harga_silver", v))


def _set_gold(p: Product, v: str) -> None:
    p.price_gold = Rupiah.positive(_parse_int("harga_gold", v))


def _set_min_stock(p: Product, v: str) -> None:
    p.min_stock = _stock_amount(_parse_int("minstok", v))


def _set_fulfilment(p: Product, v: str) -> None:
    wanted = Fulfilment.parse(v)
    if wanted is Fulfilment.MANUAL and p.uses_items:  # items are handed out at once, by nature
        raise ManualNeedsCountedStock(code=p.code)
    p.fulfilment = wanted


def _set_format(p: Product, v: str) -> None:
    """`email|password|profil|pin` (1-8 labels of up to 30 characters), or `-` for none."""
    if v.strip() == "-":
        p.item_format = ""
        return
    labels = [label.strip() for label in v.split("|")]
    if not 1 <= len(labels) <= 8 or any(not label or len(label) > 30 for label in labels):
        raise InvalidProductField(field="format", value=v[:20])
    p.item_format = "|".join(labels)


def labelled(item: str, item_format: str) -> list[tuple[str, str]]:
    """A stock item's parts with their labels (`user@x|pw` with `email|password`); parts beyond
    the labels keep no label. Empty without a format."""
    if not item_format:
        return []
    labels, parts = item_format.split("|"), item.split("|")
    return [(labels[n] if n < len(labels) else "", part.strip()) for n, part in enumerate(parts)]


def _set_text(attr: str, limit: int) -> Callable[[Product, str], None]:
    def setter(p: Product, v: str) -> None:
        if len(v) > limit:
            raise InvalidProductField(field=attr, value=v[:20])
        setattr(p, attr, v)

    return setter


_FIELD_SETTERS: dict[str, Callable[[Product, str], None]] = {
    "nama": _set_name,
    "harga": _set_price,
    "harga_silver": _set_silver,
    "harga_gold": _set_gold,
    "minstok": _set_min_stock,
    "deskripsi": _set_text("description", 1000),
    "sk": _set_text("terms", 1000),
    "teks": _set_text("delivery_text", 3000),
    "kirim": _set_fulfilment,
    "format": _set_format,
}
PRODUCT_FIELDS = tuple(_FIELD_SETTERS)


def refused_items(refused: list[tuple[int, str, str]]) -> InvalidStockItems:
    """The error for refused stock item lines: the counts, and each line as (line number, text,
    reason) with reason `blank`, `repeated` (twice in the same batch) or `in_stock` (stored already)."""
    blank = sum(1 for _, _, reason in refused if reason == "blank")
    return InvalidStockItems(blank=blank, duplicates=len(refused) - blank, refused=tuple(sorted(refused)))
