"""The wiring fixture and every step the features may use (listed in the README's "For QA").

Steps are sync (pytest-bdd); each scenario drives its coroutines through one `asyncio.Runner`
of its own, apart from pytest-asyncio's loop. In quoted texts, `\\n` is a line break,
`{order}` stands for the last order of the person the step is about and `{order of Budi}` for Budi's.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest
from dependency_injector import providers
from pytest_bdd import given, parsers, then, when
from redis.asyncio import Redis

from application.errors import StorageUnavailable
from application.ports import PaymentState, PaymentStatus
from application.replies import Reply
from domain.money import Rupiah
from domain.order import OrderStatus
from tests.bdd.wiring import REDIS_URL, WIRINGS, World, number_of

FEATURES = Path(__file__).resolve().parents[2] / "features"
NAME = r"(?P<name>[A-Z]\w*)"
TEXT = r'"(?P<text>[^"]*)"'
AMOUNT = r"(?P<amount>(?:Rp ?)?[\d.]+)"
STATES = {"paid": PaymentState.PAID, "expired": PaymentState.EXPIRED, "cancelled": PaymentState.CANCELLED,
          "failed": PaymentState.FAILED, "refunded": PaymentState.REFUNDED}


def pytest_configure(config: pytest.Config) -> None:
    """Every tag used in a feature file becomes a known marker (`-m buying` runs one feature)."""
    tags = {tag for path in FEATURES.glob("*.feature") for tag in re.findall(r"(?m)^\s*@(\w+)", path.read_text())}
    for tag in sorted(tags):
        config.addinivalue_line("markers", f"{tag}: feature tag")


# --- wiring -----------------------------------------------------------------------------------

_MARKS = {"memory": [pytest.mark.wiring_memory], "sqlite": [pytest.mark.wiring_sqlite],
          "postgres": [pytest.mark.wiring_postgres, pytest.mark.postgres, pytest.mark.redis]}


@pytest.fixture(params=[pytest.param(w, marks=_MARKS[w], id=w) for w in WIRINGS])
def wiring(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as loop_runner:
        yield loop_runner


async def _redis_answers() -> bool:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        return bool(await client.ping())
    except OSError:
        return False
    finally:
        await client.aclose()


@pytest.fixture
def world(wiring: str, runner: asyncio.Runner, request: pytest.FixtureRequest, secret_key: str) -> Iterator[World]:
    if wiring == "postgres" and request.node.get_closest_marker("clock_driven_cache"):
        pytest.skip("Redis expires keys on its own clock, the scenario's clock cannot move it")
    url = None
    if wiring == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    elif wiring == "postgres":
        url = request.getfixturevalue("pg_url")
        if not runner.run(_redis_answers()):
            pytest.fail(f"Redis at {REDIS_URL} is unreachable")
    shop_world = World(wiring, runner, url, secret_key)
    try:
        yield shop_world
    finally:
        runner.run(shop_world.close())


_ORDER = re.compile(r"\{order(?: of (?P<owner>[A-Z]\w*))?\}")


def _text(raw: str, world: World, name: str) -> str:
    """The quoted text with `\\n` as a line break, `{order}` as the last order id of `name`
    and `{order of Budi}` as Budi's."""

    def order_id(match: re.Match[str]) -> str:
        owner = match["owner"] or name
        order = world.last_order(owner)
        assert order is not None, f"{owner} has no order for {match[0]}"
        return str(order.id)

    return _ORDER.sub(order_id, raw.replace("\\n", "\n"))


def _rupiah(amount: str) -> int:
    return int(amount.removeprefix("Rp").strip().replace(".", ""))


def _reply_of(world: World, name: str) -> str:
    replies = world.last_replies.get(number_of(name))
    assert replies is not None, f"{name} has sent nothing yet"
    return "\n---\n".join(reply.text for reply in replies)


def _inbox(world: World, name: str) -> list[str]:
    return world.shop.inbox(number_of(name))


# --- Given ------------------------------------------------------------------------------------

