"""PostgreSQL units of work on plain asyncpg connections (see `adapters/storage/direct.py` for why).

Connections are opened on first use (so a database that is down at start-up only makes units
of work unavailable), with the JSON codecs SQLAlchemy would install, and pooled by `Connections`
(not asyncpg's pool: see there); nothing is reset on release (a unit of work always ends its
transaction itself, so a reset would only add a round trip). Opening a unit of work retries
refused connections with bounded backoff, then raises `StorageUnavailable`; leaving it without
`commit()` rolls back; a connection lost midway raises `StorageUnavailable`, is closed instead of
pooled, and the database discards the half-done transaction.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import asyncpg
from sqlalchemy import Executable
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import IntegrityError

from adapters.storage.cipher import StockCipher
from adapters.storage.direct import DirectResult, DirectRow, prepare, rowcount_of, tables_of_carrier, translate
from adapters.storage.errors import is_unavailable
from adapters.storage.repositories import SqlRepositories
from adapters.storage.session import Refuse, RetryPolicy, Settle, StatementResult, Transaction
from application.errors import StorageUnavailable


class PostgresPool:
    """The PostgreSQL connections of one process, opened on first use."""

    def __init__(self, url: str, dialect: Dialect, *, pool_size: int, max_overflow: int, pool_timeout: float,
                 connect_timeout: float, statement_timeout_ms: int | None = None) -> None:
        self.dialect = dialect
        self.size = pool_size
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._max = pool_size + max_overflow
        self.acquire_timeout = pool_timeout
        self._connect_timeout = connect_timeout
        self._settings = {"statement_timeout": str(statement_timeout_ms)} if statement_timeout_ms else {}
        self._pool: Connections | None = None

    def pool(self) -> Connections:
        if self._pool is None:
            self._pool = Connections(self._connect, self._max, keep=self.size)
        return self._pool

    async def _connect(self) -> asyncpg.Connection:
        connection = await asyncpg.connect(self._dsn, timeout=self._connect_timeout, server_settings=self._settings)
        try:
            await _codecs(connection)
        except BaseException:
            connection.terminate()
            raise
        return connection

    def usage(self) -> tuple[int, int]:
        """(connections open, connections in use)."""
        if self._pool is None:
            return 0, 0
        return self._pool.size, self._pool.size - self._pool.idle

    async def ping(self) -> bool:
        try:
            pool = self.pool()
            connection = await pool.acquire(self.acquire_timeout)
            try:
                await connection.fetchval("SELECT 1")
            finally:
                pool.release(connection)
            return True
        except Exception:
            return False

    async def aclose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.aclose()


class Connections:
    """A pool of asyncpg connections: an idle one is reused (the one used last first), a new one
    is opened while fewer than `max_size` are open, else the caller waits for one to come back
    (first come, first served) until its deadline.

    Not asyncpg's own pool: that one spends ~25 µs of CPU on an acquire and its release (a task
    for `asyncio.shield` on every release, an inactivity timer armed and cancelled, a proxy
    object per acquire), against ~5 µs here, and a message opens several units of work.
    Every unit of work ends its transaction itself, so a connection comes back clean: nothing
    is reset on release (one that is not is closed). A connection found closed is dropped and
    its place freed. Beyond `keep` (the configured pool size), connections opened for a burst (the
    overflow) are closed once a whole `trim_every` has passed without needing them: the idle list
    is used last-in first-out, so the ones at its bottom that no acquire reached in that time are
    surplus. A quiet server then holds no more than its pool size open, and a busy one does not
    reconnect at every dip in its load.
    """

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]], max_size: int,
                 keep: int | None = None, trim_every: float = 60.0) -> None:
        self._connect, self._max = connect, max_size
        self._keep = max_size if keep is None else keep
        self._trim_every = trim_every
        self._trim: asyncio.TimerHandle | None = None
        self._low = 0  # the fewest idle connections since the last trim: none of those was needed
        self._closing: set[asyncio.Task[None]] = set()
        self._idle: list[asyncpg.Connection] = []
        self._open = 0  # open or being opened, idle or in use
        # A waiter is handed a connection, or None: a place is free, open one.
        self._waiters: collections.deque[asyncio.Future[asyncpg.Connection | None]] = collections.deque()
        self._closed = False

    @property
    def size(self) -> int:
        return self._open

    @property
    def idle(self) -> int:
        return len(self._idle)

    async def acquire(self, timeout: float) -> asyncpg.Connection:
        """A connection for the caller alone; TimeoutError when none came within `timeout` s."""
        deadline: float | None = None
        while True:
            if self._closed:
                raise asyncpg.InterfaceError("the connection pool is closed")
            while self._idle:
                connection = self._idle.pop()
                if len(self._idle) < self._low:
                    self._low = len(self._idle)
                if not connection.is_closed():
                    return connection
                self._open -= 1  # the server closed it while it was idle
            if deadline is None:
                deadline = asyncio.get_running_loop().time() + timeout
            if self._open < self._max:
                return await self._open_one(deadline)
            handed = await self._wait(deadline)
            if handed is not None:
                return handed

    def release(self, connection: asyncpg.Connection) -> None:
        """Give a connection back (a closed one frees its place). One still inside a transaction
        (its COMMIT or ROLLBACK never answered: cancelled midway) is closed, never reused: the
        next unit of work would otherwise run inside it."""
        if connection.is_closed() or connection.is_in_transaction() or self._closed:
            connection.terminate()
            self._open -= 1
            self._hand(None)
        elif not self._hand(connection):
            self._idle.append(connection)

    async def aclose(self) -> None:
        """Close the idle connections now; those in use are closed when they come back."""
        self._closed = True
        if self._trim is not None:
            self._trim.cancel()
        idle, self._idle = self._idle, []
        self._open -= len(idle)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(asyncpg.InterfaceError("the connection pool is closed"))
        await asyncio.gather(*(connection.close() for connection in idle), *self._closing, return_exceptions=True)

    def _trim_surplus(self) -> None:
        """Close the idle connections beyond `keep` that no acquire reached since the last trim
        (politely, so the server logs no error); look again in `trim_every` while any remain."""
        self._trim = None
        surplus = min(self._low, len(self._idle), self._open - self._keep)
        if surplus > 0 and not self._closed:
            unused, self._idle = self._idle[:surplus], self._idle[surplus:]
            self._open -= surplus
            for connection in unused:
                closing = asyncio.get_running_loop().create_task(_close_quietly(connection))
                self._closing.add(closing)
                closing.add_done_callback(self._closing.discard)
        self._low = len(self._idle)
        self._arm_trim()

    def _arm_trim(self) -> None:
        if self._trim is None and self._open > self._keep and not self._closed:
            self._trim = asyncio.get_running_loop().call_later(self._trim_every, self._trim_surplus)

    async def _open_one(self, deadline: float) -> asyncpg.Connection:
        self._open += 1
        if self._open > self._keep and self._trim is None:
            self._low = len(self._idle)
            self._arm_trim()
        try:
            async with asyncio.timeout_at(deadline):
                return await self._connect()
        except BaseException:
            self._open -= 1
            self._hand(None)  # the place is free again: a waiter may try
            raise

    async def _wait(self, deadline: float) -> asyncpg.Connection | None:
        waiter: asyncio.Future[asyncpg.Connection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(deadline):
                return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # Handed something just as the wait ended (timed out, cancelled): pass it on.
                handed = waiter.result()
                if handed is not None:
                    self.release(handed)
                else:
                    self._hand(None)
            # A waiter that gave up stays queued as done; `_hand` skips it.
            raise

    def _hand(self, connection: asyncpg.Connection | None) -> bool:
        """Hand a connection (or a free place) to the longest waiting caller; False when none waits."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return True
        return False


