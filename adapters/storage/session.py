"""One open transaction as the repositories see it, and the retry policy for opening one.

Every statement goes through `Transaction.execute`, which turns a lost or refused connection into
`StorageUnavailable`; integrity errors pass through for the repositories to name.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import BindParameter, Executable, Table, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.storage.cipher import StockCipher
from adapters.storage.direct import prebuilt
from adapters.storage.errors import is_unavailable
from application.errors import StorageUnavailable

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff for opening a transaction: `retries` more tries after the
    first, waiting base, 2*base, 4*base ... (capped at `max_delay`) in between."""

    retries: int = 3
    base_delay: float = 0.05
    max_delay: float = 1.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    def delays(self) -> Iterator[float]:
        for attempt in range(self.retries):
            yield min(self.base_delay * 2**attempt, self.max_delay)

    async def open(self, attempt: Callable[[], Awaitable[T]], retryable: Callable[[Exception], bool]) -> T:
        """Run `attempt` until it succeeds; an error `retryable` accepts (refused, timed out,
        pool exhausted, database missing) is tried again after the next delay and, once they
        are used up, reads as `StorageUnavailable` (the cause chained); any other is raised."""
        delays = self.delays()
        while True:
            try:
                return await attempt()
            except Exception as error:
                if not retryable(error):
                    raise
                delay = next(delays, None)
                if delay is None:
                    raise StorageUnavailable(f"database unreachable: {type(error).__name__}") from error
                await self.sleep(delay)


class StatementResult(Protocol):
    """What the repositories read from a statement's result: SQLAlchemy's, or the direct path's."""

    @property
    def rowcount(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...

    def all(self) -> Sequence[Any]: ...

    def first(self) -> Any: ...

    def scalar_one(self) -> Any: ...

    def scalar_one_or_none(self) -> Any: ...

    def scalars(self) -> Any: ...


@functools.cache
def _insert_ignoring_conflicts(table: Table, postgres: bool) -> Executable:
    """Built once per table and dialect: the values come as parameters, so SQLAlchemy neither
    rebuilds the statement nor walks it for a cache key on every insert (hot path: inbox, users)."""
    insert = pg_insert(table) if postgres else sqlite_insert(table)
    return prebuilt(insert.on_conflict_do_nothing())


def bound(table: Table, *names: str) -> dict[str, BindParameter[Any]]:
    """SET/VALUES placeholders for prebuilt statements: column `x` takes parameter `v_x` (a name
    apart from the column's own, which SQLAlchemy reserves), typed like the column."""
    return {name: bindparam(f"v_{name}", type_=table.c[name].type) for name in names}


def bound_params(values: Mapping[str, Any]) -> dict[str, Any]:
    """The parameter dict for placeholders made by `bound`."""
    return {f"v_{name}": value for name, value in values.items()}


Settle = Callable[[int], Awaitable[None]]
"""A held write's check: given how many rows its last step returned, raise its domain error."""
Refuse = Callable[[IntegrityError], BaseException | None]
"""A held write's reading of a broken constraint: its domain error, or None when not its own."""


class Transaction:
    """One open transaction as the repositories see it, with the cipher they need. SQLite runs
    on SQLAlchemy (`SqlAlchemyTransaction`), PostgreSQL on asyncpg (`postgres.AsyncpgTransaction`).

    Inside `UnitOfWork.batched()` a transaction that can (`can_hold`: PostgreSQL) is `holding`:
    a repository may then `hold` a write whose result its caller does not read, to be sent with
    a later statement (see `postgres.AsyncpgTransaction`); elsewhere every write runs at once."""

    cipher: StockCipher
    is_postgres: bool
    can_hold = False
    holding = False

    async def hold(self, statement: Executable, params: Mapping[str, Any], *, touches: frozenset[str],
                   settle: Settle, refuse: Refuse) -> None:
        """Send `statement` (CTE steps written with `{p}` before each name, the last one
        `{p}done`) later, with the next statement that touches none of the tables in `touches`,
        at the latest when the batch ends: then `settle` gets the rows of `{p}done`, and an
        integrity error goes through `refuse` first. Only while `holding`."""
        raise NotImplementedError("this transaction runs every write at once")

    async def flush(self) -> None:
        """Send the held writes now (nothing when none are held) and settle them."""

    def discard(self) -> bool:
        """Forget the held writes without sending them; whether there were any."""
        return False

    async def execute(
        self, statement: Executable, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
    ) -> StatementResult:
        raise NotImplementedError

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """Undo the enclosed statements alone when the block raises."""
        raise NotImplementedError

    async def insert_ignoring_conflicts(self, table: Table, values: Mapping[str, Any]) -> bool:
        """INSERT ... ON CONFLICT DO NOTHING; True when the row was inserted.

        A conflict leaves the transaction usable (unlike a failed INSERT on PostgreSQL), so a
        caller may name the broken rule and carry on.
        """
        result = await self.execute(_insert_ignoring_conflicts(table, self.is_postgres), values)
        return result.rowcount == 1

    @staticmethod
    async def _guard(step: Awaitable[T]) -> T:
        try:
            return await step
        except Exception as error:
            if is_unavailable(error):
                raise StorageUnavailable(f"database unreachable: {type(error).__name__}") from error
            raise


class SqlAlchemyTransaction(Transaction):
    """A transaction on a SQLAlchemy async connection."""

    def __init__(self, connection: AsyncConnection, cipher: StockCipher) -> None:
        self.connection = connection
        self.cipher = cipher
        self.is_postgres = connection.dialect.name == "postgresql"

    async def execute(
        self, statement: Executable, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
    ) -> StatementResult:
        result: CursorResult[Any] = await self._guard(self.connection.execute(statement, params))
        return result

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        nested = await self._guard(self.connection.begin_nested())
        try:
            yield
        except BaseException:
            await self._guard(nested.rollback())
            raise
        await self._guard(nested.commit())
