"""Whole rupiah, never floats."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import InvalidAmount


@dataclass(frozen=True, order=True, slots=True)
class Rupiah:
    """An amount of money in whole rupiah (may be negative only as a ledger delta)."""

    value: int

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise InvalidAmount(value=self.value)

    @classmethod
    def positive(cls, value: int) -> Rupiah:
        """A price or payment: strictly above zero, below a sane ceiling (Rp 1 trillion)."""
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 10**12:
            raise InvalidAmount(value=value)
        return cls(value)

    def __add__(self, other: Rupiah) -> Rupiah:
        return Rupiah(self.value + other.value)

    def __sub__(self, other: Rupiah) -> Rupiah:
        return Rupiah(self.value - other.value)

    def __mul__(self, times: int) -> Rupiah:
        return Rupiah(self.value * times)

    def __neg__(self) -> Rupiah:
        return Rupiah(-self.value)

    def __str__(self) -> str:
        sign = "-" if self.value < 0 else ""
        return f"{sign}Rp {abs(self.value):,}".replace(",", ".")


ZERO = Rupiah(0)
