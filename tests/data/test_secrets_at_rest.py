"""Issue 17, item 1: after a whole shop day — items added by an admin, bought with saldo and by
payment link, delivered again — no secret is found in any text or JSON column of any table, nor
(SQLite) in the raw bytes of the database file and its write-ahead log, nor in the logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.storage.tables import metadata
from tests.data.conftest import MANUAL_SECRET, SECRETS, TEXT_SECRET, close_shop, full_flow, open_shop
from tests.support.wiring import TEST_SECRET_KEY


def _needles() -> list[str]:
    """Each whole item line, and each part of it alone (the password must not be found either)."""
    return SECRETS + [part for line in SECRETS for part in line.split("|")] + [MANUAL_SECRET, TEXT_SECRET,
                                                                         "Pw-Family-3318"]


async def _stored_text(url: str) -> dict[str, str]:
    """Every table's rows as one text, every column included (JSON as JSON text)."""
    engine = create_async_engine(url)
    found: dict[str, str] = {}
    try:
        async with engine.connect() as connection:
            for table in metadata.sorted_tables:
                rows = await connection.execute(select(table))
                found[table.name] = "\n".join(
                    json.dumps([v if isinstance(v, (dict, list, str, int, float, bool)) or v is None else str(v)
                                for v in row], ensure_ascii=False) for row in rows)
    finally:
        await engine.dispose()
    return found


async def test_no_secret_is_stored_in_plain_text_anywhere(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    shop = await open_shop(database_url, TEST_SECRET_KEY)
    try:
        await full_flow(shop)
        stored = await _stored_text(database_url)
        # The rows are there (the search looks at something): the item rows, the admin's message,
        # the deliveries to both buyers, the payment notification.
        assert stored["stock_items"].count("\n") == len(SECRETS) - 1
        assert stored["inbox"] and stored["outbox"] and stored["payment_events"]
        for table, text in stored.items():
            for secret in _needles():
                assert secret not in text, f"{secret!r} found in plain text in table {table}"
        if database_url.startswith("sqlite"):
            database = Path(database_url.split("///", 1)[1])
            files = [database, database.with_name(database.name + "-wal")]
            raw = b"".join(path.read_bytes() for path in files if path.exists())
            assert len(raw) > 0
            for secret in _needles():
                assert secret.encode() not in raw, f"{secret!r} found in the bytes of the SQLite files"
    finally:
        await close_shop(shop)
    for secret in _needles():
        assert secret not in caplog.text
