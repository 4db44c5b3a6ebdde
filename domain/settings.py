"""Shop settings (`.setting KEY VALUE`): typed, validated, with the documented defaults."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from domain.errors import InvalidSetting

PAYMENT_METHODS = ("link", "qris")
_INT_BOUNDS: dict[str, tuple[int, int]] = {
    "payment_expiry_minutes": (1, 24 * 60),
    "expiry_grace_minutes": (0, 24 * 60),
    "max_qty": (1, 1000),
    "deposit_min": (1, 10**12),
    "deposit_max": (1, 10**12),
    "buy_rate_limit_per_minute": (1, 10_000),
    "rate_limit_per_minute": (1, 10_000),
    "low_stock_threshold": (0, 1_000_000),
    "manual_reminder_minutes": (1, 7 * 24 * 60),
}


_BOOLEANS = frozenset({"confirm_purchases"})
_TRUE = frozenset({"true", "ya", "yes", "on", "1"})
_FALSE = frozenset({"false", "tidak", "no", "off", "0"})


@dataclass(frozen=True)
class ShopSettings:
    shop_name: str = "Tokowa"
    welcome_text: str = ""
    language: str = "id"
    payment_expiry_minutes: int = 15
    expiry_grace_minutes: int = 5
    max_qty: int = 10
    deposit_min: int = 10_000
    deposit_max: int = 10_000_000
    buy_rate_limit_per_minute: int = 3
    rate_limit_per_minute: int = 20
    low_stock_threshold: int = 3
    confirm_purchases: bool = False
    payment_method: str = "link"  # what .buy/.deposit use when the customer names none: link | qris
    manual_reminder_minutes: int = 30  # a paid manual order still waiting is brought up again after this

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_stored(cls, stored: dict[str, str], language: str = "id") -> ShopSettings:
        """Stored values over the defaults; a stored value that no longer parses is ignored."""
        result = cls(language=language)
        for key, value in stored.items():
            try:
                result = result.with_value(key, value)
            except InvalidSetting:
                continue
        return result

    def with_value(self, key: str, raw: str) -> ShopSettings:
        key = key.lower()
        if key not in self.keys():
            raise InvalidSetting(key=key, value=raw)
        value: Any = raw.strip()
        if key in _INT_BOUNDS:
            low, high = _INT_BOUNDS[key]
            digits = value.replace(".", "")
            if not (digits.isascii() and digits.isdigit()) or not low <= int(digits) <= high:
                raise InvalidSetting(key=key, value=raw)
            value = int(digits)
        elif key == "language" and value not in ("id", "en"):
            raise InvalidSetting(key=key, value=raw)
        elif key in _BOOLEANS:
            word = value.lower()
            if word not in _TRUE | _FALSE:
                raise InvalidSetting(key=key, value=raw)
            value = word in _TRUE
        elif key == "payment_method":
            value = value.lower()
            if value not in PAYMENT_METHODS:
                raise InvalidSetting(key=key, value=raw)
        elif not value or len(value) > 1000:
            raise InvalidSetting(key=key, value=raw)
        updated = replace(self, **{key: value})
        if updated.deposit_min > updated.deposit_max:
            raise InvalidSetting(key=key, value=raw)
        return updated

    def as_strings(self) -> dict[str, str]:
        return {f.name: _as_string(getattr(self, f.name)) for f in fields(self)}


def _as_string(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
