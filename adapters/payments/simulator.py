"""The payment simulator: links to Tokowa's own `/pay/{order_id}` page instead of Midtrans, and
QRIS codes in the QRIS layout (EMVCo tags, CRC) that name that page's order.

It remembers what it was asked to charge so that its status API answers like Midtrans'
(None until the customer acts on the page, as Midtrans answers 404 until a method is chosen),
and it writes notifications in Midtrans' format, signed with its own key the way Midtrans signs
them, so the pay page drives the same verification and processing as `/webhooks/midtrans`.
"""

from __future__ import annotations

import uuid

from adapters.payments.midtrans_notifications import signed_notification
from application.errors import PaymentProviderUnavailable
from application.ports import PaymentLink, PaymentRequest, PaymentState, PaymentStatus
from domain.errors import PaymentUnavailable
from domain.money import Rupiah

def _tag(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def crc16(data: str) -> str:
    """CRC-16/CCITT-FALSE, the checksum that ends a QRIS string (tag 63)."""
    crc = 0xFFFF
    for byte in data.encode():
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def simulated_qr_string(order_id: str, amount: Rupiah) -> str:
    """A dynamic QRIS string for a simulated merchant, carrying the amount and the order id."""
    body = "".join([
        _tag("00", "01"), _tag("01", "12"),
        _tag("26", _tag("00", "ID.TOKOWA.SIMULATOR") + _tag("01", order_id[:25])),
        _tag("52", "0000"), _tag("53", "360"), _tag("54", str(amount.value)), _tag("58", "ID"),
        _tag("59", "TOKOWA SIMULATOR"), _tag("60", "JAKARTA"), _tag("62", _tag("01", order_id[:25])),
    ]) + "6304"
    return body + crc16(body)


# Midtrans' status_code for a transaction_status: 201 waiting, 202 refused or gone, else 200.
_STATUS_CODES = {"pending": "201", "authorize": "201", "deny": "202", "expire": "202", "failure": "202"}


class SimulatedPaymentGateway:
    def __init__(self, public_url: str, signing_key: str = "") -> None:
        self._public_url = public_url.rstrip("/")
        self._signing_key = signing_key
        self._amounts: dict[str, Rupiah] = {}
        self._states: dict[str, PaymentState] = {}
        self._reversed: dict[str, Rupiah] = {}
        self.fail_next_create = False

    @property
    def available(self) -> bool:
        return True

    async def create(self, request: PaymentRequest) -> PaymentLink:
        if self.fail_next_create:
            self.fail_next_create = False
            raise PaymentProviderUnavailable("simulated outage")
        self._amounts[request.order_id] = request.amount
        return PaymentLink(f"{self._public_url}/pay/{request.order_id}", token=request.order_id)

    async def charge_qris(self, request: PaymentRequest) -> PaymentLink:
        link = await self.create(request)
        return PaymentLink(link.url, link.token, qr_string=simulated_qr_string(request.order_id, request.amount))

    async def status(self, order_id: str) -> PaymentStatus | None:
        state, amount = self._states.get(order_id), self._amounts.get(order_id)
        if state is None or amount is None:
            return None
        return PaymentStatus(order_id, state, amount, reversed_amount=self._reversed.get(order_id))

    async def cancel(self, order_id: str) -> None:
        if order_id in self._amounts and self._states.get(order_id) in (None, PaymentState.PENDING):
            self._states[order_id] = PaymentState.CANCELLED

    def amount_of(self, order_id: str) -> Rupiah | None:
        return self._amounts.get(order_id)

    def customer_acts(self, order_id: str, state: PaymentState, *, reversed_amount: Rupiah | None = None,
                      amount: Rupiah | None = None) -> PaymentStatus | None:
        """What the pay page's buttons do: the payment reaches `state` at the 'provider'.
        Tests may also say how much was refunded in all, or that another amount was paid."""
        if amount is not None:
            self._amounts[order_id] = amount
        amount = self._amounts.get(order_id)
        if amount is None:
            return None
        self._states[order_id] = state
        if reversed_amount is not None:
            self._reversed[order_id] = reversed_amount
        return PaymentStatus(order_id, state, amount, reversed_amount=self._reversed.get(order_id))

    def notification(self, order_id: str) -> bytes | None:
        """The signed Midtrans-format notification of the order's current state, as Midtrans
        would POST it; None before the customer acted."""
        state, amount = self._states.get(order_id), self._amounts.get(order_id)
        if state is None or amount is None:
            return None
        transaction_status, fraud_status = state.midtrans
        status_code = _STATUS_CODES.get(transaction_status, "200")
        fields = {
            "transaction_status": transaction_status, "status_code": status_code, "order_id": order_id,
            "gross_amount": f"{amount.value}.00", "currency": "IDR", "payment_type": "simulator",
            "transaction_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"tokowa-sim:{order_id}")),
            "status_message": "simulated payment notification",
        }
        if fraud_status:
            fields["fraud_status"] = fraud_status
        if order_id in self._reversed:
            fields["refund_amount"] = f"{self._reversed[order_id].value}.00"
        return signed_notification(fields, self._signing_key)


class DisabledPaymentGateway:
    """Link payments switched off: a real WhatsApp transport without a Midtrans key."""

    @property
    def available(self) -> bool:
        return False

    async def create(self, request: PaymentRequest) -> PaymentLink:
        raise PaymentUnavailable(reason="disabled")

    async def charge_qris(self, request: PaymentRequest) -> PaymentLink:
        raise PaymentUnavailable(reason="disabled")

    async def status(self, order_id: str) -> PaymentStatus | None:
        return None

    async def cancel(self, order_id: str) -> None:
        return None
