"""Products as JSON for the cache, replies as JSON for the outbox (pure json, no framework)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from application.replies import Choice, LinkButton, QrImage, Reply
from domain.money import Rupiah
from domain.product import Product, Tier


def product_to_json(products: list[Product]) -> str:
    return json.dumps([_product_dict(p) for p in products], separators=(",", ":"))


def products_from_json(data: str) -> list[Product]:
    return [_product_from(d) for d in json.loads(data)]


def _product_dict(p: Product) -> dict[str, Any]:
    d = asdict(p)
    # Browsing never shows the delivery text, and it may be the goods themselves (a shared login):
    # it stays in the database, sealed, and out of every cache.
    d["delivery_text"] = ""
    for key in ("price", "price_silver", "price_gold"):
        d[key] = d[key]["value"] if d[key] is not None else None
    return d


def _product_from(d: dict[str, Any]) -> Product:
    for key in ("price", "price_silver", "price_gold"):
        d[key] = Rupiah(d[key]) if d[key] is not None else None
    return Product(**d)


@dataclass(frozen=True)
class Profile:
    """What the chat needs of a customer on every message: price tier and own language."""

    tier: Tier
    language: str | None


def profile_to_str(profile: Profile) -> str:
    return f"{profile.tier.value}|{profile.language or ''}"


def profile_from(data: str | None) -> Profile | None:
    tier, _, language = (data or "").partition("|")
    if tier not in {t.value for t in Tier}:
        return None
    return Profile(Tier(tier), language if language in ("id", "en") else None)


def reply_to_json(reply: Reply) -> str:
    """What `asdict` gave, key for key (one per reply queued: `asdict` deep-copies every field)."""
    link = reply.link
    data: dict[str, Any] = {
        "text": reply.text,
        "choices": [{"command": c.command, "title": c.title, "description": c.description} for c in reply.choices],
        "choices_title": reply.choices_title, "choices_button": reply.choices_button,
        "link": None if link is None else {"label": link.label, "url": link.url},
    }
    if reply.image is not None:  # absent: what every reply without a picture was stored as before
        data["image"] = {"data": reply.image.data, "fallback": reply.image.fallback, "url": reply.image.url}
    if reply.as_template:
        data["as_template"] = True
    return _compact(data)


_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def reply_from_json(data: str) -> Reply:
    d = json.loads(data)
    link, image = d.get("link"), d.get("image")
    return Reply(
        text=d["text"],
        choices=tuple(Choice(**c) for c in d.get("choices", ())),
        choices_title=d.get("choices_title", ""),
        choices_button=d.get("choices_button", ""),
        link=LinkButton(**link) if link else None,
        image=QrImage(**image) if image else None,
        as_template=bool(d.get("as_template", False)),
    )
