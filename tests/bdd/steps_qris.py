"""Steps for QRIS: the picture a customer receives, read back as a banking app would, and a
QRIS charge the provider refuses."""

from __future__ import annotations

from pytest_bdd import given, parsers, then

from adapters.messaging.qr_image import qr_png
from tests.bdd.phrases import NAME
from tests.bdd.wiring import World, number_of
from tests.support.qr import decode_qr


@given("the payment provider refuses the next charge")
def provider_refuses(world: World) -> None:
    world.shop.gateway.fail_next_create = True


@then(parsers.re(rf"{NAME} receives a QR picture that reads as the QRIS code of (?:his|her|their) last order"))
def qr_picture(world: World, name: str) -> None:
    replies = world.last_replies.get(number_of(name)) or []
    pictures = [reply.image for reply in replies if reply.image is not None]
    assert len(pictures) == 1, f"{name} received {len(pictures)} pictures"
    order = world.last_order(name)
    assert order is not None and order.qr_string, f"{name}'s last order has no QRIS code"
    assert decode_qr(qr_png(pictures[0].data)) == [order.qr_string]


@then(parsers.re(rf"{NAME} receives no picture"))
def no_picture(world: World, name: str) -> None:
    replies = world.last_replies.get(number_of(name)) or []
    assert all(reply.image is None for reply in replies)