async def _close_quietly(connection: asyncpg.Connection) -> None:
    try:
        await connection.close(timeout=5)
    except Exception:  # closing a connection the server dropped: nothing left to do
        connection.terminate()


async def _codecs(connection: asyncpg.Connection) -> None:
    """JSON in and out as SQLAlchemy's asyncpg dialect has it: its bind processors hand over
    JSON text, and rows come back decoded."""
    await connection.set_type_codec("json", encoder=str.encode, decoder=lambda b: json.loads(b.decode()),
                                    schema="pg_catalog", format="binary")
    await connection.set_type_codec("jsonb", encoder=lambda s: b"\x01" + s.encode(),
                                    decoder=lambda b: json.loads(b[1:].decode()), schema="pg_catalog", format="binary")


@dataclass(frozen=True)
class _Held:
    sql: str  # CTE steps, names after `{p}`, parameters $1..$n
    args: list[Any]
    touches: frozenset[str]
    settle: Settle
    refuse: Refuse


_PARAMETER = re.compile(r"\$(\d+)")


@functools.lru_cache(maxsize=64)
def _combined_sql(carrier: str | None, steps: tuple[tuple[str, int], ...]) -> str:
    """`WITH <held steps> <carrier as _main>`, returning first each write's count of `{p}done`
    rows, then (with a carrier) a `_row` marker and the carrier's columns: always one row at
    least, so the writes are settled even when the carrier returns none."""
    shift = _parameters(carrier) if carrier is not None else 0
    ctes, counts = [], []
    for number, (sql, taken) in enumerate(steps):
        prefix = f"_h{number}_"
        moved = _PARAMETER.sub(lambda m: f"${int(m.group(1)) + shift}", sql) if shift else sql
        ctes.append(moved.replace("{p}", prefix))
        counts.append(f"(SELECT count(*) FROM {prefix}done) AS _held{number}")
        shift += taken
    if carrier is None:
        return f"WITH {', '.join(ctes)} SELECT {', '.join(counts)}"
    # The counts come from the join's outer side (OFFSET 0 keeps it a subquery of its own), so
    # the held writes run before the carrier: the carrier (the stock take) locks the busy
    # product row last, as it would as a statement of its own, and holds it no longer.
    return (f"WITH {', '.join(ctes)}, _main AS ({carrier}) SELECT _held.*, _m.* "
            f"FROM (SELECT {', '.join(counts)} OFFSET 0) AS _held "
            "LEFT JOIN (SELECT 1 AS _row, * FROM _main) AS _m ON true")


