"""The composition root: adapter sets and the application, wired by dependency-injector.

`InMemoryAdapters` holds every port on working in-process fakes; `ConfiguredAdapters` picks
the real ones from the settings (SQL storage, Redis or in-process coordination, the payment
simulator or none). `Application` takes any adapter set and builds the use cases and the
chat pipeline on top of it.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from dependency_injector import containers, providers

from adapters.clock import SystemClock
from adapters.coordination.factory import build_coordination
from adapters.memory.storage import MemoryStore, MemoryUnitOfWork
from adapters.messaging.cloud_api import CloudApiMessenger
from adapters.messaging.gowa import GowaMessenger
from adapters.messaging.health import CloudApiHealth, GowaHealth, NoHealthCheck
from adapters.messaging.simulator import SimulatorMessenger
from adapters.messaging.stats import DeliveryStats
from adapters.payments.midtrans import MidtransPaymentGateway
from adapters.payments.midtrans_notifications import MidtransNotificationVerifier
from adapters.payments.simulator import DisabledPaymentGateway, SimulatedPaymentGateway
from adapters.storage.storage import SqlStorage
from application.outbox import OutboxSender, WindowRules
from application.services import Notifier, ShopReads, ShopSettingsReader
from application.use_cases.alerts import AlertBoard
from application.use_cases.bundle import UseCases
from application.use_cases.admin_reads import SalesQueries, ShopQueries
from application.use_cases.catalog_admin import (
    AddProduct, AddStock, AddStockItems, CheckStock, RemoveProduct, SetProductField, SetStock,
)
from application.use_cases.demo import LoadDemoProducts
from application.use_cases.customer_data import ExportCustomer, ForgetCustomer
from application.use_cases.doctor import CheckConsistency
from application.use_cases.retention import PruneOldRecords
from application.use_cases.orders import Cancel, History, OrderStatusQuery, Resend
from application.use_cases.payment_notifications import HandlePaymentNotification
from application.use_cases.payments import ExpireStaleOrders
from application.use_cases.seller import (
    ContactAdmin, DeliverByHand, RemindWaitingOrders, ReplyToCustomer, WaitingOrders,
)
from application.use_cases.shop_admin import ChangeSetting, ListOrders, Report, SetLanguage, SetRole
from application.use_cases.shopping import Buy
from application.use_cases.transport import WatchTransport
from application.use_cases.wallet import AdjustBalance, Deposit
from entrypoints.metered import MeteredApplyPaymentStatus, MeteredChatPipeline, MeteredCommands, MeteredMessenger
from entrypoints.metrics import Metrics


class InMemoryAdapters(containers.DeclarativeContainer):
    """Every port in memory: tests, and a shop that needs no files at all."""

    config = providers.Configuration()
    store = providers.Singleton(MemoryStore)
    unit_of_work = providers.Factory(MemoryUnitOfWork, store=store)
    # Memory has no BEGIN to skip: the same units of work (and whatever overrides them in tests).
    single_statement_unit_of_work = providers.Callable(lambda make: make(), unit_of_work.provider)
    coordination = providers.Singleton(build_coordination, redis_url=None)
    cache = providers.Singleton(lambda c: c.cache, coordination)
    locks = providers.Singleton(lambda c: c.locks, coordination)
    rate_limiter = providers.Singleton(lambda c: c.rate_limiter, coordination)
    gatekeeper = providers.Singleton(lambda c: c.gatekeeper, coordination)
    sessions = providers.Singleton(lambda c: c.sessions, coordination)
    messenger = providers.Singleton(SimulatorMessenger)
    transport_health = providers.Singleton(NoHealthCheck)
    transport_name = providers.Object("simulator")
    delivery_stats = providers.Singleton(DeliveryStats)
    # The simulator signs its notifications with this key and the webhook checks them with it.
    payments_key = providers.Singleton(lambda key: key or secrets.token_urlsafe(32), config.payments_key)
    gateway = providers.Singleton(SimulatedPaymentGateway, public_url=config.public_url.as_(str), signing_key=payments_key)
    payment_verifier = providers.Singleton(MidtransNotificationVerifier, payments_key)
    clock = providers.Singleton(SystemClock)


class ConfiguredAdapters(containers.DeclarativeContainer):
    """The adapters the settings ask for (storage from DATABASE_URL, Redis from REDIS_URL)."""

    config = providers.Configuration()
    storage = providers.Singleton(
        SqlStorage.from_url,
        url=config.database_url.as_(str),
        secret_key=config.secret_key.as_(str),
        pool_size=config.db_pool_size.as_(int),
        max_overflow=config.db_max_overflow.as_(int),
        pool_timeout=config.db_pool_timeout.as_(float),
        pool_pre_ping=config.db_pool_pre_ping.as_(bool),
        connect_timeout=config.db_connect_timeout.as_(float),
    )
    unit_of_work = providers.Factory(lambda s: s.uow_factory(), storage)
    single_statement_unit_of_work = providers.Factory(lambda s: s.single_statement_uow(), storage)
    coordination = providers.Singleton(
        build_coordination, redis_url=config.redis_url, prefix=config.redis_prefix.as_(str),
        timeout=config.redis_timeout.as_(float),
    )
    cache = providers.Singleton(lambda c: c.cache, coordination)
    locks = providers.Singleton(lambda c: c.locks, coordination)
    rate_limiter = providers.Singleton(lambda c: c.rate_limiter, coordination)
    gatekeeper = providers.Singleton(lambda c: c.gatekeeper, coordination)
    sessions = providers.Singleton(lambda c: c.sessions, coordination)
    messenger = providers.Selector(
        config.messenger,
        simulator=providers.Singleton(SimulatorMessenger),
        cloud_api=providers.Singleton(
            CloudApiMessenger, api_url=config.whatsapp.api_url.as_(str),
            phone_number_id=config.whatsapp.phone_number_id.as_(str),
            access_token=config.whatsapp.access_token.as_(str), alert_template=config.whatsapp.alert_template,
            admins=config.whatsapp.admins, template_language=config.whatsapp.language.as_(str),
        ),
        gowa=providers.Singleton(GowaMessenger, api_url=config.gowa.api_url.as_(str), username=config.gowa.username,
                                 password=config.gowa.password),
    )
    transport_health = providers.Selector(
        config.messenger,
        simulator=providers.Singleton(NoHealthCheck),
        cloud_api=providers.Singleton(
            CloudApiHealth, api_url=config.whatsapp.api_url.as_(str),
            phone_number_id=config.whatsapp.phone_number_id.as_(str), access_token=config.whatsapp.access_token.as_(str),
        ),
        gowa=providers.Singleton(GowaHealth, api_url=config.gowa.api_url.as_(str), username=config.gowa.username,
                                 password=config.gowa.password),
    )
    transport_name = providers.Callable(str, config.messenger)
    delivery_stats = providers.Singleton(DeliveryStats)
    gateway = providers.Selector(
        config.payments,
        simulator=providers.Singleton(SimulatedPaymentGateway, public_url=config.public_url.as_(str),
                                      signing_key=config.payments_key.as_(str)),
        midtrans=providers.Singleton(
            MidtransPaymentGateway, config.payments_key.as_(str), is_production=config.midtrans.is_production.as_(bool),
            snap_url=config.midtrans.snap_url, api_url=config.midtrans.api_url, finish_url=config.midtrans.finish_url,
        ),
        disabled=providers.Singleton(DisabledPaymentGateway),
    )
    # Checks notifications with the key of whoever sends them: Midtrans' server key or the simulator's.
    payment_verifier = providers.Selector(
        config.payments,
        simulator=providers.Singleton(MidtransNotificationVerifier, config.payments_key.as_(str)),
        midtrans=providers.Singleton(MidtransNotificationVerifier, config.payments_key.as_(str)),
        disabled=providers.Object(None),
    )
    clock = providers.Singleton(SystemClock)


def window_rules(admins: frozenset[str] | None, template: bool | None, settings: ShopSettingsReader) -> WindowRules:
    """What the outbox does with a message WhatsApp refused outside the 24-hour window."""

    async def language() -> str:
        return (await settings.get()).language

    return WindowRules(frozenset(admins or ()), bool(template), language)


class Application(containers.DeclarativeContainer):
    """The use cases and the chat pipeline over any adapter set."""

    config = providers.Configuration()
    adapters = providers.DependenciesContainer()

    settings = providers.Singleton(ShopSettingsReader, adapters.unit_of_work.provider, adapters.cache,
                                   default_language=config.language.as_(str),
                                   single_statement_uow=adapters.single_statement_unit_of_work.provider)
    reads = providers.Singleton(ShopReads, adapters.unit_of_work.provider, adapters.cache,
                                single_statement_uow=adapters.single_statement_unit_of_work.provider)
    metrics = providers.Singleton(Metrics)
    messenger = providers.Singleton(MeteredMessenger, adapters.messenger, metrics)
    window = providers.Singleton(window_rules, config.admins, config.alert_template, settings)
    outbox = providers.Singleton(OutboxSender, adapters.unit_of_work.provider, messenger, adapters.clock,
                                 lease=config.outbox_lease, window=window,
                                 single_statement_uow=adapters.single_statement_unit_of_work.provider)
    notifier = providers.Singleton(Notifier, outbox, adapters.unit_of_work.provider, config.admins, settings,
                                   adapters.clock)
    alerts = providers.Singleton(AlertBoard, adapters.unit_of_work.provider, settings, adapters.clock)
    apply_payment = providers.Singleton(MeteredApplyPaymentStatus, adapters.unit_of_work.provider, reads, settings,
                                        notifier, adapters.clock, metrics=metrics)
    use_cases = providers.Singleton(
        UseCases,
        reads=reads,
        settings=settings,
        buy=providers.Singleton(Buy, adapters.unit_of_work.provider, reads, settings, adapters.gateway, notifier,
                                adapters.clock),
        deposit=providers.Singleton(Deposit, adapters.unit_of_work.provider, settings, adapters.gateway, adapters.clock),
        cancel=providers.Singleton(Cancel, adapters.unit_of_work.provider, adapters.gateway, reads, adapters.clock),
        resend=providers.Singleton(Resend, adapters.unit_of_work.provider),
        history=providers.Singleton(History, adapters.unit_of_work.provider),
        order_status=providers.Singleton(OrderStatusQuery, adapters.unit_of_work.provider),
        add_product=providers.Singleton(AddProduct, adapters.unit_of_work.provider, reads, adapters.clock),
        set_product_field=providers.Singleton(SetProductField, adapters.unit_of_work.provider, reads, notifier, settings,
                                      adapters.clock),
        add_stock=providers.Singleton(AddStock, adapters.unit_of_work.provider, reads, notifier, settings,
                                      adapters.clock),
        set_stock=providers.Singleton(SetStock, adapters.unit_of_work.provider, reads, notifier, settings,
                                      adapters.clock),
        add_stock_items=providers.Singleton(AddStockItems, adapters.unit_of_work.provider, reads, notifier, settings,
                                      adapters.clock),
        remove_product=providers.Singleton(RemoveProduct, adapters.unit_of_work.provider, reads, notifier, settings,
                                      adapters.clock),
        check_stock=providers.Singleton(CheckStock, adapters.unit_of_work.provider),
        set_role=providers.Singleton(SetRole, adapters.unit_of_work.provider, reads, adapters.clock),
        set_language=providers.Singleton(SetLanguage, adapters.unit_of_work.provider, reads, adapters.clock),
        adjust_balance=providers.Singleton(AdjustBalance, adapters.unit_of_work.provider, reads, adapters.clock),
        list_orders=providers.Singleton(ListOrders, adapters.unit_of_work.provider),
        report=providers.Singleton(Report, adapters.unit_of_work.provider, adapters.clock),
        change_setting=providers.Singleton(ChangeSetting, adapters.unit_of_work.provider, settings, adapters.clock),
        apply_payment=apply_payment,
        expire_stale=providers.Singleton(ExpireStaleOrders, adapters.unit_of_work.provider, adapters.gateway,
                                         settings, apply_payment, adapters.clock),
        deliver_by_hand=providers.Singleton(DeliverByHand, adapters.unit_of_work.provider, notifier, settings,
                                            adapters.clock),
        waiting_orders=providers.Singleton(WaitingOrders, adapters.unit_of_work.provider),
        contact_admin=providers.Singleton(ContactAdmin, adapters.unit_of_work.provider, notifier,
                                          adapters.rate_limiter),
        reply_to_customer=providers.Singleton(ReplyToCustomer, adapters.unit_of_work.provider, notifier, settings),
        alerts=alerts,
    )
    remind_waiting = providers.Singleton(RemindWaitingOrders, adapters.unit_of_work.provider, notifier,
                                         adapters.clock)
    handle_notification = providers.Singleton(HandlePaymentNotification, adapters.unit_of_work.provider,
                                              adapters.gateway, apply_payment, adapters.clock)
    load_demo = providers.Singleton(LoadDemoProducts, adapters.unit_of_work.provider, adapters.clock)
    commands = providers.Singleton(MeteredCommands, use_cases, metrics=metrics)
    queries = providers.Singleton(ShopQueries, adapters.unit_of_work.provider, settings, adapters.clock)
    sales = providers.Singleton(SalesQueries, adapters.unit_of_work.provider, adapters.clock)
    doctor = providers.Singleton(CheckConsistency, adapters.unit_of_work.provider, notifier)
    prune = providers.Singleton(PruneOldRecords, adapters.unit_of_work.provider, adapters.clock, config.retention)
    forget_customer = providers.Singleton(ForgetCustomer, adapters.unit_of_work.provider, reads)
    export_customer = providers.Singleton(ExportCustomer, adapters.unit_of_work.provider)
    watch_transport = providers.Singleton(WatchTransport, adapters.transport_health, adapters.unit_of_work.provider,
                                          notifier, adapters.clock, adapters.transport_name)
    pipeline = providers.Singleton(
        MeteredChatPipeline, commands, adapters.unit_of_work.provider, settings, adapters.rate_limiter, adapters.locks,
        adapters.gatekeeper, outbox, adapters.clock, config.admins, lease=config.inbox_lease, metrics=metrics,
        single_statement_uow=adapters.single_statement_unit_of_work.provider, notifier=notifier,
        max_attempts=config.max_attempts, sessions=adapters.sessions, concurrency=config.processing_concurrency,
    )


if TYPE_CHECKING:
    # Providers do not type-check their arguments: these assignments make mypy fail when
    # an adapter drifts from its port.
    from adapters.clock import ManualClock
    from adapters.coordination.memory import ComposedGatekeeper, MemoryCache, MemoryLockManager, MemoryRateLimiter
    from adapters.coordination.redis_store import RedisCache, RedisGatekeeper, RedisLockManager, RedisRateLimiter
    from adapters.messaging.simulator import ConsoleMessenger
    from adapters.storage.postgres import AsyncpgUnitOfWork
    from adapters.storage.sqlite import SqliteUnitOfWork
    from adapters.storage.unit_of_work import SqlAlchemyUnitOfWork
    from application import ports

    _uow: ports.UnitOfWork = MemoryUnitOfWork(MemoryStore())
    _sql_uows: tuple[type[ports.UnitOfWork], ...] = (SqlAlchemyUnitOfWork, AsyncpgUnitOfWork, SqliteUnitOfWork)
    _caches: tuple[type[ports.Cache], ...] = (MemoryCache, RedisCache)
    _locks: tuple[type[ports.LockManager], ...] = (MemoryLockManager, RedisLockManager)
    _limits: tuple[type[ports.RateLimiter], ...] = (MemoryRateLimiter, RedisRateLimiter)
    _gates: tuple[type[ports.Gatekeeper], ...] = (ComposedGatekeeper, RedisGatekeeper)
    _messengers: tuple[type[ports.Messenger], ...] = (SimulatorMessenger, ConsoleMessenger, CloudApiMessenger,
                                                       GowaMessenger)
    _gateways: tuple[type[ports.PaymentGateway], ...] = (SimulatedPaymentGateway, DisabledPaymentGateway,
                                                         MidtransPaymentGateway)
    _clocks: tuple[type[ports.Clock], ...] = (SystemClock, ManualClock)
    _health: tuple[type[ports.TransportHealth], ...] = (NoHealthCheck, GowaHealth, CloudApiHealth)
