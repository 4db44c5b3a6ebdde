"""`SqlStorage`: the engine, the cipher and the unit-of-work factory, as the container holds them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.storage.cipher import StockCipher
from adapters.storage.engine import build_engine
from adapters.storage.session import RetryPolicy
from adapters.storage.unit_of_work import SqlAlchemyUnitOfWork


class SqlStorage:
    """One database for the whole process: build once at start-up, `aclose()` at shutdown."""

    def __init__(self, engine: AsyncEngine, cipher: StockCipher, retry: RetryPolicy | None = None) -> None:
        self.engine = engine
        self.cipher = cipher
        self.retry = retry or RetryPolicy()
        # Told the duration of each statement that bypasses SQLAlchemy (see adapters/storage/direct.py).
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
        return cls(engine, StockCipher(secret_key), retry)

    def uow_factory(self) -> SqlAlchemyUnitOfWork:
        """A new unit of work (a `UnitOfWorkFactory` when passed as a bound method)."""
        return SqlAlchemyUnitOfWork(self.engine, self.cipher, self.retry, self.statement_timer)

    def single_statement_uow(self) -> SqlAlchemyUnitOfWork:
        """A unit of work for one atomic repository call (see `UnitOfWorkFactory` in application/ports.py)."""
        return SqlAlchemyUnitOfWork(self.engine, self.cipher, self.retry, self.statement_timer, single_statement=True)

    async def ping(self) -> bool:
        """True when a trivial query answers (readiness); never raises."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def aclose(self) -> None:
        await self.engine.dispose()
