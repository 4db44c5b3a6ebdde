"""Issue 17, item 4: the embedded default backed up while customers buy, restored into a new
directory with the same balances, orders and stock; restore refuses while the shop runs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from entrypoints.embedded import DatabaseInUse, backup, database_lock, restore
from entrypoints.secrets_file import sqlite_path
from tests.support.shop import ADMIN, Shop, settings
from tests.support.wiring import close, production_adapters

BUYERS = [f"62812555{n:05d}" for n in range(12)]


async def _snapshot(shop: Shop) -> dict[str, Any]:
    async with shop.adapters.unit_of_work() as uow:
        balances = {b: (await uow.wallets.get(b)).balance.value for b in BUYERS}
        orders = []
        for buyer in BUYERS:
            orders += [(o.id, o.status.value, o.total.value) for o in await uow.orders.recent_of(buyer, 100)]
        orders.sort()
        product = await uow.products.get("VC")
        assert product is not None
        doctor_clean = await uow.wallets.off_ledger() == []
    return {"balances": balances, "orders": orders, "stock": product.stock, "ledger_ok": doctor_clean}


async def test_a_backup_taken_under_load_restores_the_same_shop(tmp_path: Path) -> None:
    live = tmp_path / "live" / "tokowa.db"
    config = settings(DATABASE_URL=f"sqlite+aiosqlite:///{live}")  # the key file beside the database
    from entrypoints.bootstrap import prepare_database
    await prepare_database(config)
    shop = Shop(production_adapters(config.database_url, TOKOWA_SECRET_KEY=""))
    try:
        await shop.say(ADMIN, ".addproduk VC|Voucher|1000|500")
        for buyer in BUYERS:
            await shop.say(ADMIN, f".addsaldo {buyer} 20rb")

        async def buy(buyer: str) -> None:
            for _ in range(3):  # `.buy` is limited to 3 a minute
                await shop.say(buyer, ".buy VC 2 saldo")

        load = asyncio.gather(*(buy(b) for b in BUYERS))
        await asyncio.sleep(0)
        during = await asyncio.to_thread(backup, config, tmp_path / "during")
        await load
        after = await asyncio.to_thread(backup, config, tmp_path / "after")
        expected = await _snapshot(shop)
    finally:
        await close(shop.adapters)
    assert during.key_file is not None and after.key_file is not None

    for source in ("during", "after"):
        target = tmp_path / f"restored-{source}" / "tokowa.db"
        restored_config = settings(DATABASE_URL=f"sqlite+aiosqlite:///{target}")
        restore(restored_config, tmp_path / source)
        restored = Shop(production_adapters(restored_config.database_url, TOKOWA_SECRET_KEY=""))
        try:
            found = await _snapshot(restored)
            assert found["ledger_ok"]
            sold = sum(2 for _, status, _ in found["orders"] if status == "PAID")
            assert found["stock"] + sold == 500  # a consistent moment: every sale with its stock
            assert sum(found["balances"].values()) + sold * 1000 == 20000 * len(BUYERS)
            if source == "after":
                assert found == expected
        finally:
            await close(restored.adapters)


def test_restore_refuses_while_a_tokowa_process_holds_the_database(tmp_path: Path) -> None:
    live = tmp_path / "tokowa.db"
    config = settings(DATABASE_URL=f"sqlite+aiosqlite:///{live}")
    from adapters.storage import migrate
    asyncio.run(migrate(config.database_url))
    made = backup(config, tmp_path / "copy")
    with database_lock(sqlite_path(config.database_url), exclusive=False):  # what `tokowa serve` holds
        with pytest.raises(DatabaseInUse, match="stop it first"):
            restore(config, tmp_path / "copy")
    assert made.database.exists() and live.exists()
    assert restore(config, tmp_path / "copy").set_aside  # stopped: the current files are set aside, not lost
