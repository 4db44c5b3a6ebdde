"""`MidtransPaymentGateway` through the real midtransclient code path, against the fake Midtrans
and against dead or hung servers; the state mapping and amount parsing."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from adapters.payments.midtrans import MidtransPaymentGateway, map_state, parse_amount
from application.errors import PaymentProviderUnavailable
from application.ports import LineItem, PaymentRequest, PaymentState
from domain.money import Rupiah
from tests.payments.conftest import SERVER_KEY, FakeMidtrans, midtrans_gateway

ORDER = "INV-20261128-A1B2C3"


def request(order_id: str = ORDER) -> PaymentRequest:
    return PaymentRequest(order_id, Rupiah(35_000), (LineItem("NF1", "Netflix", Rupiah(35_000), 1),),
                          "6281300000003", datetime(2026, 11, 28, 3, 0, tzinfo=UTC), 15)


@pytest.mark.parametrize(("status", "fraud", "state"), [
    ("settlement", "accept", PaymentState.SETTLEMENT),
    ("capture", "accept", PaymentState.CAPTURE_ACCEPT),
    ("capture", None, PaymentState.CAPTURE_ACCEPT),
    ("capture", "challenge", PaymentState.CAPTURE_CHALLENGE),
    ("capture", "deny", PaymentState.CAPTURE_DENY),
    ("authorize", None, PaymentState.AUTHORIZE),
    ("pending", "accept", PaymentState.PENDING),
    ("expire", None, PaymentState.EXPIRE),
    ("cancel", "accept", PaymentState.CANCEL),
    ("deny", "accept", PaymentState.DENY),
    ("failure", None, PaymentState.FAILURE),
    ("refund", "accept", PaymentState.REFUND),
    ("partial_refund", "accept", PaymentState.PARTIAL_REFUND),
    ("chargeback", None, PaymentState.CHARGEBACK),
    ("partial_chargeback", None, PaymentState.PARTIAL_CHARGEBACK),
])
async def test_status_api_states_as_product_md_maps_them(status: str, fraud: str | None, state: PaymentState,
                                                         fake_midtrans: FakeMidtrans) -> None:
    fake_midtrans.pay(ORDER, status, fraud)
    found = await midtrans_gateway(fake_midtrans).status(ORDER)
    assert found is not None
    assert (found.order_id, found.state, found.gross_amount, found.currency) == (ORDER, state, Rupiah(35_000), "IDR")


def test_undocumented_statuses_read_as_nothing_decided_yet() -> None:
    assert map_state("on_hold", None) is PaymentState.PENDING
    assert map_state("capture", "review") is PaymentState.PENDING


async def test_refunds_report_their_running_total(fake_midtrans: FakeMidtrans) -> None:
    fake_midtrans.pay(ORDER, "partial_refund", None)
    fake_midtrans.transactions[ORDER].extra["refund_amount"] = "5000.00"
    found = await midtrans_gateway(fake_midtrans).status(ORDER)
    assert found is not None and found.reversed_amount == Rupiah(5_000)


@pytest.mark.parametrize(("raw", "value"), [("35000.00", 35_000), ("35000", 35_000), ("10000000.00", 10_000_000)])
def test_gross_amount_is_read_as_whole_rupiah(raw: str, value: int) -> None:
    assert parse_amount(raw) == Rupiah(value)


@pytest.mark.parametrize("raw", ["35000.50", "abc", "NaN", None])
def test_fractional_or_unreadable_amounts_are_refused(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_amount(raw)


async def test_status_of_an_order_midtrans_does_not_know_is_none(fake_midtrans: FakeMidtrans) -> None:
    gateway = midtrans_gateway(fake_midtrans)
    assert await gateway.status("INV-NEVER") is None
    await midtrans_gateway(fake_midtrans).create(request())  # Snap page opened, no method chosen yet
    assert await gateway.status(ORDER) is None


async def test_create_returns_the_snap_redirect(fake_midtrans: FakeMidtrans) -> None:
    link = await midtrans_gateway(fake_midtrans).create(request())
    assert link.url.startswith("https://app.sandbox.midtrans.test/snap/") and link.token
    assert fake_midtrans.snap_requests[0]["transaction_details"]["gross_amount"] == 35_000


async def test_finish_url_is_sent_when_configured(fake_midtrans: FakeMidtrans) -> None:
    await midtrans_gateway(fake_midtrans, finish_url="https://toko.example/payments/finish").create(request())
    assert fake_midtrans.snap_requests[0]["callbacks"] == {"finish": "https://toko.example/payments/finish"}


async def test_items_that_do_not_add_up_are_never_sent(fake_midtrans: FakeMidtrans) -> None:
    bad = PaymentRequest(ORDER, Rupiah(40_000), request().items, "62813", request().start_time, 15)
    with pytest.raises(PaymentProviderUnavailable):
        await midtrans_gateway(fake_midtrans).create(bad)
    assert fake_midtrans.snap_requests == []


async def test_cancel_of_an_unused_snap_page_is_not_an_error(fake_midtrans: FakeMidtrans) -> None:
    await midtrans_gateway(fake_midtrans).cancel("INV-NEVER")
    assert fake_midtrans.cancelled == ["INV-NEVER"]


@pytest.mark.parametrize("service", ["create", "status", "cancel"])
async def test_midtrans_errors_are_provider_unavailable(service: str, fake_midtrans: FakeMidtrans) -> None:
    fake_midtrans.pay(ORDER, "pending")
    fake_midtrans.down.add(service)
    gateway = midtrans_gateway(fake_midtrans)
    with pytest.raises(PaymentProviderUnavailable):
        if service == "create":
            await gateway.create(request("INV-OTHER"))
        elif service == "status":
            await gateway.status(ORDER)
        else:
            await gateway.cancel(ORDER)


async def test_a_wrong_server_key_is_provider_unavailable(fake_midtrans: FakeMidtrans) -> None:
    fake_midtrans.pay(ORDER)
    gateway = MidtransPaymentGateway("SB-Mid-server-wrong", snap_url=f"{fake_midtrans.url}/snap/v1", api_url=fake_midtrans.url)
    with pytest.raises(PaymentProviderUnavailable):
        await gateway.status(ORDER)


@pytest.fixture
def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def hung_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


async def test_unreachable_midtrans_is_provider_unavailable(dead_port: int) -> None:
    gateway = MidtransPaymentGateway(SERVER_KEY, snap_url=f"http://127.0.0.1:{dead_port}/snap/v1",
                                     api_url=f"http://127.0.0.1:{dead_port}")
    with pytest.raises(PaymentProviderUnavailable):
        await gateway.create(request())
    with pytest.raises(PaymentProviderUnavailable):
        await gateway.status(ORDER)


async def test_a_hung_midtrans_times_out(hung_server: str) -> None:
    gateway = MidtransPaymentGateway(SERVER_KEY, snap_url=f"{hung_server}/snap/v1", api_url=hung_server, timeout=0.2)
    with pytest.raises(PaymentProviderUnavailable):
        await gateway.status(ORDER)


async def test_the_server_key_is_never_logged_or_shown(fake_midtrans: FakeMidtrans, dead_port: int,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    gateways = [midtrans_gateway(fake_midtrans),
                MidtransPaymentGateway(SERVER_KEY, snap_url=f"http://127.0.0.1:{dead_port}", api_url=f"http://127.0.0.1:{dead_port}")]
    fake_midtrans.down.update({"create", "status"})
    shown = [repr(g) for g in gateways]
    for gateway in gateways:
        for call in (gateway.create(request()), gateway.status(ORDER)):
            with pytest.raises(PaymentProviderUnavailable) as caught:
                await call
            shown += [str(caught.value), repr(caught.value), repr(caught.value.__cause__), repr(caught.value.__context__)]
    assert caplog.records and all(SERVER_KEY not in text for text in shown + [caplog.text])