@given("the shop sells:")
def shop_sells(world: World, datatable: list[list[str]]) -> None:
    header, *rows = datatable
    for row in rows:
        product = dict(zip(header, row, strict=True))
        fields = [product["code"], product["name"], product["price"], product.get("stock", "0")]
        if product.get("description"):
            fields.append(product["description"])
        reply = world.run(world.shop.say(number_of("Admin"), ".addproduk " + "|".join(fields)))
        assert "ditambahkan" in reply, reply


@given(parsers.re(r'"(?P<code>\w+)" is stocked with the accounts:'))
def stocked_with_items(world: World, code: str, docstring: str) -> None:
    reply = world.run(world.shop.say(number_of("Admin"), f".addstok {code}\n{docstring}"))
    assert "item ditambahkan" in reply, reply


@given(parsers.re(rf"{NAME} has a saldo of {AMOUNT}"))
def has_saldo(world: World, name: str, amount: str) -> None:
    if _rupiah(amount):
        reply = world.run(world.shop.say(number_of("Admin"), f".addsaldo {number_of(name)} {_rupiah(amount)}"))
        assert reply.startswith("Saldo"), reply


@given("Redis is unreachable")
def redis_is_down(world: World) -> None:
    world.redis_goes_down()


class _DownUnitOfWork:
    async def __aenter__(self) -> _DownUnitOfWork:
        raise StorageUnavailable("connection refused")

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        tb: TracebackType | None) -> None:
        return None


@given("the database is unreachable")
@when("the database becomes unreachable")
def database_is_down(world: World) -> None:
    world.shop.adapters.unit_of_work.override(providers.Factory(_DownUnitOfWork))


@when("the database is reachable again")
def database_is_back(world: World) -> None:
    world.shop.adapters.unit_of_work.reset_last_overriding()


@given(parsers.re(rf'{NAME} already has a "(?P<command>\w+)" being processed'), target_fixture="held_lock")
def lock_is_held(world: World, name: str, command: str) -> object:
    held = world.run(world.shop.adapters.locks().acquire(f"lock:{command}:{number_of(name)}", 30_000))
    assert held is not None
    return held


@when("that processing finishes")
def lock_released(world: World, held_lock: object) -> None:
    world.run(world.shop.adapters.locks().release(held_lock))


# --- When: customers --------------------------------------------------------------------------

@given(parsers.re(rf"{NAME} has sent {TEXT}"))
@when(parsers.re(rf"{NAME} sends {TEXT}"))
def sends(world: World, name: str, text: str) -> None:
    world.say(name, _text(text, world, name))


@when(parsers.re(rf"{NAME} sends:"))
def sends_lines(world: World, name: str, docstring: str) -> None:
    world.say(name, docstring)


@when(parsers.re(rf'{NAME} sends {TEXT} as message "(?P<message_id>[^"]+)"'))
def sends_with_id(world: World, name: str, text: str, message_id: str) -> None:
    world.say(name, _text(text, world, name), message_id)


@when(parsers.re(rf"{NAME} sends {TEXT} (?P<times>\d+) times"))
def sends_repeatedly(world: World, name: str, text: str, times: str) -> None:
    for _ in range(int(times)):
        world.say(name, _text(text, world, name))


@when(parsers.re(rf"(?P<first>[A-Z]\w*) and (?P<second>[A-Z]\w*) both send {TEXT} at the same time"))
def send_together(world: World, first: str, second: str, text: str) -> None:
    users = [number_of(first), number_of(second)]

    async def both() -> list[list[Reply]]:
        return list(await asyncio.gather(*(world.shop.send(user, text) for user in users)))

    for user, replies in zip(users, world.run(both()), strict=True):
        world.last_replies[user] = replies


@when(parsers.re(rf"{NAME} sends a photo"))
def sends_photo(world: World, name: str) -> None:
    world.say(name, None)


@when(parsers.re(r"(?P<minutes>\d+) minutes pass"))
def time_passes(world: World, minutes: str) -> None:
    world.clock.advance(minutes=int(minutes))


@when("the expiry job runs")
def expiry_job(world: World) -> None:
    world.run(world.shop.uc.expire_stale())


# --- When: Midtrans ---------------------------------------------------------------------------