def _parameters(sql: str) -> int:
    return max((int(n) for n in _PARAMETER.findall(sql)), default=0)


def _combined(carrier: str | None, held: list[_Held]) -> str:
    return _combined_sql(carrier, tuple((write.sql, len(write.args)) for write in held))


class _Tail:
    """The carrier's own part of a combined row (its columns after the held writes' counts)."""

    __slots__ = ("_record", "_skip")

    def __init__(self, record: Any, skip: int) -> None:
        self._record, self._skip = record, skip

    def __getitem__(self, key: int | str) -> Any:
        return self._record[key + self._skip] if isinstance(key, int) else self._record[key]

    def items(self) -> list[tuple[str, Any]]:
        return list(self._record.items())[self._skip:]


class AsyncpgTransaction(Transaction):
    """The statements of one unit of work on its asyncpg connection."""

    is_postgres = True
    can_hold = True

    def __init__(self, connection: asyncpg.Connection, dialect: Dialect, cipher: StockCipher,
                 observe: Callable[[float], None] | None) -> None:
        self.connection = connection
        self.cipher = cipher
        self._dialect = dialect
        self._observe = observe
        self.lost = False  # the connection broke: close it instead of pooling it
        self._held: list[_Held] = []
        self.dropped = False  # held writes were discarded unsent: this unit may only roll back

    async def execute(
        self, statement: Executable, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
    ) -> StatementResult:
        if self._held:
            touches = tables_of_carrier(statement)
            if touches is not None and not isinstance(params, Sequence) \
                    and not any(touches & write.touches for write in self._held):
                return await self._guard(self._carry(statement, params or {}))
            await self.flush()  # this statement may read what they write: they go first
        return await self._guard(self._run(statement, params))

    async def _run(self, statement: Executable, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None
                   ) -> DirectResult:
        many = isinstance(params, Sequence)
        rows_of_params = list(params) if isinstance(params, Sequence) else [params or {}]
        sql, args, returns_rows = prepare(statement, rows_of_params[0], self._dialect)
        if many:
            more = [prepare(statement, p, self._dialect)[1] for p in rows_of_params[1:]]
            await self._send(sql, args, lambda: self.connection.executemany(sql, [args] + more))
            return DirectResult([], len(rows_of_params))
        if returns_rows:
            records = await self._send(sql, args, lambda: self.connection.fetch(sql, *args))
            return DirectResult([DirectRow(r) for r in records], len(records))
        return DirectResult([], rowcount_of(await self._send(sql, args, lambda: self.connection.execute(sql, *args))))

    async def _send(self, sql: str, args: Sequence[Any], call: Callable[[], Awaitable[Any]]) -> Any:
        started = time.perf_counter()
        try:
            return await call()
        except Exception as error:
            self.lost = self.lost or _closed(self.connection)
            raise translate(error, self._dialect, sql, args, self.lost) from error
        finally:
            if self._observe is not None:
                self._observe(time.perf_counter() - started)

    # Held writes (`UnitOfWork.batched`): data-modifying CTEs in front of the next statement
    # that touches none of their tables. In one statement, CTEs and the main query all run once
    # on the statement's snapshot and do not see each other's changes: that is why a write is
    # combined only with statements that touch other tables, and a second write to a table
    # already written sends the first ones before it is held.

    async def hold(self, statement: Executable, params: Mapping[str, Any], *, touches: frozenset[str],
                   settle: Settle, refuse: Refuse) -> None:
        if not self.holding:
            raise RuntimeError("hold() outside UnitOfWork.batched()")
        if any(touches & write.touches for write in self._held):
            await self.flush()
        sql, args, _ = prepare(statement, params, self._dialect)
        self._held.append(_Held(sql, args, touches, settle, refuse))

    async def flush(self) -> None:
        if not self._held:
            return
        held, self._held = self._held, []
        args = [arg for write in held for arg in write.args]
        await self._guard(self._settled(held, _combined(None, held), args))

    def discard(self) -> bool:
        held, self._held = self._held, []
        self.dropped = self.dropped or bool(held)
        return bool(held)

    async def _carry(self, statement: Executable, params: Mapping[str, Any]) -> DirectResult:
        """The carrier and the held writes in one round trip; the carrier's rows as its own."""
        sql, args, _ = prepare(statement, params, self._dialect)
        held, self._held = self._held, []
        records = await self._settled(held, _combined(sql, held), [*args, *(a for w in held for a in w.args)])
        skip = len(held) + 1  # the writes' counts and the `_row` marker
        rows = [DirectRow(_Tail(record, skip)) for record in records if record["_row"] is not None]
        return DirectResult(rows, len(rows))

    async def _settled(self, held: list[_Held], sql: str, args: list[Any]) -> list[Any]:
        """Send, then settle each held write in the order it was held (the error it would have
        raised at once comes first); a broken constraint is named by the write it belongs to."""
        try:
            records: list[Any] = await self._send(sql, args, lambda: self.connection.fetch(sql, *args))
        except IntegrityError as error:
            for write in held:
                refused = write.refuse(error)
                if refused is not None:
                    raise refused from error
            raise
        for number, write in enumerate(held):
            await write.settle(records[0][number])
        return records

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        await self.flush()  # undoing the savepoint must not undo writes held before it
        nested = self.connection.transaction()  # inside the unit of work's transaction: a SAVEPOINT
        await self._guard(self._driver(nested.start(), "SAVEPOINT"))
        try:
            yield
        except BaseException:
            await self._guard(self._driver(nested.rollback(), "ROLLBACK TO SAVEPOINT"))
            raise
        await self._guard(self._driver(nested.commit(), "RELEASE SAVEPOINT"))

    async def _driver(self, step: Any, what: str) -> None:
        try:
            await step
        except Exception as error:
            self.lost = self.lost or _closed(self.connection)
            raise translate(error, self._dialect, what, (), self.lost) from error


