"""What the dashboard reads from the admin API beyond the fixed shapes: every `.setproduk` field of a
product, orders with product, time and fulfilment state, what each setting accepts, and a refusal
said in the shop's language (the bot's own words), never quoting refused stock lines."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.ops.conftest import AUTH
from tests.support.shop import ALICE, Shop

Client = AsyncTestClient[Any]


async def test_a_product_shows_and_takes_every_setproduk_field(client: Client) -> None:
    changed = await client.patch("/api/v1/products/VC", headers=AUTH, json={
        "description": "Kode voucher", "terms": "Tidak bisa dikembalikan", "delivery_text": "Tukar di app",
        "price_silver": 9500, "price_gold": 9000, "min_stock": 5, "fulfilment": "manual",
        "item_format": "kode|pin"})
    assert changed.status_code == 200
    details = (await client.get("/api/v1/products/vc/details", headers=AUTH)).json()
    assert details == {
        "code": "VC", "name": "Voucher 10rb", "price": 10000, "stock": 18, "active": True, "uses_items": False,
        "description": "Kode voucher", "terms": "Tidak bisa dikembalikan", "delivery_text": "Tukar di app",
        "price_silver": 9500, "price_gold": 9000, "min_stock": 5, "fulfilment": "manual", "item_format": "kode|pin"}
    assert (await client.get("/api/v1/products/NOPE/details", headers=AUTH)).status_code == 404


async def test_orders_in_a_list_carry_product_time_and_fulfilment(client: Client, ops_shop: Shop) -> None:
    [order] = (await client.get("/api/v1/orders", headers=AUTH)).json()
    assert order["id"] == ops_shop.paid_order_id  # type: ignore[attr-defined]
    assert (order["user_id"], order["product_name"], order["qty"], order["total"]) == (ALICE, "Voucher 10rb", 2, 20000)
    assert (order["status"], order["delivery"]) == ("PAID", "automatic")
    assert order["created_at"].endswith("+00:00") and order["paid_at"] is not None


async def test_the_settings_rules_say_what_each_key_accepts(client: Client) -> None:
    rules = (await client.get("/api/v1/settings/rules", headers=AUTH)).json()
    assert rules["max_qty"] == {"low": 1, "high": 1000}
    assert rules["language"] == {"choices": ["id", "en"]}
    assert rules["shop_name"] == {"max_length": 1000}
    assert set(rules) == set((await client.get("/api/v1/settings", headers=AUTH)).json())


async def test_a_refusal_is_explained_in_the_shops_language(client: Client) -> None:
    refused = await client.put("/api/v1/settings/max_qty", headers=AUTH, json={"value": "0"})
    assert refused.status_code == 400 and refused.json()["error"] == "InvalidSetting"
    assert "1" in refused.json()["message"] and "1000" in refused.json()["message"]
    indonesian = refused.json()["message"]

    assert (await client.put("/api/v1/settings/language", headers=AUTH, json={"value": "en"})).status_code == 200
    english = (await client.put("/api/v1/settings/max_qty", headers=AUTH, json={"value": "0"})).json()["message"]
    assert english != indonesian and "1000" in english
    gone = (await client.get("/api/v1/products/NOPE", headers=AUTH)).json()
    assert "NOPE" in gone["message"]


async def test_refused_stock_lines_are_counted_and_numbered_but_never_quoted(client: Client) -> None:
    refused = await client.post("/api/v1/products/NF1/items", headers=AUTH,
                                json={"items": ["fresh@mail.test|secret9", "user1@mail.test|pw1"]})
    assert refused.status_code == 409
    message = refused.json()["message"]
    assert "2" in message  # the line number
    assert "pw1" not in message and "secret9" not in message


async def test_a_deactivated_product_is_listed_apart_and_sold_again_as_it_was(client: Client) -> None:
    assert (await client.patch("/api/v1/products/VC", headers=AUTH, json={"terms": "Sekali pakai"})).status_code == 200
    assert (await client.delete("/api/v1/products/VC", headers=AUTH)).status_code == 200
    inactive = (await client.get("/api/v1/products", params={"active": "false"}, headers=AUTH)).json()
    assert [(p["code"], p["active"], p["terms"]) for p in inactive] == [("VC", False, "Sekali pakai")]
    assert "VC" not in [p["code"] for p in (await client.get("/api/v1/products", headers=AUTH)).json()]
    # What the dashboard's "sell again" sends: the product as it was.
    [vc] = inactive
    again = await client.post("/api/v1/products", headers=AUTH, json={
        "code": vc["code"], "name": vc["name"], "price": vc["price"], "stock": vc["stock"], "description": vc["description"]})
    assert again.status_code == 201 and again.json()["active"] is True
    assert (await client.get("/api/v1/products", params={"active": "false"}, headers=AUTH)).json() == []
    details = (await client.get("/api/v1/products/VC/details", headers=AUTH)).json()
    assert details == {**details, "name": vc["name"], "price": vc["price"], "stock": vc["stock"], "terms": "Sekali pakai"}
