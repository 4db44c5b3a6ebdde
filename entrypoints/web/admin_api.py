"""The admin HTTP API under `/api/v1` (bearer `TOKOWA_ADMIN_TOKEN`): products and stock here,
orders, wallets, settings, reports and dead letters in `admin_records`. Every route calls a use case; none
holds a business rule of its own."""

from __future__ import annotations

import copy
from typing import Any

from litestar import Controller, Router, delete, get, patch, post, put
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, JSONBody

from application.use_cases.catalog_admin import AddProductCommand
from entrypoints.container import Application
from entrypoints.web.admin_common import (
    EXCEPTION_HANDLERS,
    SECURITY,
    Admin,
    AdminContext,
    remember_shop,
    token_guard,
)
from entrypoints.web.admin_records import (
    AlertsController,
    CustomersController, DeadLettersController, OrdersController, ReportsController, SettingsController,
    WalletsController,
)
from entrypoints.web.admin_schemas import (
    ItemsAdded,
    ProductCreate,
    ProductDetails,
    ProductOut,
    ProductUpdate,
    StockAdd,
    StockItemsAdd,
    StockOut,
    StockSet,
    product_details,
    product_out,
)

# API field -> the product field name the domain (and `.setproduk`) knows.
_FIELDS = {
    "name": "nama", "price": "harga", "description": "deskripsi", "terms": "sk", "delivery_text": "teks",
    "price_silver": "harga_silver", "price_gold": "harga_gold", "min_stock": "minstok", "fulfilment": "kirim",
    "item_format": "format",
}


class ProductsController(Controller):
    path = "/products"
    tags = ["products"]

    @get("/")
    async def list_products(self, admin: Admin, active: FromQuery[bool] = True) -> list[ProductDetails]:
        """Active products, by code, each with every field `.setproduk` edits (as `/{code}/details`);
        `?active=false`: the deactivated ones (creating one again under its code sells it again)."""
        return [product_details(p) for p in await admin.queries.products(active=active)]

    @post("/")
    async def create_product(self, admin: Admin, data: JSONBody[ProductCreate]) -> ProductOut:
        """Create a product (an inactive one with the code is reactivated); 409 when the code is taken."""
        added = await admin.use_cases.add_product(
            AddProductCommand(data.code, data.name, data.price, data.stock, data.description))
        return product_out(added.product)

    @get("/{code:str}")
    async def get_product(self, admin: Admin, code: FromPath[str]) -> ProductOut:
        """Any product with the code, active or not."""
        return product_out(await admin.queries.product(code))

    @get("/{code:str}/details")
    async def product_details(self, admin: Admin, code: FromPath[str]) -> ProductDetails:
        """Every field `.setproduk` edits, with its current value (the dashboard's edit form)."""
        return product_details(await admin.queries.product(code))

    @patch("/{code:str}")
    async def update_product(self, admin: Admin, code: FromPath[str], data: JSONBody[ProductUpdate]) -> ProductOut:
        """Change the given fields; all are checked first, so a refused value changes nothing."""
        changes = {_FIELDS[name]: str(value) for name, value in _given(data).items()}
        trial = copy.deepcopy(await admin.use_cases.check_stock(code))
        for field, value in changes.items():
            trial.set_field(field, value)
        product = trial
        for field, value in changes.items():
            product = await admin.use_cases.set_product_field(code, field, value)
        return product_out(product)

    @delete("/{code:str}", status_code=200)
    async def remove_product(self, admin: Admin, code: FromPath[str]) -> ProductOut:
        """Deactivate the product; its orders keep it."""
        return product_out(await admin.use_cases.remove_product(code))

    @get("/{code:str}/stock")
    async def stock(self, admin: Admin, code: FromPath[str]) -> StockOut:
        """How many units are left (never the stock items themselves)."""
        product = await admin.use_cases.check_stock(code)
        return StockOut(product.code, product.stock, product.uses_items)

    @post("/{code:str}/stock", status_code=200)
    async def add_stock(self, admin: Admin, code: FromPath[str], data: JSONBody[StockAdd]) -> StockOut:
        """Add to a counted product's stock (409 for an item product)."""
        product = await admin.use_cases.add_stock(code, data.quantity)
        return StockOut(product.code, product.stock, product.uses_items)

    @put("/{code:str}/stock")
    async def set_stock(self, admin: Admin, code: FromPath[str], data: JSONBody[StockSet]) -> StockOut:
        """Set a counted product's stock (409 for an item product)."""
        product = await admin.use_cases.set_stock(code, data.stock)
        return StockOut(product.code, product.stock, product.uses_items)

    @post("/{code:str}/items", status_code=200)
    async def add_items(self, admin: Admin, code: FromPath[str], data: JSONBody[StockItemsAdd]) -> ItemsAdded:
        """Add stock items (one per entry); only the count comes back, never the contents."""
        product = await admin.use_cases.add_stock_items(code, list(data.items))
        return ItemsAdded(product.code, len(data.items), product.stock)


def _given(data: ProductUpdate) -> dict[str, Any]:
    return {name: getattr(data, name) for name in _FIELDS if getattr(data, name) is not None}


def admin_router(token: str | None, container: Application) -> Router:
    """Every admin route, behind the token guard, with the domain errors mapped to 4xx."""

    def context() -> AdminContext:
        return AdminContext(container.use_cases(), container.queries(), container.sales(), container.alerts(),
                            container.forget_customer(), container.export_customer())

    return Router(
        path="/api/v1",
        route_handlers=[ProductsController, OrdersController, WalletsController, SettingsController,
                        ReportsController, AlertsController, CustomersController, DeadLettersController],
        guards=[token_guard(token)],
        before_request=remember_shop(container.settings),
        dependencies={"admin": Provide(context, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        security=SECURITY,
    )
