"""Steps of the seller's side: the cluster-wide rounds (reminders, the consistency check) run by
one worker or by two at once, a balance changed behind the shop's back, and a customer WhatsApp
will not let the shop write to (more than 24 hours since her last message)."""

from __future__ import annotations

import asyncio
from typing import Any

from pytest_bdd import given, parsers, when
from sqlalchemy import update

from adapters.storage.tables import users
from application.errors import RecipientOutsideWindow
from application.replies import Reply
from domain.money import Rupiah
from entrypoints.bootstrap import application_over
from entrypoints.workers import cluster_jobs
from tests.bdd.phrases import AMOUNT, NAME, rupiah
from tests.bdd.wiring import World, number_of

INTERVAL = 60.0  # seconds between two rounds of a cluster job, as `tokowa serve` runs them


async def _round(world: World, app: Any, holder: str) -> None:
    for job, _, _ in cluster_jobs(app, INTERVAL, INTERVAL, holder=holder):
        await job()


@when("the cluster jobs run")
def cluster_round(world: World) -> None:
    world.run(_round(world, world.shop.app, "worker-1"))


@when("two workers run the cluster jobs at the same time")
def two_workers(world: World) -> None:
    """A second application over the same adapters (the same database and messenger), as a
    second process would be; both run the round at once under their own names."""
    second = getattr(world, "second_worker", None)
    if second is None:
        second = world.second_worker = application_over(world.shop.adapters, world.config)  # type: ignore[attr-defined]

    async def both() -> None:
        await asyncio.gather(_round(world, world.shop.app, "worker-1"), _round(world, second, "worker-2"))

    world.run(both())


@given(parsers.re(rf"{NAME}'s saldo is changed to {AMOUNT} behind the shop's back"))
@when(parsers.re(rf"{NAME}'s saldo is changed to {AMOUNT} behind the shop's back"))
def saldo_changed_directly(world: World, name: str, amount: str) -> None:
    """The balance changes in the database without a ledger entry (a manual SQL edit, a bug)."""
    user, value = number_of(name), Rupiah(rupiah(amount))
    if world.wiring == "memory":
        world.shop.adapters.store().data.balances[user] = value
        return

    async def edit() -> None:
        async with world.shop.adapters.storage().engine.begin() as connection:
            await connection.execute(update(users).where(users.c.user_id == user).values(saldo=value.value))

    world.run(edit())


@given(parsers.re(rf"{NAME} has not written to the shop for more than 24 hours"))
@when(parsers.re(rf"{NAME} has not written to the shop for more than 24 hours"))
def window_closed(world: World, name: str) -> None:
    """WhatsApp refuses free-form messages to her (Cloud API 131047) until she writes again."""
    closed: set[str] = getattr(world, "closed_windows", set())
    if not hasattr(world, "closed_windows"):
        world.closed_windows = closed  # type: ignore[attr-defined]
        messenger, shop = world.shop.messenger, world.shop
        send, receive = messenger.send, shop.send

        async def refusing_send(to: str, reply: Reply) -> str | None:
            if to in closed:
                raise RecipientOutsideWindow("131047: more than 24 hours since the recipient wrote")
            return await send(to, reply)

        async def writing(user: str, text: str | None, message_id: str | None = None) -> list[Reply]:
            closed.discard(user)  # her message opens the window again
            return await receive(user, text, message_id)

        messenger.send = refusing_send  # type: ignore[method-assign]
        shop.send = writing  # type: ignore[method-assign]
    closed.add(number_of(name))


@when("the outbox is drained")
def outbox_drained(world: World) -> None:
    """What every worker does every few seconds: send what is due (held messages are not)."""
    async def drain() -> None:
        while await world.shop.app.outbox().drain() > 0:
            pass

    world.run(drain())
