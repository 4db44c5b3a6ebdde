"""The Order aggregate and its status machine."""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from domain.errors import AlreadyDelivered, IllegalTransition, NotAwaitingDelivery
from domain.product import Fulfilment
from domain.money import Rupiah

JAKARTA = timezone(timedelta(hours=7), "WIB")
_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class OrderStatus(str, enum.Enum):
    PENDING = "PENDING"
    PAID = "PAID"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"


class OrderKind(str, enum.Enum):
    PURCHASE = "purchase"
    TOPUP = "topup"


class PaymentMethod(str, enum.Enum):
    SALDO = "saldo"
    MIDTRANS = "midtrans"


class PaymentChannel(str, enum.Enum):
    """How a Midtrans order is paid: a Snap payment link, or a QRIS code shown as a picture."""

    LINK = "link"
    QRIS = "qris"


_ALLOWED = {
    OrderStatus.PENDING: {OrderStatus.PAID, OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.FAILED},
    OrderStatus.PAID: {OrderStatus.REFUNDED},
}
# The one way out of a terminal state: money arrived for an order we had given up on.
_LATE_PAYMENT_FROM = {OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.FAILED}
RELEASES_STOCK = frozenset({OrderStatus.EXPIRED, OrderStatus.CANCELLED, OrderStatus.FAILED})


ORDER_ID_SUFFIX_LENGTH = 12  # 12 letters of a 32-letter alphabet: 60 bits a day
LEGACY_ORDER_ID_SUFFIX_LENGTH = 6  # ids made before the suffix grew; they stay valid


def new_order_id(now: datetime, request_id: str | None = None) -> str:
    """`INV-YYYYMMDD-XXXXXXXXXXXX` (Jakarta date), valid as a Midtrans order_id.

    With a request id (the WhatsApp message id) the suffix is derived from it, so running the
    same message twice names the same order and the second run finds the first one's work;
    without one it is drawn at random. Each suffix letter carries 5 bits (the alphabet has 32
    letters and a byte's low 5 bits are uniform), so ids of one day collide with a chance of
    about n^2 / 2^61: never in practice, and a drawn id that does is drawn again by its caller.
    """
    if request_id:
        digest = hashlib.sha256(request_id.encode()).digest()
        suffix = "".join(_ID_ALPHABET[b % len(_ID_ALPHABET)] for b in digest[:ORDER_ID_SUFFIX_LENGTH])
    else:
        suffix = "".join(secrets.choice(_ID_ALPHABET) for _ in range(ORDER_ID_SUFFIX_LENGTH))
    return f"INV-{now.astimezone(JAKARTA):%Y%m%d}-{suffix}"


def earlier_order_ids(now: datetime, request_id: str) -> tuple[str, ...]:
    """The ids a first run of the request may have given its order: today's, and yesterday's
    for a run that began before midnight (Jakarta) and is repeated after it; then the same two
    in the shorter form of earlier releases (a prefix of the new suffix), for a message whose
    first run happened before an upgrade."""
    current = (new_order_id(now, request_id), new_order_id(now - timedelta(days=1), request_id))
    legacy = tuple(order_id[:LEGACY_ORDER_ID_SUFFIX_LENGTH - ORDER_ID_SUFFIX_LENGTH] for order_id in current)
    return current + legacy


