"""The admin API's customer data routes: export, and forget with its refusals."""

from __future__ import annotations

from typing import Any

from tests.ops.conftest import AUTH
from tests.support.shop import ALICE, BOB

Client = Any


async def test_forget_refuses_with_saldo_left_then_forgets_and_the_number_is_gone(client: Client, ops_shop: Any) -> None:
    path = f"/api/v1/customers/{ALICE}"
    assert (await client.post(f"{path}/forget")).status_code == 401
    exported = await client.get(f"{path}/export", headers=AUTH)
    assert exported.status_code == 200 and exported.json()["saldo"] == 80000
    refused = await client.post(f"{path}/forget", headers=AUTH)
    assert refused.status_code == 409
    assert refused.json()["detail"] == {"reason": "saldo", "saldo": 80000}
    debit = await client.post(f"/api/v1/wallets/{ALICE}/adjustments", headers={**AUTH, "Idempotency-Key": "out"},
                              json={"amount": 80000, "direction": "debit"})
    assert debit.status_code == 201
    forgotten = await client.post(f"{path}/forget", headers=AUTH)
    assert forgotten.status_code == 200
    pseudonym = forgotten.json()["pseudonym"]
    assert pseudonym.startswith("anon-")
    assert (await client.get(f"{path}/export", headers=AUTH)).status_code == 404
    order = (await client.get(f"/api/v1/orders/{ops_shop.paid_order_id}", headers=AUTH)).json()
    assert (order["user_id"], order["total"], order["status"]) == (pseudonym, 20000, "PAID")  # the books keep it


async def test_an_unknown_or_malformed_number_is_404(client: Client) -> None:
    assert (await client.post(f"/api/v1/customers/{BOB}/forget", headers=AUTH)).status_code == 404
    assert (await client.post("/api/v1/customers/abc/forget", headers=AUTH)).status_code == 404
