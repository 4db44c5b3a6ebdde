"""Consistency checks: a healthy shop has no findings; each broken invariant is found,
logged and sent to the admins (once per finding in the periodic job), and shows on the
dashboard's alert list."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from adapters.memory.storage import MemoryStore
from domain.money import Rupiah
from domain.order import OrderStatus
from tests.ops.conftest import AUTH
from tests.support.shop import ADMIN, ALICE, Shop


def store(shop: Shop) -> MemoryStore:
    return shop.adapters.store()  # type: ignore[no-any-return]


async def test_a_healthy_shop_has_no_findings(ops_shop: Shop) -> None:
    await ops_shop.say(ALICE, ".buy NF1 1 saldo")
    assert await ops_shop.app.doctor()() == []
    assert ops_shop.inbox(ADMIN) == []


async def test_broken_ledger_stock_and_delivery_are_found_and_admins_told(ops_shop: Shop) -> None:
    await ops_shop.say(ALICE, ".buy NF1 1 saldo")
    [order] = [o for o in await ops_shop.uc.history(ALICE) if o.product_code == "NF1"]
    data = store(ops_shop).data
    data.balances[ALICE] = data.balances[ALICE] + Rupiah(1000)
    data.products["NF1"].stock = 7
    for item in data.items:
        if item.order_id == order.id:
            item.order_id = "INV-SOMEONE-ELSE"

    findings = await ops_shop.app.doctor()(only_new=True)
    assert {(f.check, f.subject) for f in findings} == {
        ("ledger_mismatch", ALICE), ("stock_mismatch", "NF1"), ("undelivered", order.id)}
    alerts = ops_shop.inbox(ADMIN)
    assert len(alerts) == 3
    assert any(order.id in a for a in alerts) and any(ALICE in a for a in alerts)

    again = await ops_shop.app.doctor()(only_new=True)
    assert len(again) == 3 and len(ops_shop.inbox(ADMIN)) == 3, "a standing finding is alerted once"


async def test_alerts_are_listed_for_the_dashboard(ops_shop: Shop, client: AsyncTestClient[Any]) -> None:
    store(ops_shop).data.products["VC"].stock = 5
    store(ops_shop).data.products["NF1"].stock = 9
    await ops_shop.app.doctor()()
    listed = (await client.get("/api/v1/reports/alerts", headers=AUTH)).json()
    assert [a["key"] for a in listed] == ["alert.stock_mismatch"]
    assert "NF1" in listed[0]["message"]


async def test_paid_counted_products_need_no_items(ops_shop: Shop) -> None:
    paid = await ops_shop.uc.list_orders(OrderStatus.PAID)
    assert [o.product_code for o in paid] == ["VC"]
    assert await ops_shop.app.doctor()() == []


def test_tokowa_doctor_exits_0_on_a_fresh_embedded_shop(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKOWA_", "DATABASE_URL", "REDIS_URL"))}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    result = subprocess.run([sys.executable, "-m", "entrypoints.cli", "doctor"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "no problems found" in result.stdout
