"""Faults for the simulation: a unit-of-work factory wrapping the real one.

- `StorageFault`: the n-th storage operation from now (entering a unit of work, any repository
  call, or a commit) raises `StorageUnavailable`; a failing commit fails before it takes effect.
- An outage: every unit of work fails on enter until it is switched off.
- `Crash`: after k more commits the next unit of work's enter raises `Crash`, which no
  production code catches (a BaseException): the coroutine's remaining steps are abandoned, as
  if the process died between two units of work. The step that runs it catches it.

Every commit that takes effect is written to the `Journal` with the calls its unit of work made
and the tag of what it ran for (the inbox message id, or a notification / job name), so the
invariants can tell what committed on whose behalf.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from application.errors import StorageUnavailable
from application.ports import UnitOfWork

# What the current coroutine runs for: an inbox message id, "notify:<order>", "expire", ...
TAG: contextvars.ContextVar[str] = contextvars.ContextVar("simulation_tag", default="")


class Crash(BaseException):
    """The process died here. A BaseException, so no `except Exception` in the code swallows it."""


@dataclass(frozen=True)
class Call:
    name: str  # "repository.method", e.g. "outbox.add"
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class Committed:
    tag: str
    calls: tuple[Call, ...]

    def has(self, *names: str) -> bool:
        return any(call.name in names for call in self.calls)


@dataclass
class Journal:
    """Every commit that took effect, in order."""

    entries: list[Committed] = field(default_factory=list)

    def tagged(self, tag: str) -> list[Committed]:
        return [e for e in self.entries if e.tag == tag]

    def calls(self, name: str) -> list[tuple[str, Call]]:
        return [(e.tag, c) for e in self.entries for c in e.calls if c.name == name]


@dataclass
class FaultPlan:
    """What goes wrong next. `fired` counts the faults that did happen (the steps watch it)."""

    storage_countdown: int | None = None  # operations left before one fails
    crash_countdown: int | None = None  # commits left before the next enter crashes
    crash_now: bool = False
    fail_on: str | None = None  # the next call of this repository method fails (regression tests)
    outage: int = 0  # units of work left that fail on enter (the database is down meanwhile)
    fired: int = 0

    @property
    def armed(self) -> bool:
        return (self.storage_countdown is not None or self.fail_on is not None or self.crash_countdown is not None
                or self.crash_now or self.outage > 0)

    def disarm(self) -> None:
        self.storage_countdown = self.crash_countdown = self.fail_on = None
        self.crash_now = False
        self.outage = 0

    def on_enter(self) -> None:
        if self.crash_now:
            self.crash_now = False
            self.fired += 1
            raise Crash("simulated crash between two units of work")
        if self.outage:
            self.outage -= 1
            self.fired += 1
            raise StorageUnavailable("simulated outage")
        self.on_operation("enter")

    def on_operation(self, where: str) -> None:
        if where == self.fail_on:
            self.fail_on = None
            self.fired += 1
            raise StorageUnavailable(f"simulated storage failure on {where}")
        if self.storage_countdown is None:
            return
        if self.storage_countdown > 0:
            self.storage_countdown -= 1
            return
        self.storage_countdown = None
        self.fired += 1
        raise StorageUnavailable(f"simulated storage failure on {where}")

    def on_committed(self) -> None:
        if self.crash_countdown is None:
            return
        if self.crash_countdown > 0:
            self.crash_countdown -= 1
            return
        self.crash_countdown = None
        self.crash_now = True


class _Repository:
    """A repository whose every call may fail first and is remembered by its unit of work."""

    def __init__(self, uow: FaultyUnitOfWork, name: str) -> None:
        self._uow, self._name = uow, name

    def __getattr__(self, method: str) -> Callable[..., Any]:
        target = getattr(getattr(self._uow.inner, self._name), method)
        name = f"{self._name}.{method}"

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._uow.plan.on_operation(name)
            result = await target(*args, **kwargs)
            self._uow.calls.append(Call(name, args, kwargs))
            return result

        return call


class FaultyUnitOfWork:
    """A real unit of work, with faults from the plan and commits written to the journal."""

    def __init__(self, inner: UnitOfWork, plan: FaultPlan, journal: Journal) -> None:
        self.inner, self.plan, self.journal = inner, plan, journal
        self.calls: list[Call] = []

    @property
    def products(self) -> Any:
        return _Repository(self, "products")

    @property
    def customers(self) -> Any:
        return _Repository(self, "customers")

    @property
    def wallets(self) -> Any:
        return _Repository(self, "wallets")

    @property
    def orders(self) -> Any:
        return _Repository(self, "orders")

    @property
    def settings(self) -> Any:
        return _Repository(self, "settings")

    @property
    def inbox(self) -> Any:
        return _Repository(self, "inbox")

    @property
    def payments(self) -> Any:
        return _Repository(self, "payments")

    @property
    def outbox(self) -> Any:
        return _Repository(self, "outbox")

    @property
    def alerts(self) -> Any:
        return _Repository(self, "alerts")

    @property
    def housekeeping(self) -> Any:
        return _Repository(self, "housekeeping")

    @property
    def leases(self) -> Any:
        return _Repository(self, "leases")

    async def __aenter__(self) -> FaultyUnitOfWork:
        self.plan.on_enter()
        await self.inner.__aenter__()
        self.calls = []
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.inner.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        self.plan.on_operation("commit")  # fails before the commit takes effect
        await self.inner.commit()
        self.journal.entries.append(Committed(TAG.get(), tuple(self.calls)))
        self.calls = []
        self.plan.on_committed()

    async def rollback(self) -> None:
        await self.inner.rollback()
        self.calls = []

    def batched(self) -> Any:
        return self.inner.batched()  # memory and SQLite: writes at once, so faults fall as before


def faulty_factory(inner: Callable[[], UnitOfWork], plan: FaultPlan, journal: Journal) -> Callable[[], UnitOfWork]:
    def make() -> UnitOfWork:
        return FaultyUnitOfWork(inner(), plan, journal)

    return make
