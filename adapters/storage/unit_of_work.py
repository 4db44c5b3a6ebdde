"""`SqlAlchemyUnitOfWork`: one SQLite transaction, with the repositories bound to it
(PostgreSQL runs on asyncpg: `adapters/storage/postgres.py`).

Opening the transaction retries refused connections with bounded backoff, then raises
`StorageUnavailable`. Leaving the block without `commit()` rolls back; a connection lost midway
raises `StorageUnavailable` and the database discards the half-done transaction.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.storage.cipher import StockCipher
from adapters.storage.errors import is_unavailable
from adapters.storage.repositories import SqlRepositories
from adapters.storage.session import RetryPolicy, SqlAlchemyTransaction
from application.errors import StorageUnavailable

_OPEN_FAILURES = (exc.DBAPIError, exc.TimeoutError, OSError, TimeoutError)


class SqlAlchemyUnitOfWork(SqlRepositories):
    """`UnitOfWork` on a SQLAlchemy async engine: SQLite, whose writers BEGIN IMMEDIATE."""

    def __init__(self, engine: AsyncEngine, cipher: StockCipher, retry: RetryPolicy | None = None) -> None:
        self._engine = engine
        self._cipher = cipher
        self._retry = retry or RetryPolicy()
        self._connection: AsyncConnection | None = None
        self._committed = False

    async def __aenter__(self) -> SqlAlchemyUnitOfWork:
        self._connection = await self._open()
        self._committed = False
        self._bind(SqlAlchemyTransaction(self._connection, self._cipher))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if not self._committed:
                await connection.rollback()
            await connection.close()
        except Exception:
            # The connection is gone; so is its transaction. Keep it out of the pool.
            await connection.invalidate()
            await connection.close()

    async def commit(self) -> None:
        try:
            await self._require().commit()
            self._committed = True
        except Exception as error:
            if is_unavailable(error):
                raise StorageUnavailable(f"commit failed: {type(error).__name__}") from error
            raise

    async def rollback(self) -> None:
        try:
            await self._require().rollback()
        except Exception as error:
            if is_unavailable(error):
                raise StorageUnavailable(f"rollback failed: {type(error).__name__}") from error
            raise

    async def _open(self) -> AsyncConnection:
        return await self._retry.open(
            self._begin, lambda error: isinstance(error, _OPEN_FAILURES) or is_unavailable(error))

    async def _begin(self) -> AsyncConnection:
        connection = await self._engine.connect()
        try:
            await connection.begin()
        except BaseException:
            await connection.close()
            raise
        return connection

    def _require(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open: use `async with`")
        return self._connection