def _last_order_id(world: World, name: str) -> str:
    order = world.last_order(name)
    assert order is not None, f"{name} has no order"
    return str(order.id)


@when(parsers.re(rf"{NAME} pays the last order"))
def pays(world: World, name: str) -> None:
    midtrans_reports(world, name, "paid")


@when(parsers.re(rf"Midtrans reports that {NAME}'s last order is (?P<state>{'|'.join(STATES)})"))
def midtrans_reports(world: World, name: str, state: str) -> None:
    """The customer acts on the payment page, then Midtrans POSTs its signed notification."""
    order_id = _last_order_id(world, name)
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
    order_id = _last_order_id(world, name)
    total = world.last_order(name).total.value
    forged = (f'{{"order_id": "{order_id}", "status_code": "200", "gross_amount": "{total}.00", '
              f'"transaction_status": "settlement", "currency": "IDR", "signature_key": "{"0" * 128}"}}')
    world.run(world.post_notification(forged.encode()))


@when(parsers.re(rf"someone posts a correctly signed notification for {NAME}'s last order before paying"))
def unpaid_notification(world: World, name: str) -> None:
    order_id = _last_order_id(world, name)
    world.shop.gateway.customer_acts(order_id, PaymentState.PENDING)
    body = world.shop.gateway.notification(order_id)
    assert body is not None
    world.run(world.post_notification(body.replace(b'"pending"', b'"settlement"')))


@when(parsers.re(rf"a paid status for {NAME}'s last order arrives with the amount {AMOUNT}"))
def paid_with_amount(world: World, name: str, amount: str) -> None:
    status = PaymentStatus(_last_order_id(world, name), PaymentState.PAID, Rupiah(_rupiah(amount)))
    world.run(world.shop.uc.apply_payment(status))


# --- Then -------------------------------------------------------------------------------------

@then(parsers.re(rf"{NAME} receives a reply containing {TEXT}"))
def reply_contains(world: World, name: str, text: str) -> None:
    expected = _text(text, world, name)
    assert expected in _reply_of(world, name)


@then(parsers.re(rf"{NAME} receives a reply not containing {TEXT}"))
def reply_lacks(world: World, name: str, text: str) -> None:
    assert _text(text, world, name) not in _reply_of(world, name)


@then(parsers.re(rf"{NAME} receives the reply {TEXT}"))
def reply_is(world: World, name: str, text: str) -> None:
    assert _reply_of(world, name) == _text(text, world, name)


@then(parsers.re(rf"{NAME} receives no reply"))
def no_reply(world: World, name: str) -> None:
    assert _reply_of(world, name) == ""


@then(parsers.re(rf"exactly one of (?P<first>[A-Z]\w*) and (?P<second>[A-Z]\w*) receives a reply containing {TEXT}"))
def one_of_them(world: World, first: str, second: str, text: str) -> None:
    assert [text in _reply_of(world, who) for who in (first, second)].count(True) == 1


@then(parsers.re(rf"{NAME} is sent a message containing {TEXT}"))
def message_contains(world: World, name: str, text: str) -> None:
    expected = _text(text, world, name)
    assert any(expected in message for message in _inbox(world, name)), _inbox(world, name)


@then(parsers.re(rf"{NAME} is sent (?P<count>\d+) messages? containing {TEXT}"))
def messages_counted(world: World, name: str, count: str, text: str) -> None:
    expected = _text(text, world, name)
    assert sum(expected in message for message in _inbox(world, name)) == int(count), _inbox(world, name)


@then(parsers.re(rf"{NAME} is not sent any message containing {TEXT}"))
def no_message(world: World, name: str, text: str) -> None:
    expected = _text(text, world, name)
    assert not any(expected in message for message in _inbox(world, name)), _inbox(world, name)


@then(parsers.re(rf"{NAME} has received (?P<count>\d+) messages? in total"))
def message_count(world: World, name: str, count: str) -> None:
    assert len(_inbox(world, name)) == int(count), _inbox(world, name)


@then(parsers.re(rf"{NAME}'s saldo is {AMOUNT}"))
def saldo_is(world: World, name: str, amount: str) -> None:
    assert world.balance(name) == _rupiah(amount)


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
