"""Then steps: the replies customers read, the messages they are sent, and the stored state."""

from __future__ import annotations

from pytest_bdd import parsers, then

from domain.order import OrderStatus
from tests.bdd.phrases import AMOUNT, NAME, TEXT, inbox_of, reply_of, rupiah, text_of
from tests.bdd.wiring import World

@then(parsers.re(rf"{NAME} receives a reply containing {TEXT}"))
def reply_contains(world: World, name: str, text: str) -> None:
    expected = text_of(text, world, name)
    assert expected in reply_of(world, name)


@then(parsers.re(rf"{NAME} receives a reply not containing {TEXT}"))
def reply_lacks(world: World, name: str, text: str) -> None:
    assert text_of(text, world, name) not in reply_of(world, name)


@then(parsers.re(rf"{NAME} receives the reply {TEXT}"))
def reply_is(world: World, name: str, text: str) -> None:
    assert reply_of(world, name) == text_of(text, world, name)


@then(parsers.re(rf"{NAME} receives no reply"))
def no_reply(world: World, name: str) -> None:
    assert reply_of(world, name) == ""


@then(parsers.re(rf"exactly one of (?P<first>[A-Z]\w*) and (?P<second>[A-Z]\w*) receives a reply containing {TEXT}"))
def one_of_them(world: World, first: str, second: str, text: str) -> None:
    assert [text in reply_of(world, who) for who in (first, second)].count(True) == 1


@then(parsers.re(rf"{NAME} is sent a message containing {TEXT}"))
def message_contains(world: World, name: str, text: str) -> None:
    expected = text_of(text, world, name)
    assert any(expected in message for message in inbox_of(world, name)), inbox_of(world, name)


@then(parsers.re(rf"{NAME} is sent (?P<count>\d+) messages? containing {TEXT}"))
def messages_counted(world: World, name: str, count: str, text: str) -> None:
    expected = text_of(text, world, name)
    assert sum(expected in message for message in inbox_of(world, name)) == int(count), inbox_of(world, name)


@then(parsers.re(rf"{NAME} is not sent any message containing {TEXT}"))
def no_message(world: World, name: str, text: str) -> None:
    expected = text_of(text, world, name)
    assert not any(expected in message for message in inbox_of(world, name)), inbox_of(world, name)


@then(parsers.re(rf"{NAME} has received (?P<count>\d+) messages? in total"))
def message_count(world: World, name: str, count: str) -> None:
    assert len(inbox_of(world, name)) == int(count), inbox_of(world, name)


@then(parsers.re(rf"{NAME}'s saldo is {AMOUNT}"))
def saldo_is(world: World, name: str, amount: str) -> None:
    assert world.balance(name) == rupiah(amount)


@then(parsers.re(r'the stock of "(?P<code>\w+)" is (?P<count>\d+)'))
def stock_is(world: World, code: str, count: str) -> None:
    assert world.stock(code) == int(count)


@then(parsers.re(rf"{NAME}'s last order is (?P<status>[A-Z]+)"))
def last_order_status(world: World, name: str, status: str) -> None:
    order = world.last_order(name)
    assert order is not None and order.status is OrderStatus(status), order


@then(parsers.re(rf"{NAME} has (?P<count>\d+) orders?(?: (?P<status>[A-Z]+))?"))
def order_count(world: World, name: str, count: str, status: str | None) -> None:
    found = [order for order in world.orders(name) if status is None or order.status is OrderStatus(status)]
    assert len(found) == int(count), found


@then(parsers.re(r"the product list was read from the database (?P<count>\d+) times?"))
def product_reads(world: World, count: str) -> None:
    assert world.reads["product list"] == int(count)


@then(parsers.re(r"Midtrans gets the answer (?P<code>\d{3})"))
def midtrans_answer(world: World, code: str) -> None:
    assert world.last_answer is not None and world.last_answer.status_code == int(code), world.last_answer
