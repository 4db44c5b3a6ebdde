"""Midtrans: Snap payment links, and the Core API's status and cancel, through `midtransclient`.

`midtransclient` is synchronous and sets no timeout: every call runs in a worker thread
(`anyio.to_thread`) on a `requests.Session` that always passes a timeout. The base URLs are set
on each client's own `api_config`, so tests can point them at a local fake. The server key
lives only inside the clients: never log `api_config` (its repr shows the key) or this object's
internals; provider errors are re-raised without their chain (their request carries the
Basic-auth header).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import anyio.to_thread
import midtransclient
import requests
from midtransclient.error_midtrans import JSONDecodeError, MidtransAPIError

from application.errors import PaymentProviderUnavailable
from application.ports import PaymentLink, PaymentRequest, PaymentState, PaymentStatus
from domain.money import Rupiah
from domain.order import JAKARTA

log = logging.getLogger("tokowa.payments.midtrans")

NAME_LIMIT = 50  # Midtrans rejects item names and ids longer than this

class _NotFound(Exception):
    """Midtrans does not know the order (yet): Snap answers 404 until a method is chosen."""


class TimeoutSession(requests.Session):
    """A session that never waits forever: every request gets the timeout unless it sets one."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)


def map_state(transaction_status: str, fraud_status: str | None) -> PaymentState:
    """Midtrans' transaction_status (+ fraud_status for card captures) as a provider status;
    a status Midtrans does not document reads as `pending` (nothing decided), loudly."""
    state = PaymentState.from_midtrans(transaction_status, fraud_status or None)
    if state is None:
        log.error("undocumented Midtrans status %r (fraud %r) read as pending", transaction_status, fraud_status)
        return PaymentState.PENDING
    return state


def reversed_amount(answer: dict[str, Any], reversal: str) -> Rupiah | None:
    """How much was refunded (`refund_amount`) or charged back (`chargeback_amount`) in all,
    when the status answer says."""
    keys = ("chargeback_amount", "refund_amount") if reversal == "chargeback" else ("refund_amount",)
    for key in keys:
        if answer.get(key) not in (None, ""):
            try:
                return parse_amount(answer[key])
            except ValueError:
                log.error("unreadable %s in a status answer", key)
    return None


def parse_amount(raw: object) -> Rupiah:
    """`"35000.00"` -> Rp 35.000. A fractional or unreadable amount is refused (ValueError)."""
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"gross_amount {raw!r} is not a number") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError(f"gross_amount {raw!r} is not whole rupiah")
    return Rupiah(int(value))


def snap_parameters(request: PaymentRequest, finish_url: str | None) -> dict[str, Any]:
    """The Snap `create_transaction` body: gross_amount is the sum of the item details."""
    items = [{"id": item.id[:NAME_LIMIT], "name": item.name[:NAME_LIMIT], "price": item.price.value,
              "quantity": item.quantity} for item in request.items]
    gross = sum(item.price.value * item.quantity for item in request.items)
    if gross != request.amount.value:
        raise ValueError(f"order {request.order_id}: items add up to {gross}, not {request.amount.value}")
    start: datetime = request.start_time.astimezone(JAKARTA)
    body: dict[str, Any] = {
        "transaction_details": {"order_id": request.order_id, "gross_amount": gross},
        "item_details": items,
        "customer_details": {"phone": request.customer_phone},
        "expiry": {"start_time": start.strftime("%Y-%m-%d %H:%M:%S %z"), "unit": "minute",
                   "duration": request.expiry_minutes},
    }
    if finish_url:
        body["callbacks"] = {"finish": finish_url}
    return body


class MidtransPaymentGateway:
    """`PaymentGateway` on Midtrans Snap (links) and the Core API (status, cancel)."""

    def __init__(self, server_key: str, *, is_production: bool = False, snap_url: str | None = None,
                 api_url: str | None = None, finish_url: str | None = None, timeout: float = 4.0) -> None:
        self._session = TimeoutSession(timeout)
        self._finish_url = finish_url
        self._snap = midtransclient.Snap(is_production=is_production, server_key=server_key)
        self._core = midtransclient.CoreApi(is_production=is_production, server_key=server_key)
        for client in (self._snap, self._core):
            client.http_client.http_client = self._session
            config = client.api_config
            if snap_url:
                config.SNAP_SANDBOX_BASE_URL = config.SNAP_PRODUCTION_BASE_URL = snap_url.rstrip("/")
            if api_url:
                config.CORE_SANDBOX_BASE_URL = config.CORE_PRODUCTION_BASE_URL = api_url.rstrip("/")

    def __repr__(self) -> str:
        return f"MidtransPaymentGateway(snap={self._snap.api_config.get_snap_base_url()!r})"

    @property
    def available(self) -> bool:
        return True

    async def create(self, request: PaymentRequest) -> PaymentLink:
        try:
            body = snap_parameters(request, self._finish_url)
        except ValueError as error:
            log.error("payment link not requested: %s", error)
            raise PaymentProviderUnavailable(str(error)) from None
        try:
            answer = await self._call(self._snap.create_transaction, body)
        except _NotFound:
            raise PaymentProviderUnavailable("Snap answered 404") from None
        url, token = answer.get("redirect_url"), answer.get("token")
        if not isinstance(url, str) or not url:
            raise PaymentProviderUnavailable("Snap answered without a redirect_url")
        return PaymentLink(url, token if isinstance(token, str) else None)

    async def status(self, order_id: str) -> PaymentStatus | None:
        try:
            answer = await self._call(self._core.transactions.status, order_id)
        except _NotFound:
            return None
        try:
            amount = parse_amount(answer.get("gross_amount"))
        except ValueError as error:
            log.error("unreadable status answer for %s: %s", order_id, error)
            raise PaymentProviderUnavailable("unreadable status answer") from None
        fraud = answer.get("fraud_status")
        state = map_state(str(answer.get("transaction_status", "")), fraud if isinstance(fraud, str) else None)
        return PaymentStatus(str(answer.get("order_id") or order_id), state, amount, str(answer.get("currency") or "IDR"),
                             reversed_amount(answer, state.reversal) if state.reversal else None)

    async def cancel(self, order_id: str) -> None:
        try:
            await self._call(self._core.transactions.cancel, order_id)
        except _NotFound:
            pass  # no transaction yet: the Snap page was never used, nothing to cancel there

    async def _call(self, call: Callable[[Any], dict[str, Any]], argument: Any) -> dict[str, Any]:
        try:
            answer = await anyio.to_thread.run_sync(call, argument)
        except MidtransAPIError as error:
            code = _status_code(error)
            if code == 404:
                raise _NotFound() from None
            log.warning("Midtrans answered an error", extra={"http_status": error.http_status_code, "status_code": code})
            raise PaymentProviderUnavailable(f"Midtrans answered status {code}") from None
        except (requests.RequestException, JSONDecodeError, ValueError) as error:
            log.warning("Midtrans unreachable: %s", type(error).__name__)
            raise PaymentProviderUnavailable(f"Midtrans unreachable ({type(error).__name__})") from None
        if not isinstance(answer, dict):
            raise PaymentProviderUnavailable("Midtrans answered something else than a JSON object")
        return answer


def _status_code(error: MidtransAPIError) -> int:
    """Midtrans sometimes answers HTTP 200 with the real status in the body's `status_code`."""
    body = error.api_response_dict if isinstance(error.api_response_dict, dict) else {}
    try:
        return int(body.get("status_code", error.http_status_code))
    except (TypeError, ValueError):
        return int(error.http_status_code)
