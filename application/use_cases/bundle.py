"""Every use case of the shop, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from application.services import ShopReads, ShopSettingsReader
from application.use_cases.alerts import AlertBoard
from application.use_cases.catalog_admin import (
    AddProduct, AddStock, AddStockItems, CheckStock, RemoveProduct, SetProductField, SetStock,
)
from application.use_cases.orders import Cancel, History, OrderStatusQuery, Resend
from application.use_cases.payments import ApplyPaymentStatus, ExpireStaleOrders
from application.use_cases.seller import ContactAdmin, DeliverByHand, ReplyToCustomer, WaitingOrders
from application.use_cases.shop_admin import ChangeSetting, ListOrders, Report, SetLanguage, SetRole
from application.use_cases.shopping import Buy
from application.use_cases.wallet import AdjustBalance, Deposit


@dataclass(frozen=True)
class UseCases:
    reads: ShopReads
    settings: ShopSettingsReader
    buy: Buy
    deposit: Deposit
    cancel: Cancel
    resend: Resend
    history: History
    order_status: OrderStatusQuery
    add_product: AddProduct
    set_product_field: SetProductField
    add_stock: AddStock
    set_stock: SetStock
    add_stock_items: AddStockItems
    remove_product: RemoveProduct
    check_stock: CheckStock
    set_role: SetRole
    set_language: SetLanguage
    adjust_balance: AdjustBalance
    list_orders: ListOrders
    report: Report
    change_setting: ChangeSetting
    apply_payment: ApplyPaymentStatus
    expire_stale: ExpireStaleOrders
    deliver_by_hand: DeliverByHand
    waiting_orders: WaitingOrders
    contact_admin: ContactAdmin
    reply_to_customer: ReplyToCustomer
    alerts: AlertBoard
