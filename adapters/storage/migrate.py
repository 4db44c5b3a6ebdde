"""Schema migrations (Alembic) for `tokowa migrate` and for the embedded default at start-up.

The scripts ship inside this package; their location is taken from the package path, so the
migrations work from an installed wheel as well as from a checkout.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.storage.engine import is_sqlite

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def migrate(url: str, secret_key: str | None = None, revision: str = "head") -> None:
    """Bring the database at `url` up to the newest schema (creating the SQLite file if needed).
    `secret_key` (TOKOWA_SECRET_KEY) lets a migration encrypt rows it moves to an encrypted form."""
    if is_sqlite(url):
        _ensure_sqlite_directory(url)
    config = alembic_config()

    def upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        config.attributes["secret_key"] = secret_key
        command.upgrade(config, revision)

    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade)
    finally:
        await engine.dispose()


async def schema_is_current(url: str) -> bool:
    """True when the database is at the newest revision (False for an empty database)."""
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    if is_sqlite(url) and not _sqlite_file_exists(url):
        return False

    def current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(current) == heads
    finally:
        await engine.dispose()


def _sqlite_path(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().resolve()


def _sqlite_file_exists(url: str) -> bool:
    path = _sqlite_path(url)
    return path is None or path.exists()


def _ensure_sqlite_directory(url: str) -> None:
    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
