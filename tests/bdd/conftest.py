"""The wiring fixture and the Given/When steps of customers and admins; the Midtrans and Then
steps live in `steps_midtrans.py`, `steps_outcomes.py` and `steps_qris.py`, those of messages that keep
failing in `steps_inbox.py` (every step is listed in docs/testing.md).

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
from pytest_bdd import given, parsers, when
from redis.asyncio import Redis

from application.errors import StorageUnavailable
from application.replies import Reply
from tests.bdd.phrases import AMOUNT, NAME, TEXT, rupiah, text_of
from tests.bdd.steps_midtrans import *  # noqa: F403  (step definitions are fixtures: they must be seen here)
from tests.bdd.steps_outcomes import *  # noqa: F403
from tests.bdd.steps_inbox import *  # noqa: F403
from tests.bdd.steps_qris import *  # noqa: F403
from tests.bdd.steps_seller import *  # noqa: F403
from tests.bdd.wiring import REDIS_URL, WIRINGS, World, number_of

FEATURES = Path(__file__).resolve().parents[2] / "features"


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
    if rupiah(amount):
        reply = world.run(world.shop.say(number_of("Admin"), f".addsaldo {number_of(name)} {rupiah(amount)}"))
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
    world.shop.adapters.single_statement_unit_of_work.override(providers.Factory(_DownUnitOfWork))


@when("the database is reachable again")
def database_is_back(world: World) -> None:
    world.shop.adapters.unit_of_work.reset_last_overriding()
    world.shop.adapters.single_statement_unit_of_work.reset_last_overriding()


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
    world.say(name, text_of(text, world, name))


@when(parsers.re(rf"{NAME} sends:"))
def sends_lines(world: World, name: str, docstring: str) -> None:
    world.say(name, docstring)


@when(parsers.re(rf'{NAME} sends {TEXT} as message "(?P<message_id>[^"]+)"'))
def sends_with_id(world: World, name: str, text: str, message_id: str) -> None:
    world.say(name, text_of(text, world, name), message_id)


@when(parsers.re(rf"{NAME} sends {TEXT} (?P<times>\d+) times"))
def sends_repeatedly(world: World, name: str, text: str, times: str) -> None:
    for _ in range(int(times)):
        world.say(name, text_of(text, world, name))


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

