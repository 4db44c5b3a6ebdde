"""The admin API as an operator's script uses it: auth rules, every endpoint, errors as 4xx."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from entrypoints.web.app import create_app
from tests.ops.conftest import AUTH, TOKEN
from tests.support.shop import ALICE, Shop, settings

Client = AsyncTestClient[Any]


async def test_without_a_configured_token_every_admin_call_is_401_but_the_schema_is_open() -> None:
    shop = Shop(config=settings(TOKOWA_SERVER_JOBS="false"))
    async with AsyncTestClient(create_app(settings(TOKOWA_SERVER_JOBS="false"), shop.app)) as client:
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
            assert (await client.get("/api/v1/products", headers=headers)).status_code == 401
        assert (await client.get("/schema/openapi.json")).status_code == 200
        assert (await client.get("/schema")).status_code == 200


async def test_a_missing_or_wrong_token_is_401_and_the_right_one_passes(client: Client) -> None:
    assert (await client.get("/api/v1/orders")).status_code == 401
    assert (await client.get("/api/v1/orders", headers={"Authorization": "Bearer wrong"})).status_code == 401
    assert (await client.get("/api/v1/orders", headers={"Authorization": TOKEN})).status_code == 401
    assert (await client.post("/api/v1/products", json={"x": 1}, headers={"Authorization": "Basic x"})).status_code == 401
    assert (await client.get("/api/v1/orders", headers=AUTH)).status_code == 200
    assert (await client.get("/api/v1/orders", headers={"Authorization": f"bearer {TOKEN}"})).status_code == 200


async def test_products_are_created_read_changed_and_removed(client: Client) -> None:
    created = await client.post("/api/v1/products", headers=AUTH,
                                json={"code": "pls1", "name": "PlayStation Plus", "price": 150000, "stock": 4})
    assert created.status_code == 201
    assert created.json() == {"code": "PLS1", "name": "PlayStation Plus", "price": 150000, "stock": 4, "active": True}
    again = await client.post("/api/v1/products", headers=AUTH, json={"code": "PLS1", "name": "x", "price": 1})
    assert again.status_code == 409 and again.json()["error"] == "DuplicateProductCode"

    changed = await client.patch("/api/v1/products/PLS1", headers=AUTH, json={"price": 140000, "name": "PS Plus"})
    assert changed.json() == {"code": "PLS1", "name": "PS Plus", "price": 140000, "stock": 4, "active": True}
    refused = await client.patch("/api/v1/products/PLS1", headers=AUTH, json={"name": "Kept?", "description": "x" * 1001})
    assert refused.status_code == 400
    assert (await client.get("/api/v1/products/pls1", headers=AUTH)).json()["name"] == "PS Plus"

    codes = [p["code"] for p in (await client.get("/api/v1/products", headers=AUTH)).json()]
    assert codes == ["NF1", "PLS1", "VC"]
    removed = await client.delete("/api/v1/products/PLS1", headers=AUTH)
    assert removed.status_code == 200 and removed.json()["active"] is False
    assert (await client.get("/api/v1/products/PLS1", headers=AUTH)).json()["active"] is False
    assert [p["code"] for p in (await client.get("/api/v1/products", headers=AUTH)).json()] == ["NF1", "VC"]


async def test_unknown_fields_and_bad_values_are_400(client: Client) -> None:
    for body in ({"code": "A1", "name": "A", "price": 1000, "colour": "red"},
                 {"code": "A 1", "name": "A", "price": 1000},
                 {"code": "A1", "name": "A", "price": -5},
                 {"code": "A1", "name": "", "price": 1000}):
        response = await client.post("/api/v1/products", headers=AUTH, json=body)
        assert response.status_code == 400, body
    assert (await client.get("/api/v1/products/A1", headers=AUTH)).status_code == 404
    bad_json = await client.post("/api/v1/products", headers={**AUTH, "Content-Type": "application/json"},
                                 content=b"{not json")
    assert bad_json.status_code == 400


async def test_stock_counts_and_items_never_show_item_contents(client: Client) -> None:
    added = await client.post("/api/v1/products/NF1/items", headers=AUTH,
                              json={"items": ["user4@mail.test|pw4", "user5@mail.test|pw5"]})
    assert added.status_code == 200 and added.json() == {"code": "NF1", "added": 2, "stock": 5}
    assert "pw4" not in added.text
    duplicate = await client.post("/api/v1/products/NF1/items", headers=AUTH, json={"items": ["user4@mail.test|pw4"]})
    assert duplicate.status_code == 409
    assert (await client.get("/api/v1/products/NF1/stock", headers=AUTH)).json() == {
        "code": "NF1", "stock": 5, "uses_items": True}
    assert (await client.post("/api/v1/products/NF1/stock", headers=AUTH, json={"quantity": 2})).status_code == 409
    assert (await client.post("/api/v1/products/VC/stock", headers=AUTH, json={"quantity": 2})).json()["stock"] == 20
    assert (await client.put("/api/v1/products/VC/stock", headers=AUTH, json={"stock": 7})).json()["stock"] == 7
    assert (await client.get("/api/v1/products/NOPE/stock", headers=AUTH)).status_code == 404


async def test_orders_are_listed_filtered_and_shown(client: Client, ops_shop: Shop) -> None:
    order_id = ops_shop.paid_order_id  # type: ignore[attr-defined]
    detail = await client.get(f"/api/v1/orders/{order_id}", headers=AUTH)
    assert detail.json() == {"id": order_id, "user_id": ALICE, "status": "PAID", "total": 20000,
                             "kind": "purchase", "method": "saldo"}
    assert (await client.get("/api/v1/orders/INV-20250101-NPENPENPENPE", headers=AUTH)).status_code == 404
    listed = (await client.get("/api/v1/orders?status=PAID", headers=AUTH)).json()
    assert [o["id"] for o in listed] == [order_id]
    assert (await client.get("/api/v1/orders?status=PENDING", headers=AUTH)).json() == []
    assert [o["id"] for o in (await client.get(f"/api/v1/orders?user={ALICE}", headers=AUTH)).json()] == [order_id]
    assert (await client.get("/api/v1/orders?user=6281999999999", headers=AUTH)).json() == []
    assert (await client.get("/api/v1/orders?status=LOST", headers=AUTH)).status_code == 400
    assert (await client.get("/api/v1/orders?limit=0", headers=AUTH)).status_code == 400


async def test_wallets_balance_ledger_and_idempotent_adjustments(client: Client) -> None:
    assert (await client.get(f"/api/v1/wallets/{ALICE}", headers=AUTH)).json() == {"user_id": ALICE, "balance": 80000}
    assert (await client.get("/api/v1/wallets/6281999999999", headers=AUTH)).status_code == 404
    assert (await client.get("/api/v1/wallets/not-a-number", headers=AUTH)).status_code == 404

    body = {"amount": 5000, "direction": "credit"}
    first = await client.post(f"/api/v1/wallets/{ALICE}/adjustments", json=body, headers={**AUTH, "Idempotency-Key": "k-1"})
    assert first.status_code == 201 and first.json()["balance"] == 85000
    repeat = await client.post(f"/api/v1/wallets/{ALICE}/adjustments", json=body, headers={**AUTH, "Idempotency-Key": "k-1"})
    assert repeat.status_code == 200 and repeat.json()["repeated"] is True
    assert (await client.get(f"/api/v1/wallets/{ALICE}", headers=AUTH)).json()["balance"] == 85000

    too_much = await client.post(f"/api/v1/wallets/{ALICE}/adjustments", json={"amount": 10**9, "direction": "debit"},
                                 headers={**AUTH, "Idempotency-Key": "k-2"})
    assert too_much.status_code == 409 and too_much.json()["error"] == "InsufficientBalance"
    no_key = await client.post(f"/api/v1/wallets/{ALICE}/adjustments", json=body, headers=AUTH)
    assert no_key.status_code == 400

    ledger = (await client.get(f"/api/v1/wallets/{ALICE}/ledger", headers=AUTH)).json()
    assert [e["delta"] for e in ledger] == [5000, -20000, 100000]
    assert sum(e["delta"] for e in ledger) == 85000


async def test_settings_are_read_and_changed_one_key_at_a_time(client: Client) -> None:
    assert (await client.get("/api/v1/settings", headers=AUTH)).json()["max_qty"] == "10"
    changed = await client.put("/api/v1/settings/max_qty", headers=AUTH, json={"value": "5"})
    assert changed.status_code == 200 and changed.json()["max_qty"] == "5"
    assert (await client.get("/api/v1/settings", headers=AUTH)).json()["max_qty"] == "5"
    assert (await client.put("/api/v1/settings/max_qty", headers=AUTH, json={"value": "lots"})).status_code == 400
    assert (await client.put("/api/v1/settings/colour", headers=AUTH, json={"value": "red"})).status_code == 404


async def test_reports_show_todays_sales_low_stock_and_payment_outcomes(client: Client) -> None:
    sales = (await client.get("/api/v1/reports/sales", headers=AUTH)).json()
    assert (sales["orders"], sales["revenue"], sales["top_products"]) == (1, 20000, [{"code": "VC", "qty": 2}])
    assert (sales["refunds"], sales["chargebacks"], sales["net"]) == (0, 0, 20000)
    daily = (await client.get("/api/v1/reports/daily?days=7", headers=AUTH)).json()
    assert len(daily) == 7 and daily[-1]["revenue"] == 20000 and sum(d["orders"] for d in daily) == 1
    assert (await client.get("/api/v1/reports/low-stock", headers=AUTH)).json() == [
        {"code": "NF1", "name": "Netflix 1 Bulan", "stock": 3}]
    assert (await client.get("/api/v1/reports/payments", headers=AUTH)).json()["PAID"] == 1
    assert (await client.get("/api/v1/reports/sales?days=0", headers=AUTH)).status_code == 400


async def test_messages_given_up_are_listed_latest_first(client: Client, ops_shop: Shop) -> None:
    from datetime import timedelta

    from application.ports import IncomingMessage

    assert (await client.get("/api/v1/dead-letters", headers=AUTH)).json() == []
    now = ops_shop.clock.now()
    async with ops_shop.adapters.unit_of_work() as uow:
        await uow.inbox.record(IncomingMessage("wamid.dead-1", ALICE, ".riwayat", sent_at=now), now, now)
        await uow.inbox.record(IncomingMessage("wamid.dead-2", ALICE, None), now, now)
        await uow.inbox.claim_stale(now, now)
        await uow.inbox.dead_letter("wamid.dead-1", now + timedelta(minutes=1))
        await uow.inbox.dead_letter("wamid.dead-2", now + timedelta(minutes=2))
        await uow.commit()
    listed = await client.get("/api/v1/dead-letters", headers=AUTH)
    assert listed.status_code == 200
    assert [(d["message_id"], d["sender"], d["text"], d["attempts"]) for d in listed.json()] == [
        ("wamid.dead-2", ALICE, None, 1), ("wamid.dead-1", ALICE, ".riwayat", 1)]
    assert listed.json()[1]["sent_at"] == now.isoformat() and listed.json()[0]["sent_at"] is None
    assert [d["message_id"] for d in (await client.get("/api/v1/dead-letters?limit=1", headers=AUTH)).json()] == [
        "wamid.dead-2"]
    assert (await client.get("/api/v1/dead-letters")).status_code == 401
