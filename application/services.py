"""Read-through caches and notifications shared by the use cases."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import time
from collections.abc import Iterator

from application.chat.catalog import text
from application.outbox import OutboxSender
from application.ports import Cache, Clock, QueuedMessage, UnitOfWork, UnitOfWorkFactory
from application.replies import Reply
from application.serialization import Profile, product_to_json, products_from_json, profile_from, profile_to_str
from domain.money import Rupiah
from domain.product import Product, Tier
from domain.settings import ShopSettings

log = logging.getLogger("tokowa.services")

PRODUCT_LIST_KEY = "produk:list"
SETTINGS_KEY = "settings"
PRODUCT_TTL, BALANCE_TTL, PROFILE_TTL, SETTINGS_TTL = 300, 60, 60, 600
LOCAL_SETTINGS_TTL = 5.0


def product_key(code: str) -> str:
    return f"produk:detail:{code}"


def balance_key(user_id: str) -> str:
    return f"user:balance:{user_id}"


def profile_key(user_id: str) -> str:
    return f"user:profile:{user_id}"


class ShopSettingsReader:
    """Shop settings over the documented defaults: from this process's copy (5 s), the shared
    cache (10 min) or the database. A change made here is seen here at once, on other instances
    within 5 seconds."""

    def __init__(self, uow_factory: UnitOfWorkFactory, cache: Cache, default_language: str = "id",
                 single_statement_uow: UnitOfWorkFactory | None = None) -> None:
        # A miss reads the settings with one statement: on PostgreSQL without BEGIN/ROLLBACK.
        self._uow_factory, self._cache, self._language = single_statement_uow or uow_factory, cache, default_language
        self._local: tuple[float, ShopSettings] | None = None

    async def get(self) -> ShopSettings:
        if self._local is not None and time.monotonic() - self._local[0] < LOCAL_SETTINGS_TTL:
            return self._local[1]
        cached = await self._cache.get(SETTINGS_KEY)
        if cached is not None:
            stored = _decode(cached)
        else:
            async with self._uow_factory() as uow:
                stored = await uow.settings.all()
            await self._cache.set(SETTINGS_KEY, _encode(stored), SETTINGS_TTL)
        shop = ShopSettings.from_stored(stored, self._language)
        self._local = (time.monotonic(), shop)
        return shop

    async def invalidate(self) -> None:
        self._local = None
        await self._cache.delete(SETTINGS_KEY)

    @property
    def default_language(self) -> str:
        return self._language


# The keys to forget collected for the current message (see `forgetting_soon`); per task.
_FORGET_SOON: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("forget_soon", default=None)


@contextlib.contextmanager
def forgetting_soon() -> Iterator[list[str]]:
    """Within the block (in this task and those it starts), `ShopReads.forget_products(...,
    soon=True)` collects its cache keys into the list yielded instead of deleting them: the owner
    of the block deletes them in its own next Redis round trip (the chat pipeline: with the
    release of the message's lock, before the reply is queued), and must do so in any case."""
    collected: list[str] = []
    token = _FORGET_SOON.set(collected)
    try:
        yield collected
    finally:
        _FORGET_SOON.reset(token)


class ShopReads:
    """The cached reads of browsing: product list and detail (5 min), balance and tier (1 min).
    Each miss is one statement, read by a single-statement unit of work when one is given (on
    PostgreSQL in autocommit: no BEGIN/ROLLBACK, two round trips fewer). Cached products carry no
    delivery text (see `product_to_json`): deliveries read the product in their own unit of work."""

    def __init__(self, uow_factory: UnitOfWorkFactory, cache: Cache,
                 single_statement_uow: UnitOfWorkFactory | None = None) -> None:
        self._uow_factory, self._cache = single_statement_uow or uow_factory, cache

    async def products(self) -> list[Product]:
        cached = await self._cache.get(PRODUCT_LIST_KEY)
        if cached is not None:
            return products_from_json(cached)
        async with self._uow_factory() as uow:
            products = await uow.products.list_active()
        await self._cache.set(PRODUCT_LIST_KEY, product_to_json(products), PRODUCT_TTL)
        return products

    async def product(self, code: str) -> Product | None:
        cached = await self._cache.get(product_key(code))
        if cached is not None:
            found = products_from_json(cached)
            return found[0] if found else None
        async with self._uow_factory() as uow:
            product = await uow.products.get(code)
        visible = [product] if product is not None and product.active else []
        await self._cache.set(product_key(code), product_to_json(visible), PRODUCT_TTL)
        return visible[0] if visible else None

    async def balance(self, user_id: str) -> Rupiah:
        cached = await self._cache.get(balance_key(user_id))
        if cached is not None and cached.isdigit():
            return Rupiah(int(cached))
        async with self._uow_factory() as uow:
            wallet = await uow.wallets.get(user_id)
        await self._cache.set(balance_key(user_id), str(wallet.balance.value), BALANCE_TTL)
        return wallet.balance

    async def tier(self, user_id: str) -> Tier:
        return (await self.profile(user_id)).tier

    async def profile(self, user_id: str) -> Profile:
        """The customer's tier and own language (1 min cache)."""
        return await self.profile_peeked(user_id, await self._cache.get(profile_key(user_id)))

    async def profile_peeked(self, user_id: str, cached_value: str | None) -> Profile:
        """`profile`, the cache already read (`profile_key`'s value, None for a miss)."""
        cached = profile_from(cached_value)
        if cached is not None:
            return cached
        async with self._uow_factory() as uow:
            customer = await uow.customers.get(user_id)
        profile = Profile(customer.tier, customer.language) if customer else Profile(Tier.BRONZE, None)
        await self._cache.set(profile_key(user_id), profile_to_str(profile), PROFILE_TTL)
        return profile

    async def forget_products(self, *codes: str, balance_of: str | None = None, soon: bool = False) -> None:
        """Drop the product list and these products' details (and, in the same call, the balance
        of `balance_of`: one round trip after a purchase paid with saldo). `soon`: inside a
        `forgetting_soon` block the keys are handed to the block's owner instead, who deletes
        them with its next Redis step, before anything is told about the change."""
        keys = (PRODUCT_LIST_KEY, *(product_key(c) for c in codes),
                *((balance_key(balance_of),) if balance_of is not None else ()))
        collected = _FORGET_SOON.get() if soon else None
        if collected is not None:
            collected.extend(keys)
            return
        await self._cache.delete(*keys)

    async def forget_user(self, user_id: str) -> None:
        await self._cache.delete(balance_key(user_id), profile_key(user_id))

    async def forget_balance(self, user_id: str) -> None:
        await self._cache.delete(balance_key(user_id))


class Notifier:
    """Messages that are not a reply to the current chat: deliveries after a payment, expiry
    notices and admin alerts. They are queued in the outbox of the unit of work whose change
    they report, so they go out exactly when that change commits.

    An admin alert is also a row (`uow.alerts`) written in that same transaction: listed on the
    dashboard and in the admin API until acknowledged, and sent to the admins only when it is
    new (one open alert per kind and subject, whichever worker raises it)."""

    def __init__(self, outbox: OutboxSender, uow_factory: UnitOfWorkFactory, admins: frozenset[str],
                 settings: ShopSettingsReader, clock: Clock) -> None:
        self._outbox, self._uow_factory, self._admins = outbox, uow_factory, admins
        self._settings, self._clock = settings, clock

    async def tell(self, uow: UnitOfWork, user_id: str, reply: Reply) -> list[QueuedMessage]:
        return [await self._outbox.queue(uow, user_id, reply)]

    async def queue_alert(self, uow: UnitOfWork, key: str, *, about: str | None = None, owed: Rupiah | None = None,
                          **params: object) -> list[QueuedMessage]:
        """Record an admin alert inside `uow` and queue it to every admin, unless the same alert
        (key and subject: `about`, else the order id, subject or product code of `params`) is
        still open. `owed`: money that needs an admin's action."""
        subject = about or str(params.get("order_id") or params.get("subject") or params.get("code") or key)
        return await self._outbox.queue_alert(uow, key, subject, {k: str(v) for k, v in params.items()},
                                              admins=self._admins, language=self._language, owed=owed)

    async def _language(self) -> str:
        return (await self._settings.get()).language

    async def tell_admins(self, uow: UnitOfWork, key: str, *, skip: str | None = None,
                          **params: object) -> list[QueuedMessage]:
        """A message to every admin (but `skip`) that is not an alert of its own: reminders,
        customers' messages, a transport back up. Queued inside `uow`."""
        message = text(key, (await self._settings.get()).language, **params)
        return [await self._outbox.queue(uow, admin, Reply(message)) for admin in sorted(self._admins) if admin != skip]

    @property
    def admins(self) -> frozenset[str]:
        return self._admins

    async def alert_admins(self, key: str, *, about: str | None = None, owed: Rupiah | None = None,
                           **params: object) -> None:
        """An alert on its own (nothing else changes with it): its own unit of work, then sent."""
        await self._settings.get()  # read now (a cold cache reads the database), not inside the unit of work
        async with self._uow_factory() as uow:
            queued = await self.queue_alert(uow, key, about=about, owed=owed, **params)
            await uow.commit()
        await self.deliver(queued)

    async def deliver(self, queued: list[QueuedMessage]) -> None:
        await self._outbox.deliver(queued)


def _encode(values: dict[str, str]) -> str:
    return json.dumps(values)


def _decode(data: str) -> dict[str, str]:
    loaded = json.loads(data)
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
