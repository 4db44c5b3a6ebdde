"""A database made by schema 0008 with a product whose delivery text is plain text: the upgrade
seals it with the first key and the shop reads it back; without a key the upgrade refuses and
changes nothing; a downgrade turns it back into plain text."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.storage import StockCipher, migrate
from adapters.storage.migrate import alembic_config
from tests.fixtures.storage import PG_ADMIN_URL, _admin
from tests.support.wiring import close, production_adapters

LOGIN = "Login keluarga: lama.sekret@mail.test Pw-Lama-5120"


@pytest.fixture(params=["sqlite", "postgres"])
async def database_0008(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database at schema 0008 with two products: one with a delivery text, one without."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        await migrate(url, revision="0008")
        await _seed(url)
        yield url
        return
    name = f"tokowa_mig_{secrets.token_hex(5)}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        await migrate(url, revision="0008")
        await _seed(url)
        yield url
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _run(url: str, statement: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


async def _seed(url: str) -> None:
    cast = "CAST(:data AS JSONB)" if url.startswith("postgresql") else ":data"
    for code, note in (("NF1", LOGIN), ("VC", "")):
        data = json.dumps({"description": "", "terms": "", "delivery_text": note, "fulfilment": "otomatis"})
        await _run(url, f"INSERT INTO produk (id, nama, harga, stok, aktif, uses_items, data) "
                        f"VALUES (:code, :code, 10000, 5, true, false, {cast})", code=code, data=data)


async def _data(url: str) -> dict[str, dict[str, object]]:
    rows = await _run(url, "SELECT id, data FROM produk")
    return {str(code): (json.loads(data) if isinstance(data, str) else data) for code, data in rows}  # type: ignore[misc]


async def test_upgrade_seals_the_delivery_text_and_the_shop_still_delivers_it(database_0008: str) -> None:
    key = StockCipher.generate_key()
    await migrate(database_0008, key)
    data = await _data(database_0008)
    assert "delivery_text" not in data["NF1"] and "Pw-Lama" not in json.dumps(data)
    assert StockCipher(key).decrypt(str(data["NF1"]["delivery_text_sealed"])) == LOGIN
    assert data["VC"]["delivery_text_sealed"] == ""
    adapters = production_adapters(database_0008, TOKOWA_SECRET_KEY=key)
    try:
        async with adapters.unit_of_work() as uow:
            product = await uow.products.get("NF1")
        assert product is not None and product.delivery_text == LOGIN
    finally:
        await close(adapters)


async def test_upgrade_without_a_key_refuses_and_changes_nothing(database_0008: str) -> None:
    with pytest.raises(RuntimeError, match="TOKOWA_SECRET_KEY"):
        await migrate(database_0008)
    assert await _run(database_0008, "SELECT version_num FROM alembic_version") == [("0008",)]
    assert (await _data(database_0008))["NF1"]["delivery_text"] == LOGIN


async def test_downgrade_turns_it_back_into_plain_text(database_0008: str) -> None:
    key = StockCipher.generate_key()
    await migrate(database_0008, key)
    engine = create_async_engine(database_0008)
    try:
        async with engine.begin() as connection:
            def downgrade(sync: object) -> None:
                config = alembic_config()
                config.attributes["connection"] = sync
                config.attributes["secret_key"] = key
                command.downgrade(config, "0008")

            await connection.run_sync(downgrade)
    finally:
        await engine.dispose()
    assert (await _data(database_0008))["NF1"]["delivery_text"] == LOGIN
