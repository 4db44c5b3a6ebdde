"""What the steps share: how names, quoted texts and amounts in the features are read."""

from __future__ import annotations

import re

from application.ports import PaymentState
from tests.bdd.wiring import World, number_of

NAME = r"(?P<name>[A-Z]\w*)"
TEXT = r'"(?P<text>[^"]*)"'
AMOUNT = r"(?P<amount>(?:Rp ?)?[\d.]+)"
STATES = {"paid": PaymentState.PAID, "expired": PaymentState.EXPIRED, "cancelled": PaymentState.CANCELLED,
          "failed": PaymentState.FAILED, "refunded": PaymentState.REFUNDED, "denied": PaymentState.DENY,
          "charged back": PaymentState.CHARGEBACK}

_ORDER = re.compile(r"\{order(?: of (?P<owner>[A-Z]\w*))?\}")


def text_of(raw: str, world: World, name: str) -> str:
    """The quoted text with `\\n` as a line break, `{order}` as the last order id of `name`
    and `{order of Budi}` as Budi's."""

    def order_id(match: re.Match[str]) -> str:
        owner = match["owner"] or name
        order = world.last_order(owner)
        assert order is not None, f"{owner} has no order for {match[0]}"
        return str(order.id)

    return _ORDER.sub(order_id, raw.replace("\\n", "\n"))


def rupiah(amount: str) -> int:
    return int(amount.removeprefix("Rp").strip().replace(".", ""))


def reply_of(world: World, name: str) -> str:
    replies = world.last_replies.get(number_of(name))
    assert replies is not None, f"{name} has sent nothing yet"
    return "\n---\n".join(reply.text for reply in replies)


def inbox_of(world: World, name: str) -> list[str]:
    return world.shop.inbox(number_of(name))


def last_order_id(world: World, name: str) -> str:
    order = world.last_order(name)
    assert order is not None, f"{name} has no order"
    return str(order.id)
