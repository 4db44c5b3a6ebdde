"""A fake Midtrans on 127.0.0.1 (real HTTP, so the real midtransclient code path runs), and a
shop wired to it.

The fake answers like Midtrans: Snap `POST /snap/v1/transactions` (validates the body the way
Snap does), the Core API's QRIS `POST /v2/charge` (a pending transaction with a `qr_string`),
`GET /v2/{order_id}/status` (404 until the test says the customer acted, or a QRIS charge),
`POST /v2/{order_id}/cancel`. Tests set the payment state, take services down, or hold a
create call open.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from adapters.payments.midtrans import MidtransPaymentGateway
from adapters.payments.midtrans_notifications import MidtransNotificationVerifier, signed_notification
from entrypoints.container import InMemoryAdapters
from entrypoints.web.app import create_app
from tests.support.shop import Shop, settings

SERVER_KEY = "SB-Mid-server-TEST-ONLY-not-a-real-key"
SAMPLES = Path("/work/shared/samples/midtrans")
STATUS_CODES = {"settlement": "200", "capture": "200", "cancel": "200", "refund": "200", "partial_refund": "200",
                "chargeback": "200", "partial_chargeback": "200", "authorize": "201", "pending": "201",
                "expire": "202", "deny": "202", "failure": "202", "on_hold": "201"}


@dataclass
class Transaction:
    gross_amount: str
    status: str | None = None  # None: the Snap page was never used (status API answers 404)
    fraud_status: str | None = None
    transaction_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    extra: dict[str, str] = field(default_factory=dict)  # more fields of the status answer (refund_amount)


class FakeMidtrans:
    def __init__(self) -> None:
        self.transactions: dict[str, Transaction] = {}
        self.snap_requests: list[dict[str, Any]] = []
        self.charge_requests: list[dict[str, Any]] = []
        self.cancelled: list[str] = []
        self.down: set[str] = set()  # "create", "charge", "status", "cancel": answer 503
        self.status_calls = 0
        self.create_arrived = threading.Event()
        self.create_gate: threading.Event | None = None  # set: create (and charge) wait for it before answering
        self.url = ""

    def pay(self, order_id: str, status: str = "settlement", fraud_status: str | None = "accept",
            amount: str | None = None) -> None:
        """The customer acted: the status API now reports this."""
        tx = self.transactions.setdefault(order_id, Transaction(amount or "35000.00"))
        tx.status, tx.fraud_status = status, fraud_status
        if amount is not None:
            tx.gross_amount = amount

    @staticmethod
    def qr_string(order_id: str) -> str:
        """The code the fake's QRIS charge answers with (a QRIS-like EMV string naming the order)."""
        return ("00020101021226620014COM.GO-JEK.WWW01189360091430000000000215" + order_id[-12:] +
                "0303UME51440014ID.CO.QRIS.WWW0215ID10200000000000303UME5204599953033605802ID5912TOKOWA TESTS"
                "6007JAKARTA6304ABCD")

    def notification(self, order_id: str, key: str = SERVER_KEY, **overrides: str) -> bytes:
        """The notification Midtrans would POST for the transaction's current state."""
        tx = self.transactions[order_id]
        assert tx.status is not None
        fields = {"transaction_time": "2026-11-28 10:00:00", "transaction_status": tx.status,
                  "transaction_id": tx.transaction_id, "status_message": "midtrans payment notification",
                  "status_code": STATUS_CODES[tx.status], "payment_type": "qris", "order_id": order_id,
                  "merchant_id": "G000000000", "gross_amount": tx.gross_amount, "currency": "IDR"}
        if tx.fraud_status:
            fields["fraud_status"] = tx.fraud_status
        fields.update(overrides)
        return signed_notification(fields, key)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeMidtrans

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        expected = "Basic " + base64.b64encode(f"{SERVER_KEY}:".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self._send(401, {"status_code": "401", "status_message": "Unknown Merchant server_key/id"})
            return False
        return True

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not self._authorised():
            return
        if self.path == "/snap/v1/transactions":
            self._create(json.loads(body))
        elif self.path == "/v2/charge":
            self._charge(json.loads(body))
        elif self.path.startswith("/v2/") and self.path.endswith("/cancel"):
            self._cancel(self.path.split("/")[2])
        else:
            self._send(404, {"status_code": "404"})

    def do_GET(self) -> None:
        if not self._authorised():
            return
        parts = self.path.split("/")
        if len(parts) == 4 and parts[1] == "v2" and parts[3] == "status":
            self._status(parts[2])
        else:
            self._send(404, {"status_code": "404"})

    def _create(self, body: dict[str, Any]) -> None:
        fake = self.fake
        fake.snap_requests.append(body)
        fake.create_arrived.set()
        if fake.create_gate is not None:
            fake.create_gate.wait(30)
        if "create" in fake.down:
            self._send(503, {"error_messages": ["Service unavailable"]})
            return
        details = body["transaction_details"]
        items = body.get("item_details", [])
        problems = []
        if details["gross_amount"] != sum(i["price"] * i["quantity"] for i in items):
            problems.append("transaction_details.gross_amount is not equal to the sum of item_details")
        if any(len(i["name"]) > 50 for i in items):
            problems.append("item_details.name too long")
        order_id = details["order_id"]
        if order_id in fake.transactions and fake.transactions[order_id].status is not None:
            problems.append("transaction_details.order_id sudah digunakan")
        if problems:
            self._send(400, {"error_messages": problems})
            return
        fake.transactions.setdefault(order_id, Transaction(f"{details['gross_amount']}.00"))
        token = uuid.uuid4().hex
        self._send(201, {"token": token, "redirect_url": f"https://app.sandbox.midtrans.test/snap/v4/redirection/{token}"})

    def _charge(self, body: dict[str, Any]) -> None:
        fake = self.fake
        fake.charge_requests.append(body)
        fake.create_arrived.set()
        if fake.create_gate is not None:
            fake.create_gate.wait(30)
        if "charge" in fake.down:
            self._send(503, {"status_code": "503", "status_message": "Service unavailable"})
            return
        details = body["transaction_details"]
        order_id = details["order_id"]
        if body.get("payment_type") != "qris":
            self._send(400, {"status_code": "400", "status_message": "payment_type is not supported here"})
            return
        if details["gross_amount"] != sum(i["price"] * i["quantity"] for i in body.get("item_details", [])):
            self._send(400, {"status_code": "400", "validation_messages": ["transaction_details.gross_amount is not equal"]})
            return
        if order_id in fake.transactions:
            # Midtrans answers a reused order_id with HTTP 200 and the refusal in the body.
            self._send(200, {"status_code": "406", "status_message": "The request could not be completed due to a conflict"})
            return
        tx = fake.transactions[order_id] = Transaction(f"{details['gross_amount']}.00", status="pending")
        self._send(200, {
            "status_code": "201", "status_message": "QRIS transaction is created", "transaction_id": tx.transaction_id,
            "order_id": order_id, "merchant_id": "G000000000", "gross_amount": tx.gross_amount, "currency": "IDR",
            "payment_type": "qris", "transaction_time": "2026-11-28 10:00:00", "transaction_status": "pending",
            "fraud_status": "accept", "acquirer": "gopay", "qr_string": fake.qr_string(order_id),
            "actions": [{"name": "generate-qr-code", "method": "GET",
                         "url": f"{fake.url}/v2/qris/{tx.transaction_id}/qr-code"}],
            "expiry_time": "2026-11-28 10:15:00",
        })

    def _status(self, order_id: str) -> None:
        self.fake.status_calls += 1
        if "status" in self.fake.down:
            self._send(503, {"status_code": "503", "status_message": "Service unavailable"})
            return
        tx = self.fake.transactions.get(order_id)
        if tx is None or tx.status is None:
            self._send(404, {"status_code": "404", "status_message": "Transaction doesn't exist."})
            return
        body = {"status_code": STATUS_CODES[tx.status], "transaction_id": tx.transaction_id, "order_id": order_id,
                "gross_amount": tx.gross_amount, "currency": "IDR", "payment_type": "qris",
                "transaction_status": tx.status, "status_message": "Success, transaction is found"}
        if tx.fraud_status:
            body["fraud_status"] = tx.fraud_status
        body.update(tx.extra)
        self._send(200, body)

    def _cancel(self, order_id: str) -> None:
        if "cancel" in self.fake.down:
            self._send(503, {"status_code": "503"})
            return
        tx = self.fake.transactions.get(order_id)
        self.fake.cancelled.append(order_id)
        if tx is None or tx.status is None:
            self._send(404, {"status_code": "404", "status_message": "Transaction doesn't exist."})
        elif tx.status in ("pending", "capture"):
            tx.status = "cancel"
            self._send(200, {"status_code": "200", "transaction_status": "cancel", "order_id": order_id})
        else:
            self._send(412, {"status_code": "412", "status_message": "Merchant cannot modify the status of the transaction"})


@pytest.fixture
def fake_midtrans() -> Iterator[FakeMidtrans]:
    fake = FakeMidtrans()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield fake
    if fake.create_gate is not None:
        fake.create_gate.set()
    server.shutdown()
    server.server_close()


def midtrans_gateway(fake: FakeMidtrans, **options: Any) -> MidtransPaymentGateway:
    return MidtransPaymentGateway(SERVER_KEY, snap_url=f"{fake.url}/snap/v1", api_url=fake.url, **options)


@pytest.fixture
async def shop(fake_midtrans: FakeMidtrans) -> Shop:
    """The in-memory shop with the Midtrans adapter pointed at the fake (NF1: Rp 35.000, 3 items)."""
    config = settings(TOKOWA_SERVER_JOBS="false")
    adapters = InMemoryAdapters()
    adapters.config.from_dict({"public_url": config.public_url})
    adapters.gateway.override(providers.Object(midtrans_gateway(fake_midtrans)))
    adapters.payment_verifier.override(providers.Object(MidtransNotificationVerifier(SERVER_KEY)))
    s = Shop(adapters, config)
    await s.stock_products()
    return s


@pytest.fixture
async def client(shop: Shop) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(settings(TOKOWA_SERVER_JOBS="false"), shop.app)
    async with AsyncTestClient(app=app) as c:
        yield c
