"""Turning use-case results into replies, through the message catalog."""

from __future__ import annotations

from datetime import datetime

from application.chat.catalog import text
from application.ports import PaymentLink
from application.replies import Choice, LinkButton, QrImage, Reply
from domain.money import Rupiah
from domain.order import JAKARTA, Order, OrderKind
from domain.product import Product, Tier, labelled

__all__ = ["text", "product_list", "product_detail", "delivery", "topup_paid", "payment_link", "qris_payment",
           "payment", "until", "when"]



def mono(value: object, limit: int = 60) -> str:
    """VALUE as a WhatsApp code span, so `_`, `*` and `~` in it (setting keys, item lines) are shown
    as typed instead of turning the text around them italic, bold or struck; one line, cut at LIMIT."""
    flat = " ".join(str(value).replace("`", "'").split())
    return f"`{flat[:limit] + '…' if len(flat) > limit else flat}`"


def when(moment: datetime) -> str:
    return f"{moment.astimezone(JAKARTA):%d-%m-%Y %H:%M} WIB"


def until(order: Order) -> str:
    """When a PENDING order must be paid: `HH:MM WIB`, with the date when it is not the day it
    was made (Jakarta time)."""
    end = (order.expires_at or order.created_at).astimezone(JAKARTA)
    if end.date() == order.created_at.astimezone(JAKARTA).date():
        return f"{end:%H:%M} WIB"
    return f"{end:%d-%m-%Y %H:%M} WIB"


def short_when(moment: datetime) -> str:
    """`30-11 10:26` in WIB: lists of orders."""
    return f"{moment.astimezone(JAKARTA):%d-%m %H:%M}"


def _stock(product: Product, lang: str) -> str:
    return str(product.stock) if product.stock > 0 else text("product.out", lang)


def product_list(products: list[Product], tier: Tier, lang: str, shop: str) -> Reply:
    if not products:
        return Reply(text("products.empty", lang))
    rows = [
        text("products.row", lang, code=p.code, name=p.name, price=p.price_for(tier), stock=_stock(p, lang))
        for p in products
    ]
    body = "\n".join([text("products.header", lang, shop=shop), *rows, "", text("products.footer", lang)])
    choices = tuple(
        Choice(f".produk {p.code}", f"{p.code} {p.name}", f"{p.price_for(tier)} · {_stock(p, lang)}")
        for p in products
    )
    return Reply(body, choices=choices, choices_title=text("products.header", lang, shop=shop),
                 choices_button=text("products.button", lang))


def product_detail(product: Product, tier: Tier, lang: str) -> Reply:
    body = text("product.detail", lang, name=product.name, code=product.code, price=product.price_for(tier),
                stock=_stock(product, lang), description=product.description)
    choices = (Choice(f".buy {product.code}", f"Beli {product.code}" if lang == "id" else f"Buy {product.code}"),)
    return Reply(body, choices=choices if product.stock > 0 else ())


def payment_link(key: str, lang: str, url: str, **params: object) -> Reply:
    body = text(key, lang, url=url, **params)
    return Reply(body, link=LinkButton(text("buy.link_button", lang), url))


def qris_payment(key: str, lang: str, order: Order, qr_string: str, url: str, **params: object) -> Reply:
    """The QR as a picture with its caption (amount, order, deadline, how to pay); the text the
    transport sends instead when the picture cannot go carries the link, when there is one."""
    common: dict[str, object] = {"order_id": order.id, "total": order.total, "until": until(order)}
    caption = text(key, lang, how=text("qris.how", lang), **common, **params)
    fallback = text("qris.fallback", lang, url=url, **common) if url else text("qris.no_image", lang, **common)
    return Reply(caption, image=QrImage(qr_string, fallback, url))


def payment(order: Order, link: PaymentLink, lang: str) -> Reply:
    """How to pay a new Midtrans order: its QR picture, or its link."""
    params: dict[str, object] = {"qty": order.qty, "name": order.product_name}
    topup = order.kind is OrderKind.TOPUP
    if link.qr_string:
        return qris_payment("deposit.qris" if topup else "buy.qris", lang, order, link.qr_string, link.url, **params)
    expires = when(order.expires_at or order.created_at)
    if topup:
        return payment_link("deposit.link", lang, link.url, amount=order.total, order_id=order.id, expires=expires)
    return payment_link("buy.link", lang, link.url, order_id=order.id, total=order.total, expires=expires, **params)


def delivery(order: Order, product: Product | None, items: list[str], lang: str, shop: str) -> Reply:
    lines = [text("delivery.header", lang, order_id=order.id, qty=order.qty, name=order.product_name)]
    item_format = product.item_format if product is not None else ""
    for n, item in enumerate(items, 1):
        parts = labelled(item, item_format)
        if parts:  # one labelled line per field: the buyer can copy each
            body = "\n".join(f"   {label.capitalize()}: {value}" if label else f"   {value}" for label, value in parts)
            lines.append(text("delivery.item", lang, n=n, item="").rstrip() + "\n" + body)
        else:
            lines.append(text("delivery.item", lang, n=n, item=item))
    if order.delivery_note is not None:
        lines.append(text("delivery.text", lang, text=order.delivery_note))
    elif product is not None and product.delivery_text:  # the seller's text goes with items too
        lines.append(text("delivery.text", lang, text=product.delivery_text))
    if product is not None and product.terms:
        lines.append(text("delivery.terms", lang, terms=product.terms))
    lines.append(text("delivery.thanks", lang, shop=shop))
    return Reply("\n".join(lines))


def waiting_seller(order: Order, product: Product | None, lang: str) -> Reply:
    """A paid order the seller delivers by hand: on its way, with the seller's note for the buyer
    (the product's delivery text, e.g. what to send the admin)."""
    line = text("order.waiting_seller", lang, order_id=order.id, qty=order.qty, name=order.product_name)
    if product is not None and product.delivery_text:
        line += "\n" + text("delivery.text", lang, text=product.delivery_text)
    return Reply(line)


def topup_paid(order: Order, balance: Rupiah, lang: str) -> Reply:
    return Reply(text("topup.paid", lang, amount=order.total, order_id=order.id, balance=balance))


def order_line(order: Order, lang: str) -> str:
    what = text("history.topup", lang) if order.kind is OrderKind.TOPUP else f"{order.qty}x {order.product_code}"
    return text("history.row", lang, when=short_when(order.created_at), order_id=order.id, what=what, total=order.total,
                status=text(f"status.{order.status.value}", lang))