class AsyncpgUnitOfWork(SqlRepositories):
    """`UnitOfWork` on PostgreSQL: one asyncpg transaction (none for a single-statement one,
    whose statement commits by itself), row locks `FOR NO KEY UPDATE`, wallet before product."""

    def __init__(self, pool: PostgresPool, cipher: StockCipher, retry: RetryPolicy | None = None,
                 observe: Callable[[float], None] | None = None, *, single_statement: bool = False) -> None:
        self._pool, self._cipher, self._retry = pool, cipher, retry or RetryPolicy()
        self._observe, self._single = observe, single_statement
        self._connection: asyncpg.Connection | None = None
        self._connections: Connections | None = None  # where the connection goes back
        self._transaction: Any = None
        self._tx: AsyncpgTransaction | None = None
        self._done = False

    async def __aenter__(self) -> AsyncpgUnitOfWork:
        self._connections = self._pool.pool()
        self._connection, self._transaction = await self._open(self._connections)
        self._done = False
        self._tx = AsyncpgTransaction(self._connection, self._pool.dialect, self._cipher, self._observe)
        self._bind(self._tx)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        connection, self._connection = self._connection, None
        pool = self._connections
        if connection is None or pool is None:
            return
        clean = False
        try:
            if self._tx is not None and self._tx.lost:
                raise ConnectionError("connection lost")
            if self._transaction is not None and not self._done:
                await self._transaction.rollback()
            clean = True
        except Exception:
            pass
        finally:
            if not clean:
                _drop(connection)  # gone, in an unknown state or cancelled midway: never pooled again
            pool.release(connection)

    async def commit(self) -> None:
        await self._end("commit")

    async def rollback(self) -> None:
        await self._end("rollback")

    async def _end(self, how: str) -> None:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open: use `async with`")
        if self._transaction is None or self._done:
            return
        if how == "commit" and self._tx is not None:
            if self._tx.dropped:
                raise RuntimeError("writes held in a batch were never sent (the batch was cancelled): roll back")
            await self._tx.flush()  # a commit inside `batched()`
        self._done = True
        try:
            await (self._transaction.commit() if how == "commit" else self._transaction.rollback())
        except Exception as error:
            assert self._tx is not None
            self._tx.lost = self._tx.lost or _closed(self._connection)
            translated = translate(error, self._pool.dialect, how.upper(), (), self._tx.lost)
            if is_unavailable(translated):
                raise StorageUnavailable(f"{how} failed: {type(error).__name__}") from error
            raise translated from error

    async def _open(self, pool: Connections) -> tuple[asyncpg.Connection, Any]:
        def retryable(error: Exception) -> bool:
            translated = translate(error, self._pool.dialect, "BEGIN", (), True)
            return is_unavailable(translated) or isinstance(error, (asyncpg.PostgresError, OSError))

        return await self._retry.open(lambda: self._begin(pool), retryable)

    async def _begin(self, pool: Connections) -> tuple[asyncpg.Connection, Any]:
        connection = await pool.acquire(self._pool.acquire_timeout)
        if self._single:
            return connection, None
        transaction = connection.transaction()
        try:
            await transaction.start()
        except BaseException:
            # BEGIN failed on a pooled connection (gone while idle, or cancelled midway): drop it.
            _drop(connection)
            pool.release(connection)
            raise
        return connection, transaction


def _closed(connection: asyncpg.Connection) -> bool:
    """Whether the connection is gone."""
    return bool(connection.is_closed())


def _drop(connection: asyncpg.Connection) -> None:
    connection.terminate()  # closed at once; `Connections.release` then frees its place
