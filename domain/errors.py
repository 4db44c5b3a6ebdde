"""Every broken business rule has its own error, all under `DomainError`.

The chat presenter maps each class to a catalog message, so the names follow the rule that
was broken, not the place it was detected.
"""

from __future__ import annotations


class DomainError(Exception):
    """A business rule said no. Nothing was changed."""

    def __init__(self, **details: object) -> None:
        super().__init__(", ".join(f"{k}={v!r}" for k, v in details.items()) or type(self).__name__)
        self.details = details


class InvalidAmount(DomainError):
    """An amount of money that is not a positive whole number of rupiah."""


class InvalidQuantity(DomainError):
    """A quantity outside 1..max_qty."""


class InvalidPhoneNumber(DomainError):
    """Not an Indonesian WhatsApp number (08..., +62..., 62...)."""


class InvalidProductCode(DomainError):
    """Product codes are letters and digits."""


class InvalidProductField(DomainError):
    """A product field that does not exist or a value it cannot take."""


class ProductNotFound(DomainError):
    """No active product with that code."""


class DuplicateProductCode(DomainError):
    """An active product already has that code."""


class OutOfStock(DomainError):
    """Fewer units left than asked for."""


class StockKindMismatch(DomainError):
    """Item lines for a counted product, or a number for an item product."""


class InvalidStockItems(DomainError):
    """Blank or duplicate stock item lines."""


class RepeatPurchase(DomainError):
    """The same product and quantity were bought a moment ago: asked to confirm, not executed."""


class InsufficientBalance(DomainError):
    """The wallet does not cover the amount."""


class DuplicateLedgerReference(DomainError):
    """A ledger entry with this reason and reference exists already (exactly-once credits)."""


class OrderNotFound(DomainError):
    """No such order for this customer."""


class IllegalTransition(DomainError):
    """An order status change the status machine does not allow."""


class PendingOrderExists(DomainError):
    """The customer already has a PENDING order."""


class NoPendingOrder(DomainError):
    """Nothing to cancel."""


class NothingToResend(DomainError):
    """No paid order to deliver again."""


class DepositOutOfRange(DomainError):
    """A top-up below the minimum or above the maximum."""


class PaymentUnavailable(DomainError):
    """Link payments are switched off, or the payment provider could not make a link."""


class InvalidSetting(DomainError):
    """An unknown shop setting or a value it cannot take."""


class MessageTooOld(DomainError):
    """A command that moves money arrived too long after it was sent: it is not executed."""
class ManualNeedsCountedStock(DomainError):
    """Stock items are always handed out at once: an item product cannot wait for the seller."""


class AlreadyDelivered(DomainError):
    """The seller already delivered this order (`at`: when)."""


class NotAwaitingDelivery(DomainError):
    """The order is not a paid one waiting for the seller (unpaid, automatic, or a top-up)."""


class AwaitingSeller(DomainError):
    """The order is paid and waits for the seller to deliver it: nothing to send again yet."""


class EmptyMessage(DomainError):
    """A message to forward or deliver has no text."""


class ReplyToAdmin(DomainError):
    """Messages between admins are never forwarded (`.admin` from an admin, `.balas` to one)."""
