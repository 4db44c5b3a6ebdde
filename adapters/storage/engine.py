"""Building the async engine: pool, timeouts and SQLite's locking set up for correctness.

SQLite gets `BEGIN IMMEDIATE` on every transaction: the write lock is taken before the first
read, so a load-modify-save cannot interleave with another writer (SQLite's answer to
`SELECT ... FOR UPDATE`). pysqlite's own transaction handling is switched off for that, WAL lets
readers of other processes continue, and `busy_timeout` makes a waiting writer queue instead of fail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def build_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = 5.0,
    pool_pre_ping: bool = False,
    connect_timeout: float = 5.0,
    statement_timeout_ms: int | None = None,
    sqlite_busy_timeout_ms: int = 5000,
    echo: bool = False,
) -> AsyncEngine:
    """An engine for `postgresql+asyncpg://...` or `sqlite+aiosqlite:///path`.

    `pool_timeout` bounds the wait for a free connection and `connect_timeout` the wait for a
    new one, so a dead or saturated database turns into an error instead of a hang.
    """
    if is_sqlite(url):
        return _sqlite_engine(url, pool_size, max_overflow, pool_timeout, sqlite_busy_timeout_ms, echo)
    connect_args: dict[str, Any] = {"timeout": connect_timeout}
    if statement_timeout_ms is not None:
        connect_args["server_settings"] = {"statement_timeout": str(statement_timeout_ms)}
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=pool_pre_ping,
        connect_args=connect_args,
        echo=echo,
    )


def _sqlite_engine(
    url: str, pool_size: int, max_overflow: int, pool_timeout: float, busy_timeout_ms: int, echo: bool
) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        connect_args={"timeout": busy_timeout_ms / 1000},
        echo=echo,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