@dataclass
class Order:
    """A purchase or a top-up.

    - The unit price is captured at creation; later price changes do not touch it.
    - `PENDING -> PAID | EXPIRED | CANCELLED | FAILED`, `PAID -> REFUNDED`. Repeating the
      current status changes nothing (returns False); any other move raises IllegalTransition.
    - A payment for an EXPIRED or CANCELLED order may still move it to PAID (`settle_late`).
    """

    id: str
    user_id: str
    kind: OrderKind
    method: PaymentMethod
    status: OrderStatus
    total: Rupiah
    created_at: datetime
    product_code: str | None = None
    product_name: str = ""
    qty: int = 1
    unit_price: Rupiah = field(default_factory=lambda: Rupiah(0))
    expires_at: datetime | None = None
    paid_at: datetime | None = None
    payment_url: str | None = None
    updated_at: datetime | None = None
    # Money the provider reported when it differs from `total` (a wrong amount went to saldo).
    amount_received: Rupiah | None = None
    # Taken back by the provider after payment (refunds, chargebacks), and the part of it that
    # could not be recovered from the customer's saldo.
    reversed_amount: Rupiah = field(default_factory=lambda: Rupiah(0))
    shortfall: Rupiah = field(default_factory=lambda: Rupiah(0))
    reversal: str | None = None  # "refund" | "chargeback" | "cancel": the last kind of reversal
    recheck_at: datetime | None = None  # a given-up link order is asked about again at this time
    channel: PaymentChannel = PaymentChannel.LINK  # for a Midtrans order: link or QRIS
    qr_string: str | None = None  # a QRIS order's code, as Midtrans gave it
    # Fulfilment, beside payment: a MANUAL purchase, once paid, waits for the seller's `.kirim`.
    fulfilment: Fulfilment = Fulfilment.AUTOMATIC
    delivered_at: datetime | None = None  # when the seller delivered it (manual orders)
    delivery_note: str | None = None  # what the seller delivered (a secret, like stock items)
    remind_at: datetime | None = None  # a waiting manual order is brought up to the admins again then

    @classmethod
    def purchase(
        cls,
        order_id: str,
        user_id: str,
        product_code: str,
        product_name: str,
        qty: int,
        unit_price: Rupiah,
        method: PaymentMethod,
        now: datetime,
        expires_at: datetime | None = None,
        fulfilment: Fulfilment = Fulfilment.AUTOMATIC,
    ) -> Order:
        paid = method is PaymentMethod.SALDO
        return cls(
            id=order_id,
            user_id=user_id,
            kind=OrderKind.PURCHASE,
            method=method,
            status=OrderStatus.PAID if paid else OrderStatus.PENDING,
            total=unit_price * qty,
            created_at=now,
            product_code=product_code,
            product_name=product_name,
            qty=qty,
            unit_price=unit_price,
            expires_at=expires_at,
            paid_at=now if paid else None,
            updated_at=now,
            fulfilment=fulfilment,
        )

    @classmethod
    def topup(cls, order_id: str, user_id: str, amount: Rupiah, now: datetime, expires_at: datetime) -> Order:
        return cls(
            id=order_id,
            user_id=user_id,
            kind=OrderKind.TOPUP,
            method=PaymentMethod.MIDTRANS,
            status=OrderStatus.PENDING,
            total=amount,
            created_at=now,
            unit_price=amount,
            expires_at=expires_at,
            updated_at=now,
        )

    @property
    def waits_for_seller(self) -> bool:
        """Paid, manual, and not delivered yet."""
        return (self.kind is OrderKind.PURCHASE and self.fulfilment is Fulfilment.MANUAL
                and self.status is OrderStatus.PAID and self.delivered_at is None)

    def await_seller(self, first_reminder: datetime) -> None:
        """Just paid: the seller is told now and reminded at `first_reminder` if still waiting."""
        if self.waits_for_seller:
            self.remind_at = first_reminder

    def deliver_by_hand(self, note: str, now: datetime) -> None:
        """The seller delivers a waiting order; once only."""
        if self.delivered_at is not None:
            raise AlreadyDelivered(order_id=self.id, at=self.delivered_at)
        if not self.waits_for_seller:
            raise NotAwaitingDelivery(order_id=self.id, status=self.status.value)
        self.delivery_note = note
        self.delivered_at = self.updated_at = now
        self.remind_at = None

    @property
    def is_terminal(self) -> bool:
        return self.status is not OrderStatus.PENDING

    def move_to(self, target: OrderStatus, now: datetime) -> bool:
        """Apply a status change; False when it is a repeat that changes nothing."""
        if target is self.status:
            return False
        if target not in _ALLOWED.get(self.status, set()):
            raise IllegalTransition(order_id=self.id, current=self.status.value, target=target.value)
        self.status = target
        self.updated_at = now
        if target is OrderStatus.PAID:
            self.paid_at = now
        return True

    @property
    def money_in(self) -> Rupiah:
        """What the provider paid us for this order and we kept (as goods or saldo)."""
        if self.paid_at is None:
            return Rupiah(0)
        return self.amount_received if self.amount_received is not None else self.total

    def can_settle_late(self) -> bool:
        # paid_at on an EXPIRED/CANCELLED/FAILED order: its payment already went to saldo.
        return self.status in _LATE_PAYMENT_FROM and self.paid_at is None

    def credit_instead(self, received: Rupiah, now: datetime) -> None:
        """Money arrived that is not delivered against (too late with no stock left, or a wrong
        amount) and went to saldo. A PENDING order is given up as FAILED; the payment is
        recorded so that a repeat of it is neither credited nor delivered again."""
        if self.status is OrderStatus.PENDING:
            self.status = OrderStatus.FAILED
        elif not self.can_settle_late():
            raise IllegalTransition(order_id=self.id, current=self.status.value, target="PAID")
        self.paid_at = self.updated_at = now
        if received != self.total:
            self.amount_received = received

    def reverse(self, cumulative: Rupiah, kind: str, now: datetime) -> Rupiah:
        """The provider has taken back `cumulative` of this order's money in all (Midtrans
        reports the running total of refunds). Returns what is newly taken back (0 for a
        repeat); everything taken back makes the order REFUNDED, a part leaves its status."""
        if self.paid_at is None:
            raise IllegalTransition(order_id=self.id, current=self.status.value, target=OrderStatus.REFUNDED.value)
        capped = min(cumulative.value, self.money_in.value)
        delta = capped - self.reversed_amount.value
        if delta <= 0:
            return Rupiah(0)
        self.reversed_amount = Rupiah(capped)
        self.reversal = kind
        self.updated_at = now
        if capped >= self.money_in.value:
            self.status = OrderStatus.REFUNDED
        return Rupiah(delta)

    def record_shortfall(self, amount: Rupiah) -> None:
        self.shortfall = self.shortfall + amount

    def settle_late(self, now: datetime) -> None:
        """Money arrived after we expired or cancelled the order, and its stock could be taken again."""
        if not self.can_settle_late():
            raise IllegalTransition(order_id=self.id, current=self.status.value, target="PAID")
        self.status = OrderStatus.PAID
        self.paid_at = self.updated_at = now
