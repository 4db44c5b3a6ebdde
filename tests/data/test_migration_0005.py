"""Issue 17, item 6: a database made by the previous schema (0003) with plain message rows is
upgraded: bodies no longer needed are dropped, waiting ones encrypted; without a key the
upgrade refuses and changes nothing."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.storage import StockCipher, migrate
from tests.fixtures.storage import PG_ADMIN_URL, _admin

ADDSTOK = ".addstok NF1\nlama.sekret@mail.test|Pw-Lama-7781"
DELIVERY = '{"text":"Akun: antri.sekret@mail.test|Pw-Antri-4410","choices":[],"choices_title":"","choices_button":"","link":null}'


@pytest.fixture(params=["sqlite", "postgres"])
async def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database at schema revision 0003."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        await migrate(url, revision="0003")
        yield url
        return
    name = f"tokowa_mig_{secrets.token_hex(5)}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        await migrate(url, revision="0003")
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


async def _seed_plain_rows(url: str) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    body_type = "CAST(:body AS JSONB)" if url.startswith("postgresql") else ":body"
    for message_id, finished in (("wamid.done", now), ("wamid.waiting", None)):
        await _run(url, f"INSERT INTO inbox (message_id, received_at, sender, body, lease_until, finished_at) "
                        f"VALUES (:id, :now, '6281100000001', {body_type}, :now, :finished)",
                   id=message_id, now=now, finished=finished,
                   body=json.dumps({"text": ADDSTOK, "business_user_id": None}))
    for sent in (now, None):
        await _run(url, "INSERT INTO outbox (recipient, payload, created_at, lease_until, attempts, sent_at) "
                        "VALUES ('6281200000002', :payload, :now, :now, 0, :sent)", payload=DELIVERY, now=now, sent=sent)


async def test_upgrade_drops_finished_bodies_and_encrypts_waiting_ones(old_database: str) -> None:
    await _seed_plain_rows(old_database)
    key = StockCipher.generate_key()
    await migrate(old_database, key)
    cipher = StockCipher(key)
    inbox = dict(await _run(old_database, "SELECT message_id, body FROM inbox"))
    assert inbox["wamid.done"] is None
    sealed = inbox["wamid.waiting"]
    if isinstance(sealed, str) and sealed.startswith('"'):
        sealed = json.loads(sealed)  # SQLite hands JSON back as text
    assert isinstance(sealed, str) and "Pw-Lama" not in sealed
    assert cipher.unseal(sealed) == {"text": ADDSTOK, "business_user_id": None}
    outbox = await _run(old_database, "SELECT payload, sent_at FROM outbox")
    assert len(outbox) == 1 and outbox[0][1] is None  # the sent one is gone
    assert cipher.decrypt(str(outbox[0][0])) == DELIVERY
    assert await _run(old_database, "SELECT version_num FROM alembic_version") == [(_head(),)]  # through 0005


async def test_upgrade_without_a_key_refuses_while_messages_wait_and_changes_nothing(old_database: str) -> None:
    await _seed_plain_rows(old_database)
    with pytest.raises(RuntimeError, match="TOKOWA_SECRET_KEY"):
        await migrate(old_database)
    assert await _run(old_database, "SELECT version_num FROM alembic_version") == [("0003",)]
    assert len(await _run(old_database, "SELECT message_id FROM inbox WHERE body IS NOT NULL")) == 2


def _head() -> str:
    from alembic.script import ScriptDirectory

    from adapters.storage.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head
