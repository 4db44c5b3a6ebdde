"""The three wirings the features run against, and the per-scenario world the steps act on.

- `memory`: `InMemoryAdapters` (the Shop harness's default).
- `sqlite`: `ConfiguredAdapters` on a migrated SQLite file, in-process coordination.
- `postgres`: `ConfiguredAdapters` on this session's PostgreSQL database and the real Redis,
  under a key prefix of this scenario's own (deleted afterwards).

Payments go through the simulator gateway and the real `POST /webhooks/midtrans` route;
WhatsApp replies land in the `SimulatorMessenger` in every wiring.
"""

from __future__ import annotations

import asyncio
import secrets
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import httpx
from dependency_injector import providers
from redis.asyncio import Redis
from sqlalchemy import delete

from adapters.clock import ManualClock
from adapters.coordination.factory import Coordination, build_coordination
from adapters.memory.storage import MemoryUnitOfWork
from adapters.storage.tables import metadata
from application.replies import Reply
from entrypoints.bootstrap import application_over
from entrypoints.container import ConfiguredAdapters, InMemoryAdapters
from entrypoints.settings import Settings
from entrypoints.web.app import create_app
from tests.support.shop import ADMIN, ALICE, BOB, Shop, settings

REDIS_URL = "redis://127.0.0.1:6379/0"
DOWN_REDIS_URL = "redis://127.0.0.1:1"
PAYMENTS_KEY = "bdd-simulator-key"
WIRINGS = ("memory", "sqlite", "postgres")

PEOPLE = {"admin": ADMIN, "ani": ALICE, "budi": BOB, "citra": "6281400000004", "dedi": "6281500000005"}


def number_of(name: str) -> str:
    """The WhatsApp number behind a name used in the features (any other name gets its own)."""
    known = PEOPLE.get(name.lower())
    return known if known is not None else f"6289{zlib.crc32(name.lower().encode()) % 10**8:08d}"


