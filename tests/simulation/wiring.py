"""The real application on the memory wiring or on a SQLite file, with the simulation's clock,
gateway and fault-injecting units of work."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dependency_injector import providers

from adapters.clock import ManualClock
from adapters.memory.storage import MemoryUnitOfWork
from application.ports import UnitOfWork
from entrypoints.container import ConfiguredAdapters, InMemoryAdapters
from tests.simulation.faults import FaultPlan, Journal, faulty_factory
from tests.simulation.gateway import ScriptedGateway
from tests.simulation.stores import MemoryView, SqlView, StoreView
from tests.support.shop import Shop, settings
from tests.support.wiring import TEST_SECRET_KEY

WIRINGS = ("memory", "sqlite")


@dataclass
class Wired:
    shop: Shop
    gateway: ScriptedGateway
    clock: ManualClock
    plan: FaultPlan
    journal: Journal
    clean: Callable[[], UnitOfWork]  # units of work without faults, for the invariants' reads
    view: StoreView

    async def close(self) -> None:
        if "storage" in self.shop.adapters.providers:
            await self.shop.adapters.storage().aclose()
        await self.shop.adapters.coordination().aclose()


def wire(wiring: str, workdir: Path | None = None, template: Path | None = None) -> Wired:
    """`sqlite` needs a migrated template database and a directory for this run's copy."""
    config = settings()
    gateway = ScriptedGateway()
    adapters: Any
    if wiring == "memory":
        adapters = InMemoryAdapters()
        adapters.config.from_dict({"public_url": config.public_url})
    elif wiring == "sqlite":
        assert workdir is not None and template is not None
        path = workdir / "simulation.db"
        shutil.copyfile(template, path)
        adapters = ConfiguredAdapters()
        adapters.config.from_dict({
            "database_url": f"sqlite+aiosqlite:///{path}", "secret_key": TEST_SECRET_KEY,
            "db_pool_size": 5, "db_max_overflow": 10, "db_pool_timeout": 5.0, "db_pool_pre_ping": False,
            "db_connect_timeout": 5.0, "redis_url": None, "redis_prefix": "", "redis_timeout": 0.5,
            "public_url": config.public_url, "payments": "simulator", "payments_key": "simulation-key",
            "messenger": "simulator",
        })
    else:
        raise ValueError(f"unknown wiring {wiring!r}")
    adapters.gateway.override(providers.Object(gateway))
    clock = ManualClock()
    shop = Shop(adapters, config, clock)
    clean: Callable[[], UnitOfWork]
    view: StoreView
    if wiring == "memory":
        store = adapters.store()
        clean, view = (lambda: MemoryUnitOfWork(store)), MemoryView(store)
    else:
        storage = adapters.storage()
        clean, view = storage.uow_factory, SqlView(storage.engine)
    plan, journal = FaultPlan(), Journal()
    faulty = faulty_factory(clean, plan, journal)
    adapters.unit_of_work.override(providers.Factory(faulty))
    adapters.single_statement_unit_of_work.override(providers.Factory(faulty))
    return Wired(shop, gateway, clock, plan, journal, clean, view)
