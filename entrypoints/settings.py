"""Process settings from the environment (and `.env`), read once at start-up."""

from __future__ import annotations

import enum
import ipaddress

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.errors import InvalidPhoneNumber
from domain.phone import normalize_msisdn

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./tokowa.db"
UNSAFE_DEMO = (
    "no WhatsApp transport is configured, and the simulator (demo mode: a web chat where anyone can "
    "write as any number, admins included) runs only on the embedded SQLite database on a loopback "
    "host. Set WHATSAPP_ACCESS_TOKEN or GOWA_API_URL for a real shop, or TOKOWA_DEMO=true to open "
    "the simulator here on purpose"
)


class ConfigError(Exception):
    """The configuration cannot work; the message names the variable."""


class Transport(str, enum.Enum):
    SIMULATOR = "simulator"
    CLOUD_API = "cloud_api"
    GOWA = "gowa"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    redis_url: str | None = Field(None, alias="REDIS_URL")
    whatsapp_access_token: str | None = Field(None, alias="WHATSAPP_ACCESS_TOKEN")
    whatsapp_phone_number_id: str | None = Field(None, alias="WHATSAPP_PHONE_NUMBER_ID")
    whatsapp_app_secret: str | None = Field(None, alias="WHATSAPP_APP_SECRET")
    whatsapp_verify_token: str | None = Field(None, alias="WHATSAPP_VERIFY_TOKEN")
    whatsapp_api_url: str = Field("https://graph.facebook.com/v21.0", alias="WHATSAPP_API_URL")
    whatsapp_alert_template: str | None = Field(None, alias="WHATSAPP_ALERT_TEMPLATE")
    gowa_api_url: str | None = Field(None, alias="GOWA_API_URL")
    gowa_username: str | None = Field(None, alias="GOWA_USERNAME")
    gowa_password: str | None = Field(None, alias="GOWA_PASSWORD")
    gowa_webhook_secret: str | None = Field(None, alias="GOWA_WEBHOOK_SECRET")
    gowa_groups: bool = Field(False, alias="TOKOWA_GOWA_GROUPS")
    midtrans_server_key: str | None = Field(None, alias="MIDTRANS_SERVER_KEY")
    midtrans_client_key: str | None = Field(None, alias="MIDTRANS_CLIENT_KEY")
    midtrans_is_production: bool = Field(False, alias="MIDTRANS_IS_PRODUCTION")
    midtrans_snap_url: str | None = Field(None, alias="MIDTRANS_SNAP_URL")
    midtrans_api_url: str | None = Field(None, alias="MIDTRANS_API_URL")
    host: str = Field("127.0.0.1", alias="TOKOWA_HOST")
    port: int = Field(8000, alias="TOKOWA_PORT")
    admin_numbers_raw: str = Field("", alias="TOKOWA_ADMIN_NUMBERS")
    admin_token: str | None = Field(None, alias="TOKOWA_ADMIN_TOKEN")
    public_url_raw: str | None = Field(None, alias="TOKOWA_PUBLIC_URL")
    redis_prefix: str = Field("", alias="TOKOWA_REDIS_PREFIX")
    language: str = Field("id", alias="TOKOWA_LANGUAGE")
    secret_key: str | None = Field(None, alias="TOKOWA_SECRET_KEY")
    log_format: str = Field("console", alias="TOKOWA_LOG_FORMAT")
    db_pool_size: int = Field(10, alias="TOKOWA_DB_POOL_SIZE")
    db_max_overflow: int = Field(10, alias="TOKOWA_DB_MAX_OVERFLOW")
    db_pool_timeout: float = Field(5.0, alias="TOKOWA_DB_POOL_TIMEOUT")
    db_connect_timeout: float = Field(5.0, alias="TOKOWA_DB_CONNECT_TIMEOUT")
    db_pool_pre_ping: bool = Field(False, alias="TOKOWA_DB_POOL_PRE_PING")
    redis_timeout: float = Field(0.1, alias="TOKOWA_REDIS_TIMEOUT")
    jobs_interval_seconds: float = Field(60.0, alias="TOKOWA_JOBS_INTERVAL")
    delivery_interval_seconds: float = Field(5.0, alias="TOKOWA_DELIVERY_INTERVAL")
    lease_seconds: float = Field(120.0, gt=0, alias="TOKOWA_LEASE_SECONDS")
    max_attempts: int = Field(5, ge=1, alias="TOKOWA_MAX_ATTEMPTS")
    processing_concurrency_raw: int | None = Field(None, ge=0, alias="TOKOWA_PROCESSING_CONCURRENCY")
    run_jobs_in_server: bool = Field(True, alias="TOKOWA_SERVER_JOBS")
    doctor_interval_seconds: float = Field(3600.0, alias="TOKOWA_DOCTOR_INTERVAL")
    demo_wanted: bool = Field(False, alias="TOKOWA_DEMO")
    retention_inbox_days: int = Field(14, ge=1, alias="TOKOWA_RETENTION_INBOX_DAYS")
    retention_outbox_days: int = Field(14, ge=1, alias="TOKOWA_RETENTION_OUTBOX_DAYS")
    retention_payment_events_days: int = Field(400, ge=1, alias="TOKOWA_RETENTION_PAYMENT_EVENTS_DAYS")

    @field_validator("redis_url", "whatsapp_access_token", "gowa_api_url", "midtrans_server_key",
                     "admin_token", "secret_key", "public_url_raw", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in ("id", "en"):
            raise ValueError("TOKOWA_LANGUAGE must be id or en")
        return value

    @property
    def admin_numbers(self) -> frozenset[str]:
        numbers = set()
        for raw in filter(None, (part.strip() for part in self.admin_numbers_raw.split(","))):
            try:
                numbers.add(normalize_msisdn(raw))
            except InvalidPhoneNumber:
                raise ConfigError(f"TOKOWA_ADMIN_NUMBERS: {raw!r} is not a WhatsApp number (08..., +62..., 62...)") from None
        return frozenset(numbers)

    @property
    def public_url(self) -> str:
        return (self.public_url_raw or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def processing_concurrency(self) -> int:
        """Messages run at once per worker, up to their queued replies (0: no limit; sending
        the replies is outside the limit).

        By default 8 on the embedded SQLite database and no limit on PostgreSQL. On SQLite a
        unit of work runs without giving the event loop away (`adapters/storage/sqlite.py`), so
        more messages in flight add no throughput, only turns of the loop that every new
        webhook's acknowledgement has to wait through; the messages beyond the limit wait,
        acknowledged and leased. A message waiting on the payment provider (a link purchase)
        keeps its place meanwhile, hence not fewer. On PostgreSQL processing waits on round
        trips, which other messages fill."""
        if self.processing_concurrency_raw is not None:
            return self.processing_concurrency_raw
        return 8 if self.is_sqlite else 0

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def transport(self) -> Transport:
        if self.gowa_api_url and self.whatsapp_access_token:
            raise ConfigError("Both GOWA_API_URL and WHATSAPP_ACCESS_TOKEN are set: choose one WhatsApp transport")
        if self.gowa_api_url:
            return Transport.GOWA
        if self.whatsapp_access_token:
            return Transport.CLOUD_API
        return Transport.SIMULATOR

    @property
    def on_loopback(self) -> bool:
        """Whether `host` (where `tokowa serve` listens) is reachable from this machine only."""
        host = self.host.strip().strip("[]")
        if host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    @property
    def demo_mode(self) -> bool:
        """The simulator serves the chat: no transport, and either the embedded SQLite default on
        a loopback host or TOKOWA_DEMO=true. Without a transport otherwise, nothing may serve."""
        return self.transport is Transport.SIMULATOR and (self.demo_wanted or (self.is_sqlite and self.on_loopback))

    def check_serving(self) -> None:
        """What `tokowa serve` (and the ASGI factory) needs on top of `check`: a transport, or a
        place where the simulator cannot be reached by strangers."""
        self.check()
        if self.transport is Transport.SIMULATOR and not self.demo_mode:
            raise ConfigError(UNSAFE_DEMO)

    def check(self) -> None:
        """Refuse configurations that cannot work, naming the variable."""
        transport = self.transport
        _ = self.admin_numbers
        if transport is Transport.CLOUD_API and not self.whatsapp_app_secret:
            raise ConfigError("WHATSAPP_APP_SECRET is required with the Cloud API transport")
        if transport is Transport.CLOUD_API and not self.whatsapp_phone_number_id:
            raise ConfigError("WHATSAPP_PHONE_NUMBER_ID is required with the Cloud API transport")
        if transport is Transport.GOWA and not self.gowa_webhook_secret:
            raise ConfigError("GOWA_WEBHOOK_SECRET is required with the GOWA transport")