class CountingUnitOfWork:
    """A unit of work that counts how often the product list is read from the database."""

    def __init__(self, inner: Any, reads: Counter[str]) -> None:
        self._inner, self._reads = inner, reads

    async def __aenter__(self) -> Any:
        uow = await self._inner.__aenter__()
        original = uow.products.list_active
        reads = self._reads

        async def list_active(*args: Any, **kwargs: Any) -> Any:
            reads["product list"] += 1
            return await original(*args, **kwargs)

        uow.products.list_active = list_active
        return uow

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        tb: TracebackType | None) -> Any:
        return await self._inner.__aexit__(kind, error, tb)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class World:
    """One scenario's shop on one wiring, driven from sync steps through one event loop."""

    def __init__(self, wiring: str, runner: asyncio.Runner, database_url: str | None, secret_key: str) -> None:
        self.wiring, self.runner = wiring, runner
        self.config: Settings = settings()
        self.clock = ManualClock()
        self.redis_prefix = f"tokowa-bdd-{secrets.token_hex(6)}:"
        self.coordinations: list[Coordination] = []
        self.reads: Counter[str] = Counter()
        self.last_replies: dict[str, list[Reply]] = {}
        self.last_notification: bytes | None = None
        self.last_answer: httpx.Response | None = None
        self._client: httpx.AsyncClient | None = None
        adapters = self._adapters(database_url, secret_key)
        if self.wiring == "postgres":
            self.run(_empty_tables(adapters))
        self.shop = Shop(adapters, self.config, self.clock)
        self._count_product_reads()

    def _adapters(self, database_url: str | None, secret_key: str) -> InMemoryAdapters | ConfiguredAdapters:
        if self.wiring == "memory":
            memory = InMemoryAdapters()
            memory.config.from_dict({"public_url": self.config.public_url, "payments_key": PAYMENTS_KEY})
            return memory
        configured = ConfiguredAdapters()
        configured.config.from_dict({
            "database_url": database_url, "secret_key": secret_key,
            "db_pool_size": 5, "db_max_overflow": 10, "db_pool_timeout": 5.0, "db_pool_pre_ping": False,
            "db_connect_timeout": 5.0,
            "redis_url": REDIS_URL if self.wiring == "postgres" else None,
            "redis_prefix": self.redis_prefix, "redis_timeout": 0.5,
            "public_url": self.config.public_url, "payments": "simulator", "payments_key": PAYMENTS_KEY,
            "messenger": "simulator",
        })
        if self.wiring == "postgres":
            self.coordinations.append(configured.coordination())
        else:
            # In-process coordination on the scenario's clock, so "N minutes pass" moves TTLs too.
            self._use_coordination(configured, build_coordination(None, clock=self._seconds))
        return configured

    def _seconds(self) -> float:
        return self.clock.now().timestamp()

    def _use_coordination(self, adapters: Any, coordination: Coordination) -> None:
        self.coordinations.append(coordination)
        adapters.coordination.override(providers.Object(coordination))

    def _inner_unit_of_work(self) -> Callable[[], Any]:
        adapters = self.shop.adapters
        if self.wiring == "memory":
            return lambda: MemoryUnitOfWork(adapters.store())
        return lambda: adapters.storage().uow_factory()

    def _count_product_reads(self) -> None:
        inner = self._inner_unit_of_work()
        self.shop.adapters.unit_of_work.override(
            providers.Factory(lambda: CountingUnitOfWork(inner(), self.reads)))
        if self.wiring != "memory":  # cached reads miss through the single-statement unit
            storage = self.shop.adapters.storage
            self.shop.adapters.single_statement_unit_of_work.override(
                providers.Factory(lambda: CountingUnitOfWork(storage().single_statement_uow(), self.reads)))

    def redis_goes_down(self) -> None:
        """Every coordination port on a Redis nobody listens to; the app is rebuilt over it
        (its singletons hold the old ports), keeping the messenger and the gateway."""
        adapters = self.shop.adapters
        self._use_coordination(adapters, build_coordination(DOWN_REDIS_URL, prefix=self.redis_prefix, timeout=0.2))
        for provider in (adapters.cache, adapters.locks, adapters.rate_limiter, adapters.gatekeeper):
            provider.reset()
        self.shop.app = application_over(adapters, self.config)
        self.shop.pipeline = self.shop.app.pipeline()
        self.shop.uc = self.shop.app.use_cases()
        self._client = None

    async def _look(self, read: Callable[[Any], Awaitable[Any]]) -> Any:
        """Read the stored state straight from the database, even while the app sees it down."""
        async with self._inner_unit_of_work()() as uow:
            return await read(uow)

    def last_order(self, name: str) -> Any:
        orders = self.run(self._look(lambda uow: uow.orders.recent_of(number_of(name), 1)))
        return orders[0] if orders else None

    def orders(self, name: str) -> list[Any]:
        return list(self.run(self._look(lambda uow: uow.orders.recent_of(number_of(name), 100))))

    def balance(self, name: str) -> int:
        wallet = self.run(self._look(lambda uow: uow.wallets.get(number_of(name))))
        return int(wallet.balance.value)

    def stock(self, code: str) -> int:
        product = self.run(self._look(lambda uow: uow.products.get(code)))
        assert product is not None, f"no product {code}"
        return int(product.stock)

    def dead_letters(self) -> list[Any]:
        """The messages given up after failing too often, the latest first."""
        return list(self.run(self._look(lambda uow: uow.inbox.dead_letters())))

    def run(self, coroutine: Any) -> Any:
        return self.runner.run(coroutine)

    def say(self, name: str, text: str | None, message_id: str | None = None) -> list[Reply]:
        user = number_of(name)
        replies: list[Reply] = self.run(self.shop.send(user, text, message_id))
        self.last_replies[user] = replies
        return replies

    async def post_notification(self, body: bytes) -> httpx.Response:
        """POST a notification body to `/webhooks/midtrans` as Midtrans would."""
        if self._client is None:
            app = create_app(self.config, self.shop.app)
            transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # Litestar's narrower ASGI types
            self._client = httpx.AsyncClient(transport=transport, base_url=self.config.public_url)
        self.last_notification = body
        self.last_answer = await self._client.post(
            "/webhooks/midtrans", content=body, headers={"content-type": "application/json"})
        return self.last_answer

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self.wiring != "memory":
            await self.shop.adapters.storage().aclose()
        for coordination in self.coordinations:
            await coordination.aclose()
        if self.wiring == "postgres":
            await _delete_keys(self.redis_prefix)


async def _empty_tables(adapters: Any) -> None:
    """Empty the shared session database (DELETE is far quicker than TRUNCATE on tiny tables)."""
    async with adapters.storage().engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            await connection.execute(delete(table))


async def _delete_keys(prefix: str) -> None:
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()

