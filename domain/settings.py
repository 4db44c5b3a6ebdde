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
_CHOICES: dict[str, tuple[str, ...]] = {"language": ("id", "en"), "payment_method": PAYMENT_METHODS,
                                        "confirm_purchases": ("true", "false")}
MAX_TEXT = 1000


def setting_rule(key: str) -> tuple[int, int] | tuple[str, ...] | None:
    """What KEY accepts: (low, high) for a number, the words for a choice, None for a text."""
    return _INT_BOUNDS.get(key) or _CHOICES.get(key)
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
        """The settings with KEY set to RAW. InvalidSetting says what was wrong in `reason`:
        `key` (no such setting), `range` (low, high), `choice` (choices), `text` (1..max_text
        characters) or `deposit_order` (deposit_min above deposit_max)."""
        key = key.lower()
        if key not in self.keys():
            raise InvalidSetting(key=key, value=raw, reason="key")
        value: Any = raw.strip()
        rule = setting_rule(key)
        if isinstance(rule, tuple) and isinstance(rule[0], int):
            low, high = _INT_BOUNDS[key]
            digits = value.replace(".", "")
            if not (digits.isascii() and digits.isdigit()) or not low <= int(digits) <= high:
                raise InvalidSetting(key=key, value=raw, reason="range", low=low, high=high)
            value = int(digits)
        elif isinstance(rule, tuple):
            word = value.lower()
            accepted = _TRUE | _FALSE if key in _BOOLEANS else frozenset(rule)
            if word not in accepted:
                raise InvalidSetting(key=key, value=raw, reason="choice", choices=rule)
            value = word in _TRUE if key in _BOOLEANS else word
        elif not value or len(value) > MAX_TEXT:
            raise InvalidSetting(key=key, value=raw, reason="text", high=MAX_TEXT)
        updated = replace(self, **{key: value})
        if updated.deposit_min > updated.deposit_max:
            raise InvalidSetting(key=key, value=raw, reason="deposit_order", low=updated.deposit_min,
                                 high=updated.deposit_max)
        return updated

    def as_strings(self) -> dict[str, str]:
        return {f.name: _as_string(getattr(self, f.name)) for f in fields(self)}


def _as_string(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
