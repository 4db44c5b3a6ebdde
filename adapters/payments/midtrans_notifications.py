"""Midtrans HTTP notifications: parsing, the signature check, the dedupe key, and signing.

`signature_key = sha512(order_id + status_code + gross_amount + server_key)` over the raw strings
as received (`"35000.00"`, never reformatted). The signature does not cover `transaction_status`,
so a verified notification only says "something happened to this order": the state to act on
comes from the status API (see `HandlePaymentNotification`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from application.use_cases.payment_notifications import PaymentNotification

MAX_NOTIFICATION_BYTES = 64 * 1024
MAX_ORDER_ID = 50
_SIGNED = ("order_id", "status_code", "gross_amount", "signature_key", "transaction_status")
_EVENT_FIELDS = ("order_id", "transaction_id", "transaction_status", "fraud_status", "status_code", "gross_amount")


class MalformedNotification(ValueError):
    """Not a Midtrans notification: not JSON, too big, or a required field is missing."""


class ForgedNotification(ValueError):
    """The signature does not match: not sent by whoever holds the key."""


def signature(order_id: str, status_code: str, gross_amount: str, key: str) -> str:
    return hashlib.sha512((order_id + status_code + gross_amount + key).encode("utf-8")).hexdigest()


def event_key(fields: dict[str, str]) -> str:
    """Identical for a redelivery of the same notification, different for any new status
    (another transaction, status, fraud decision or amount of the same order)."""
    joined = "\x1f".join(fields.get(name, "") for name in _EVENT_FIELDS)
    return "midtrans:" + hashlib.sha256(joined.encode("utf-8")).hexdigest()


class MidtransNotificationVerifier:
    """Turns a POST body into a `PaymentNotification`, or raises Malformed/ForgedNotification."""

    def __init__(self, signing_key: str) -> None:
        self._key = signing_key

    def __repr__(self) -> str:
        return "MidtransNotificationVerifier(<key hidden>)"

    def verify(self, body: bytes) -> PaymentNotification:
        fields = _fields(body)
        expected = signature(fields["order_id"], fields["status_code"], fields["gross_amount"], self._key)
        if not hmac.compare_digest(expected.encode("utf-8"), fields["signature_key"].encode("utf-8")):
            raise ForgedNotification(fields["order_id"])
        return PaymentNotification(fields["order_id"], event_key(fields), body.decode("utf-8", errors="replace"))


def _fields(body: bytes) -> dict[str, str]:
    if len(body) > MAX_NOTIFICATION_BYTES:
        raise MalformedNotification("body too large")
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedNotification("not JSON") from None
    if not isinstance(data, dict):
        raise MalformedNotification("not a JSON object")
    fields = {name: value for name, value in data.items() if isinstance(value, str)}
    missing = [name for name in _SIGNED if not fields.get(name)]
    if missing:
        raise MalformedNotification(f"missing {', '.join(missing)}")
    if len(fields["order_id"]) > MAX_ORDER_ID:
        raise MalformedNotification("order_id too long")
    return fields


def signed_notification(fields: dict[str, str], key: str) -> bytes:
    """A notification body as Midtrans would send it, signed with `key` (the simulator uses it)."""
    body = dict(fields)
    body["signature_key"] = signature(body["order_id"], body["status_code"], body["gross_amount"], key)
    return json.dumps(body, separators=(",", ":")).encode("utf-8")
