"""What every admin API route shares: the bearer-token guard, error mapping and the context.

- `TOKOWA_ADMIN_TOKEN` unset: every call is refused (401). The token is compared in
  constant time.
- Domain errors become 404 (unknown ids), 409 (the shop's state refuses it) or 400 (bad
  input), with a JSON body `{"error": <rule>, "detail": ...}`; an unreachable database 503.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.openapi.plugins import RedocRenderPlugin
from litestar.response import Response

from application.chat.errors import error_reply
from application.errors import StorageUnavailable
from application.services import ShopSettingsReader
from application.use_cases.alerts import AlertBoard
from application.use_cases.admin_reads import CustomerNotFound, SalesQueries, ShopQueries
from application.use_cases.bundle import UseCases
from application.use_cases.customer_data import CustomerStillActive, ExportCustomer, ForgetCustomer
from entrypoints.web.assets import FAVICON_LINK, REDOC_JS
from domain.errors import (
    AlreadyDelivered,
    DomainError,
    ManualNeedsCountedStock,
    NotAwaitingDelivery,
    DuplicateLedgerReference,
    DuplicateProductCode,
    IllegalTransition,
    InsufficientBalance,
    InvalidStockItems,
    OrderNotFound,
    OutOfStock,
    PendingOrderExists,
    ProductNotFound,
    StockKindMismatch,
)
from domain.settings import ShopSettings

log = logging.getLogger("tokowa.admin_api")

SECURITY: list[dict[str, list[str]]] = [{"AdminToken": []}]
_NOT_FOUND = (ProductNotFound, OrderNotFound, CustomerNotFound)
_CONFLICT = (AlreadyDelivered, NotAwaitingDelivery, ManualNeedsCountedStock, DuplicateProductCode, StockKindMismatch,
             InsufficientBalance, DuplicateLedgerReference, IllegalTransition, PendingOrderExists, OutOfStock,
             InvalidStockItems, CustomerStillActive)


@dataclass(frozen=True)
class AdminContext:
    """Everything the admin routes call: the use cases and the read queries."""

    use_cases: UseCases
    queries: ShopQueries
    sales: SalesQueries
    alerts: AlertBoard
    forget_customer: ForgetCustomer
    export_customer: ExportCustomer


Admin: TypeAlias = NamedDependency[AdminContext]
"""A route parameter `admin: Admin` receives the router's `admin` dependency."""


def token_guard(token: str | None) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]:
    """A Litestar guard accepting only `Authorization: Bearer <token>`."""
    expected = token.encode() if token else None

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        scheme, _sep, given = connection.headers.get("authorization", "").partition(" ")
        valid = (
            expected is not None
            and scheme.lower() == "bearer"
            and hmac.compare_digest(given.strip().encode("utf-8", "replace"), expected)
        )
        if not valid:
            raise NotAuthorizedException("a valid admin bearer token is required",
                                         headers={"WWW-Authenticate": "Bearer"})

    return guard


def _plain(value: object) -> object:
    """A detail as JSON: scalars as they are, tuples (the refused stock lines) as lists, the rest as text."""
    if isinstance(value, (int, str, bool)) or value is None:
        return value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return str(value)


SHOP_STATE = "tokowa_shop"
"""Where `remember_shop` leaves the shop settings on the request, for the error texts."""


def remember_shop(reader: Callable[[], ShopSettingsReader]) -> Callable[[Request[Any, Any, Any]], Awaitable[None]]:
    """A `before_request` hook keeping the shop settings (a cached read) on the request, so a refused
    call can say why in the shop's language; an unreadable store leaves the default language."""

    async def hook(request: Request[Any, Any, Any]) -> None:
        settings = reader()
        try:
            request.state[SHOP_STATE] = await settings.get()
        except StorageUnavailable:
            request.state[SHOP_STATE] = ShopSettings(language=settings.default_language)

    return hook


def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    """`{"error": <rule>, "detail": {...}, "message": <the bot's own words, in the shop's language>}`.
    Refused stock lines are named by number and reason only: their text never comes back in `message`."""
    status = 404 if isinstance(exc, _NOT_FOUND) else 409 if isinstance(exc, _CONFLICT) else 400
    detail = {k: _plain(v) for k, v in exc.details.items()}
    shop = request.state.get(SHOP_STATE) or ShopSettings()
    return Response({"error": type(exc).__name__, "detail": detail, "status_code": status,
                     "message": error_reply(_without_items(exc), shop.language, shop).text}, status_code=status)


def _without_items(exc: DomainError) -> DomainError:
    if isinstance(exc, InvalidStockItems):
        refused = exc.details.get("refused", ())
        assert isinstance(refused, tuple)
        blanked = tuple((number, "", reason) for number, _item, reason in refused)
        return InvalidStockItems(**{**exc.details, "refused": blanked})
    return exc


def storage_unavailable(_: Request[Any, Any, Any], exc: StorageUnavailable) -> Response[dict[str, Any]]:
    log.error("admin API: database unavailable")
    return Response({"error": "StorageUnavailable", "status_code": 503}, status_code=503)


EXCEPTION_HANDLERS: dict[int | type[Exception], Any] = {DomainError: domain_error, StorageUnavailable: storage_unavailable}


def openapi_config() -> OpenAPIConfig:
    """The OpenAPI document at `/schema` (and `/schema/openapi.json`), readable without a token."""
    return OpenAPIConfig(
        title="Tokowa admin API",
        version="1",
        description="Admin API of a Tokowa shop. Send `Authorization: Bearer $TOKOWA_ADMIN_TOKEN`.",
        components=Components(security_schemes={
            "AdminToken": SecurityScheme(type="http", scheme="bearer", description="TOKOWA_ADMIN_TOKEN"),
        }),
        # Redoc from Tokowa itself (entrypoints/web/assets.py), no web fonts: the page works offline.
        render_plugins=[RedocRenderPlugin(js_url=REDOC_JS, google_fonts=False, favicon=FAVICON_LINK,
                                          path=["/", "/redoc"])],
    )
