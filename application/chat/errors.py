"""Each broken rule and failure as the reply the customer or admin reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from application.chat.catalog import text
from application.chat.render import mono, when
from application.replies import Reply
from domain import errors as e
from domain.money import Rupiah
from domain.product import PRODUCT_FIELDS
from domain.settings import ShopSettings

Render = Callable[[e.DomainError, str, ShopSettings], str]


def _d(exc: e.DomainError, key: str, default: object = "") -> object:
    return exc.details.get(key, default)


def _stock_kind(exc: e.DomainError, lang: str, shop: ShopSettings) -> str:
    key = "error.stock_kind_items" if _d(exc, "expected") == "items" else "error.stock_kind_count"
    return text(key, lang, code=_d(exc, "code"))


def _illegal(exc: e.DomainError, lang: str, shop: ShopSettings) -> str:
    if _d(exc, "target") == "CANCELLED":
        return text("error.not_cancellable", lang, order_id=_d(exc, "order_id"),
                    status=text(f"status.{_d(exc, 'current')}", lang))
    return text("error.illegal", lang)


def _when(moment: object) -> str:
    return when(moment) if isinstance(moment, datetime) else str(moment)


def _unavailable(exc: e.DomainError, lang: str, shop: ShopSettings) -> str:
    if _d(exc, "reason") == "disabled":
        return text("error.links_off", lang)
    return text("error.qris_unavailable" if _d(exc, "channel") == "qris" else "error.payment_unavailable", lang)


_RENDERERS: dict[type[e.DomainError], Render] = {
    e.InvalidAmount: lambda x, lang, s: text("error.amount", lang),
    e.InvalidQuantity: lambda x, lang, s: text("error.qty", lang, max=s.max_qty),
    e.InvalidPhoneNumber: lambda x, lang, s: text("error.phone", lang, number=_d(x, "number")),
    e.InvalidProductCode: lambda x, lang, s: text("error.code", lang),
    e.InvalidProductField: lambda x, lang, s: (
        text("error.name", lang) if _d(x, "field") == "nama" else text("error.item_format", lang)
        if _d(x, "field") == "format" else text("error.field", lang, fields=", ".join(map(mono, PRODUCT_FIELDS)))),
    e.ProductNotFound: lambda x, lang, s: text("product.not_found", lang, code=_d(x, "code")),
    e.DuplicateProductCode: lambda x, lang, s: text("error.duplicate_code", lang, code=_d(x, "code")),
    e.OutOfStock: lambda x, lang, s: text("error.out_of_stock", lang, code=_d(x, "code"), left=_d(x, "left")),
    e.StockKindMismatch: _stock_kind,
    e.InvalidStockItems: lambda x, lang, s: _stock_items(x, lang, s),
    e.InsufficientBalance: lambda x, lang, s: _insufficient(x, lang, s),
    e.RepeatPurchase: lambda x, lang, s: text("repeat.ask", lang, order_id=_d(x, "order_id"), code=_d(x, "code"),
                                              qty=_d(x, "qty")),
    e.OrderNotFound: lambda x, lang, s: text("error.order_not_found", lang, order_id=_d(x, "order_id")),
    e.IllegalTransition: _illegal,
    e.PendingOrderExists: lambda x, lang, s: text("error.pending_exists", lang, order_id=_d(x, "order_id")),
    e.NoPendingOrder: lambda x, lang, s: text("error.no_pending", lang),
    e.NothingToResend: lambda x, lang, s: text("error.nothing_to_resend", lang),
    e.DepositOutOfRange: lambda x, lang, s: text("error.deposit_range", lang, min=Rupiah(s.deposit_min),
                                                 max=Rupiah(s.deposit_max)),
    e.PaymentUnavailable: _unavailable,
    e.AlreadyDelivered: lambda x, lang, s: text("error.already_delivered", lang, order_id=_d(x, "order_id"),
                                                at=_when(_d(x, "at"))),
    e.NotAwaitingDelivery: lambda x, lang, s: text("error.not_waiting", lang, order_id=_d(x, "order_id"),
                                                   status=text(f"status.{_d(x, 'status')}", lang)),
    e.AwaitingSeller: lambda x, lang, s: text("error.awaiting_seller", lang, order_id=_d(x, "order_id")),
    e.ManualNeedsCountedStock: lambda x, lang, s: text("error.manual_items", lang, code=_d(x, "code")),
    e.ReplyToAdmin: lambda x, lang, s: text("error.between_admins", lang, number=_d(x, "number")),
    e.EmptyMessage: lambda x, lang, s: text("error.empty_message", lang),
    e.InvalidSetting: lambda x, lang, s: _setting(x, lang, s),
    e.MessageTooOld: lambda x, lang, s: text("error.too_late", lang),
}


SHOWN_REFUSED_ITEMS = 3


def _stock_items(x: e.DomainError, lang: str, shop: ShopSettings) -> str:
    """The counts, then the first refused lines quoted with why each was refused."""
    refused = _d(x, "refused", ())
    assert isinstance(refused, tuple)
    rows = [text("error.stock_items", lang, blank=_d(x, "blank", 0), duplicates=_d(x, "duplicates", 0))]
    for number, item, reason in refused[:SHOWN_REFUSED_ITEMS]:
        rows.append(text("error.stock_item_row", lang, number=number, item=" " + mono(item) if item else "",
                         reason=text(f"error.stock_item_{reason}", lang)))
    if len(refused) > SHOWN_REFUSED_ITEMS:
        rows.append(text("error.stock_item_more", lang, more=len(refused) - SHOWN_REFUSED_ITEMS))
    return "\n".join(rows)


def _setting(x: e.DomainError, lang: str, shop: ShopSettings) -> str:
    """What was wrong: the key, or the value (and what the key accepts)."""
    reason = str(_d(x, "reason", "key"))
    key = mono(_d(x, "key"))
    if reason == "range":
        return text("error.setting_range", lang, key=key, value=mono(_d(x, "value")), low=_d(x, "low"),
                    high=_d(x, "high"))
    if reason == "choice":
        choices = _d(x, "choices", ())
        assert isinstance(choices, tuple)
        return text("error.setting_choice", lang, key=key, value=mono(_d(x, "value")),
                    choices="/".join(map(str, choices)))
    if reason == "text":
        return text("error.setting_text", lang, key=key, high=_d(x, "high"))
    if reason == "deposit_order":
        return text("error.setting_deposit", lang, low=Rupiah(int(str(_d(x, "low")))),
                    high=Rupiah(int(str(_d(x, "high")))))
    return text("error.setting_key", lang, key=key)


def _insufficient(x: e.DomainError, lang: str, shop: ShopSettings) -> str:
    """Names what is missing; a buyer (not an admin taking saldo away) is offered the top-up."""
    balance, needed = int(str(_d(x, "balance", 0))), int(str(_d(x, "needed", 0)))
    message = text("error.insufficient", lang, balance=Rupiah(balance), total=Rupiah(needed),
                   missing=Rupiah(needed - balance))
    if _d(x, "offer", False):
        top_up = min(max(needed - balance, shop.deposit_min), shop.deposit_max)
        message += "\n" + text("error.insufficient_offer", lang, amount=top_up)
    return message


def error_reply(exc: e.DomainError, lang: str, shop: ShopSettings) -> Reply:
    for cls in type(exc).__mro__:
        render = _RENDERERS.get(cls)
        if render is not None:
            return Reply(render(exc, lang, shop))
    return Reply(text("error.system", lang))
