"""`SqlStorage`: the engine, the cipher and the unit-of-work factory, as the container holds them.

SQLite's units of work run on the process's one writer connection (`sqlite.py`), PostgreSQL's
on an asyncpg pool (`postgres.py`); the SQLAlchemy async engine serves migrations, readiness
and tests (and SQLite units of work for an in-memory database, which one connection cannot share).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.storage.cipher import StockCipher
from adapters.storage.engine import build_engine
from adapters.storage.postgres import AsyncpgUnitOfWork, PostgresPool
from adapters.storage.session import RetryPolicy
from adapters.storage.sqlite import SqliteUnitOfWork, SqliteWriter
from adapters.storage.unit_of_work import SqlAlchemyUnitOfWork


class SqlStorage:
    """One database for the whole process: build once at start-up, `aclose()` at shutdown."""

    def __init__(self, engine: AsyncEngine, cipher: StockCipher, retry: RetryPolicy | None = None,
                 postgres: PostgresPool | None = None, sqlite: SqliteWriter | None = None) -> None:
        self.engine = engine
        self.cipher = cipher
        self.retry = retry or RetryPolicy()
        self.postgres = postgres
        self.sqlite = sqlite
        # Told the duration of each PostgreSQL statement (SQLAlchemy's are timed by engine events).
        self.statement_timer: Callable[[float], None] | None = None

    @classmethod
    def from_url(
        cls,
        url: str,
        secret_key: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        pool_timeout: float = 5.0,
        pool_pre_ping: bool = False,
        connect_timeout: float = 5.0,
        statement_timeout_ms: int | None = None,
        sqlite_busy_timeout_ms: int = 5000,
        retry: RetryPolicy | None = None,
    ) -> SqlStorage:
        engine = build_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_pre_ping=pool_pre_ping,
            connect_timeout=connect_timeout,
            statement_timeout_ms=statement_timeout_ms,
            sqlite_busy_timeout_ms=sqlite_busy_timeout_ms,
        )
        postgres = None
        if engine.dialect.name == "postgresql":
            postgres = PostgresPool(url, engine.dialect, pool_size=pool_size, max_overflow=max_overflow,
                                    pool_timeout=pool_timeout, connect_timeout=connect_timeout,
                                    statement_timeout_ms=statement_timeout_ms)
        sqlite = None
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            sqlite = SqliteWriter(url, busy_timeout_ms=sqlite_busy_timeout_ms, lock_timeout=pool_timeout)
        return cls(engine, StockCipher(secret_key), retry, postgres, sqlite)

    def timed_engines(self) -> list[Engine]:
        """The SQLAlchemy engines whose statements `/metrics` times by engine events."""
        return [self.engine.sync_engine] + ([self.sqlite.engine] if self.sqlite is not None else [])

    def uow_factory(self) -> SqlAlchemyUnitOfWork | AsyncpgUnitOfWork | SqliteUnitOfWork:
        """A new unit of work (a `UnitOfWorkFactory` when passed as a bound method)."""
        if self.postgres is not None:
            return AsyncpgUnitOfWork(self.postgres, self.cipher, self.retry, self.statement_timer)
        if self.sqlite is not None:
            return SqliteUnitOfWork(self.sqlite, self.cipher, self.retry, self.statement_timer)
        return SqlAlchemyUnitOfWork(self.engine, self.cipher, self.retry)

    def single_statement_uow(self) -> SqlAlchemyUnitOfWork | AsyncpgUnitOfWork | SqliteUnitOfWork:
        """A unit of work for one atomic repository call (see `UnitOfWorkFactory` in
        application/ports.py): on PostgreSQL without BEGIN/COMMIT, elsewhere an ordinary one."""
        if self.postgres is not None:
            return AsyncpgUnitOfWork(self.postgres, self.cipher, self.retry, self.statement_timer,
                                     single_statement=True)
        if self.sqlite is not None:
            return SqliteUnitOfWork(self.sqlite, self.cipher, self.retry, self.statement_timer,
                                    single_statement=True)
        return SqlAlchemyUnitOfWork(self.engine, self.cipher, self.retry)

    def pool_usage(self) -> tuple[int, int, int]:
        """(pool size, connections in use, connections beyond the size) for /metrics."""
        if self.postgres is not None:
            _, in_use = self.postgres.usage()
            return self.postgres.size, in_use, max(0, in_use - self.postgres.size)
        pool: Any = self.engine.sync_engine.pool
        return _call(pool, "size"), _call(pool, "checkedout"), max(0, _call(pool, "overflow"))

    async def ping(self) -> bool:
        """True when a trivial query answers (readiness); never raises."""
        if self.postgres is not None:
            return await self.postgres.ping()
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def aclose(self) -> None:
        if self.postgres is not None:
            await self.postgres.aclose()
        if self.sqlite is not None:
            await self.sqlite.aclose()
        await self.engine.dispose()


def _call(pool: Any, method: str) -> int:
    """Pool sizes where the pool class has them (a NullPool or StaticPool has none)."""
    getter = getattr(pool, method, None)
    return int(getter()) if callable(getter) else 0
