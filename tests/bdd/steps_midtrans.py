"""When steps for Midtrans: payments on the simulator's page notified through `POST /webhooks/midtrans`."""

from __future__ import annotations

from pytest_bdd import parsers, when

from application.ports import PaymentState, PaymentStatus
from domain.money import Rupiah
from domain.order import OrderKind
from tests.bdd.phrases import AMOUNT, NAME, STATES, last_order_id, rupiah
from tests.bdd.wiring import World

@when(parsers.re(rf"{NAME} pays the last order"))
def pays(world: World, name: str) -> None:
    midtrans_reports(world, name, "paid")


@when(parsers.re(rf"Midtrans reports that {NAME}'s last (?P<which>order|top-up) is (?P<state>{'|'.join(STATES)})"))
def midtrans_reports(world: World, name: str, state: str, which: str = "order") -> None:
    """The customer acts on the payment page, then Midtrans POSTs its signed notification."""
    if which == "top-up":
        order_id = next(str(o.id) for o in world.orders(name) if o.kind is OrderKind.TOPUP)
    else:
        order_id = last_order_id(world, name)
    assert world.shop.gateway.customer_acts(order_id, STATES[state]) is not None, f"no payment link for {order_id}"
    body = world.shop.gateway.notification(order_id)
    assert body is not None
    world.run(world.post_notification(body))


@when("Midtrans sends the same notification again")
def same_notification(world: World) -> None:
    assert world.last_notification is not None, "no notification was sent before"
    world.run(world.post_notification(world.last_notification))


@when(parsers.re(rf"someone posts a paid notification for {NAME}'s last order with a forged signature"))
def forged_notification(world: World, name: str) -> None:
    order_id = last_order_id(world, name)
    total = world.last_order(name).total.value
    forged = (f'{{"order_id": "{order_id}", "status_code": "200", "gross_amount": "{total}.00", '
              f'"transaction_status": "settlement", "currency": "IDR", "signature_key": "{"0" * 128}"}}')
    world.run(world.post_notification(forged.encode()))


@when(parsers.re(rf"someone posts a correctly signed notification for {NAME}'s last order before paying"))
def unpaid_notification(world: World, name: str) -> None:
    order_id = last_order_id(world, name)
    world.shop.gateway.customer_acts(order_id, PaymentState.PENDING)
    body = world.shop.gateway.notification(order_id)
    assert body is not None
    world.run(world.post_notification(body.replace(b'"pending"', b'"settlement"')))


@when(parsers.re(rf"a paid status for {NAME}'s last order arrives with the amount {AMOUNT}"))
def paid_with_amount(world: World, name: str, amount: str) -> None:
    status = PaymentStatus(last_order_id(world, name), PaymentState.PAID, Rupiah(rupiah(amount)))
    world.run(world.shop.uc.apply_payment(status))
