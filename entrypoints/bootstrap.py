"""Building the application from settings, and the start-up checks every command shares."""

from __future__ import annotations

from datetime import timedelta

from adapters.storage.migrate import migrate, schema_is_current
from application.use_cases.retention import RetentionPolicy
from entrypoints.container import Application, ConfiguredAdapters, InMemoryAdapters
from entrypoints.secrets_file import secret_key, simulator_signing_key
from entrypoints.settings import ConfigError, Settings, Transport


def build_application(settings: Settings) -> Application:
    """The production wiring: adapters chosen by the settings."""
    return application_over(configured_adapters(settings), settings)


def configured_adapters(settings: Settings) -> ConfiguredAdapters:
    """The adapter set the settings ask for (tests use it to wire SQLite, PostgreSQL, Redis)."""
    settings.check()
    payments = "simulator" if settings.transport is Transport.SIMULATOR and not settings.midtrans_server_key else "disabled"
    if settings.midtrans_server_key:
        payments = "midtrans"
    adapters = ConfiguredAdapters()
    adapters.config.from_dict({
        "database_url": settings.database_url,
        "secret_key": secret_key(settings),
        "db_pool_size": settings.db_pool_size,
        "db_max_overflow": settings.db_max_overflow,
        "db_pool_timeout": settings.db_pool_timeout,
        "db_pool_pre_ping": settings.db_pool_pre_ping,
        "db_connect_timeout": settings.db_connect_timeout,
        "redis_url": settings.redis_url,
        "redis_prefix": settings.redis_prefix,
        "redis_timeout": settings.redis_timeout,
        "public_url": settings.public_url,
        "payments": payments,
        "messenger": settings.transport.value,
        "whatsapp": {
            "api_url": settings.whatsapp_api_url,
            "phone_number_id": settings.whatsapp_phone_number_id,
            "access_token": settings.whatsapp_access_token,
            "alert_template": settings.whatsapp_alert_template,
            # Alerts to these numbers fall back to the template outside Meta's 24-hour window.
            "admins": settings.admin_numbers,
            "language": settings.language,
        },
        "gowa": {"api_url": settings.gowa_api_url, "username": settings.gowa_username, "password": settings.gowa_password},
        "payments_key": _payments_key(settings, payments),
        "midtrans": {
            "is_production": settings.midtrans_is_production,
            "snap_url": settings.midtrans_snap_url,
            "api_url": settings.midtrans_api_url,
            "finish_url": _finish_url(settings.public_url),
        },
    })
    return adapters


def build_in_memory(settings: Settings) -> Application:
    """Every port in memory (tests, throw-away demos)."""
    adapters = InMemoryAdapters()
    adapters.config.from_dict({"public_url": settings.public_url})
    return application_over(adapters, settings)


def _payments_key(settings: Settings, payments: str) -> str:
    """The key payment notifications are signed with: Midtrans' server key, or the simulator's."""
    if payments == "midtrans":
        return settings.midtrans_server_key or ""
    return simulator_signing_key(settings) if payments == "simulator" else ""


def _finish_url(public_url: str) -> str | None:
    """Snap sends the customer back here; only a public https address makes sense to Midtrans."""
    host = public_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    if not public_url.startswith("https://") or host in ("localhost", "127.0.0.1", "0.0.0.0"):
        return None
    return f"{public_url}/payments/finish"


def application_over(adapters: InMemoryAdapters | ConfiguredAdapters, settings: Settings) -> Application:
    """The application on a given adapter set (tests swap adapters in it before first use)."""
    app = Application(adapters=adapters)
    app.config.from_dict({
        "language": settings.language, "admins": settings.admin_numbers,
        # An admin's alert refused outside Meta's 24-hour window can go again as this template.
        "alert_template": bool(settings.whatsapp_alert_template) and settings.transport is Transport.CLOUD_API,
        # How long a worker may hold a message (to process or to send) before another takes it up.
        "inbox_lease": timedelta(seconds=settings.lease_seconds),
        "outbox_lease": timedelta(seconds=settings.lease_seconds / 2),
        "retention": RetentionPolicy(inbox_days=settings.retention_inbox_days,
                                     outbox_days=settings.retention_outbox_days,
                                     payment_events_days=settings.retention_payment_events_days),
        # Runs of one message (the first and every re-run) before it is given up as a dead letter.
        "max_attempts": settings.max_attempts,
        # Messages run at once per worker up to their queued replies (0: no limit).
        "processing_concurrency": settings.processing_concurrency,
    })
    return app


async def prepare_database(settings: Settings) -> None:
    """The embedded default migrates itself; PostgreSQL must be migrated by the operator."""
    if settings.is_sqlite:
        await migrate(settings.database_url, secret_key(settings))
    elif not await schema_is_current(settings.database_url):
        raise ConfigError("The database schema is not up to date: run `tokowa migrate` first")


def migration_key(settings: Settings) -> str | None:
    """The key `tokowa migrate` hands to migrations that encrypt rows: TOKOWA_SECRET_KEY, or the
    embedded default's key file; None on PostgreSQL without the variable (`migrate` still runs)."""
    return secret_key(settings) if settings.secret_key or settings.is_sqlite else None


async def close_adapters(app: Application) -> None:
    """Close what the adapter set opened (database pool, Redis connections)."""
    adapters = app.adapters
    if "storage" in adapters.providers:
        await adapters.storage().aclose()
    await adapters.coordination().aclose()
    close_health = getattr(adapters.transport_health(), "aclose", None)
    if close_health is not None:
        await close_health()
    close_messenger = getattr(adapters.messenger(), "aclose", None)
    if close_messenger is not None:
        await close_messenger()
