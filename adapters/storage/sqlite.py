"""The embedded default's units of work: one SQLite writer per process, run on the event loop.

SQLite has one write lock per database file, so a process gains nothing from several writing
connections: they only take turns through `busy_timeout`, whose waits are sleeps of 1 to 100 ms
while the lock may long be free, and every statement of a transaction is a hop to aiosqlite's
thread and back through the event loop, which under load keeps the write lock held for many
loop turns. Accepting a message (its inbox row) then waited behind purchases for tens to
hundreds of milliseconds.

Here every unit of work of the process runs on ONE plain `sqlite3` connection (SQLAlchemy's
synchronous pysqlite driver, so the repositories' statements and type handling are the same),
called directly from the event loop's thread, one unit at a time (an `asyncio.Lock`, first come
first served). A statement on a small embedded database takes tens of microseconds, much less
than a thread hop, and a unit of work that awaits nothing but its statements runs from
`BEGIN IMMEDIATE` to `COMMIT` without giving the loop away: the write lock is held for that
unit's CPU time only (well under a millisecond for a purchase), so a webhook's inbox row never
waits behind another message's transaction.

- WAL, `synchronous = NORMAL`: a commit appends to the WAL without fsync. A committed
  transaction survives the process crashing (the OS has the pages); a power loss or kernel crash
  may lose the last transactions before the next checkpoint, never corrupting the database.
- Checkpoints (copying the WAL into the database, with its fsyncs) never run on the loop: the
  writer's automatic checkpoint is off and `SqliteWriter` runs a PASSIVE checkpoint in a thread
  on its own connection every `CHECKPOINT_EVERY` commits (writers go on meanwhile).
- Other processes on the same file (`serve --workers N`, `tokowa jobs`, the CLI) have writers
  of their own; SQLite's file lock still decides. `BEGIN IMMEDIATE` is tried without waiting
  (busy_timeout 0, the loop never sleeps in SQLite); when another process holds the lock, the
  wait happens in a thread with the configured busy timeout, and the loop serves other requests.
- Readers elsewhere (tests, `/readyz`, backups) use the SQLAlchemy async engine as before.

Units of several statements (a purchase) begin at most `PACED_PER_TURN` per turn of the event
loop, in order; single-statement ones (accepting a webhook's message, queueing its reply, marking
it sent) never wait for that, so an acknowledgement is not queued behind a flash sale's purchases
(see `SqliteWriter._paced`).

A unit of work that awaits something slow while open (a payment provider) holds the writer for
that time, as it held SQLite's write lock before; the asyncio lock is bounded by `lock_timeout`
and a unit that cannot get it reads as `StorageUnavailable` after the retries.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, Executable, create_engine, event, exc
from sqlalchemy.engine import Connection, Dialect, RootTransaction, make_url
from sqlalchemy.pool import StaticPool

from adapters.storage.cipher import StockCipher
from adapters.storage.direct import DirectResult, is_prebuilt
from adapters.storage.direct import _plan as direct_plan
from adapters.storage.errors import is_unavailable
from adapters.storage.repositories import SqlRepositories
from adapters.storage.session import RetryPolicy, StatementResult, Transaction
from application.errors import StorageUnavailable

log = logging.getLogger("tokowa.storage.sqlite")

PACED_PER_TURN = 1  # multi-statement units that may begin in one turn of the event loop (see `_paced`; 0: no pacing)
CHECKPOINT_EVERY = 200  # commits between two background checkpoints (a purchase writes a few pages)
_OPEN_FAILURES = (exc.DBAPIError, exc.TimeoutError, OSError, TimeoutError, sqlite3.Error)


def _is_busy(error: BaseException) -> bool:
    orig = getattr(error, "orig", error)
    return isinstance(orig, sqlite3.OperationalError) and (
        "locked" in str(orig) or "busy" in str(orig))


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(asyncio.TimeoutError())


class SqliteWriter:
    """The process's one SQLite connection for units of work, and the lock that takes turns on it."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000, lock_timeout: float = 5.0) -> None:
        self.path = make_url(url).database or ""
        self.busy_timeout_ms = busy_timeout_ms
        self.lock_timeout = lock_timeout
        self.engine: Engine = create_engine(
            make_url(url).set(drivername="sqlite+pysqlite"), poolclass=StaticPool,
            connect_args={"check_same_thread": False, "timeout": 0})
        event.listen(self.engine, "connect", self._on_connect)
        self._lock = asyncio.Lock()
        # Pacing (see `_paced`): whether a paced unit began in this turn of the loop, and the
        # paced units waiting for a turn of their own, first come first served.
        self._turn_loop: asyncio.AbstractEventLoop | None = None
        self._began_this_turn = 0
        self._pacing: deque[asyncio.Future[None]] = deque()
        self._connection: Connection | None = None
        self._commits = 0
        self._checkpointing: asyncio.Future[None] | None = None

    @staticmethod
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # BEGIN IMMEDIATE is ours (see `begin`)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 0")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA wal_autocheckpoint = 0")
        cursor.close()

    async def begin(self, *, paced: bool = False) -> tuple[Connection, RootTransaction]:
        """Take the writer (waiting for the unit before, at most `lock_timeout`), then SQLite's
        write lock; the caller must `end()` it. `paced`: a unit of several statements (see
        `_paced`); single-statement units (accepting a message, queueing its reply) never wait
        for pacing."""
        try:
            if paced and PACED_PER_TURN:
                await self._paced()
            if self._lock.locked():
                await asyncio.wait_for(self._lock.acquire(), self.lock_timeout)
            else:
                await self._lock.acquire()  # free: taken without a turn of the loop
        except asyncio.TimeoutError:
            raise exc.TimeoutError("the SQLite writer stayed busy") from None
        try:
            connection = self._connection or self._connect()
            try:
                return connection, self._begin_now(connection)
            except exc.OperationalError as error:
                if not _is_busy(error):
                    raise
        except BaseException as error:
            if is_unavailable(error) and not _is_busy(error):
                self._drop()
            self._lock.release()
            raise
        # Another process holds the write lock: wait for it in a thread, not on the loop.
        waiting = asyncio.ensure_future(asyncio.to_thread(self._begin_waiting, connection))
        try:
            return connection, await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # The thread goes on with the connection: the writer is given back once it is done
            # and its transaction, if it got one, undone.
            waiting.add_done_callback(self._undo_late_begin)
            raise
        except BaseException:
            self._lock.release()
            raise

    # Pacing. A unit of work runs from BEGIN to COMMIT within one step of its task, so the units
    # that start in one turn of the event loop all run in that turn, and a webhook's request,
    # whose acknowledgement needs the next turn, waits for all of them: with many messages
    # accepted at once (a flash sale), every turn carried several purchases and the
    # acknowledgements' median grew with them. Paced units (the multi-statement ones: purchases
    # and the like) begin at most one per turn, the others waiting in order for a turn of their
    # own; single-statement units (accepting a message, its reply, its sent mark) are never
    # paced, so an acknowledgement waits for at most one purchase per turn. Throughput is the
    # same: the loop was busy either way, now in shorter turns.

    async def _paced(self) -> None:
        loop = asyncio.get_running_loop()
        if self._turn_loop is not loop:  # a new event loop (tests, the CLI): the old one's turns are over
            self._turn_loop, self._began_this_turn, self._pacing = loop, 0, deque()
        if self._began_this_turn < PACED_PER_TURN and not self._pacing:
            self._take_turn()
            return
        waiter: asyncio.Future[None] = loop.create_future()
        self._pacing.append(waiter)
        # Not `wait_for`: on 3.11 it swallows a cancellation that comes with the turn. A waiter
        # given its turn and then cancelled loses it; the next one's comes in the turn after.
        expiry = loop.call_later(self.lock_timeout, _expire, waiter)
        try:
            await waiter
        finally:
            expiry.cancel()

    def _take_turn(self) -> None:
        if not self._began_this_turn:
            asyncio.get_running_loop().call_soon(self._next_turn)
        self._began_this_turn += 1

    def _next_turn(self) -> None:
        """The turn after paced units began: the next waiting ones may begin (in the turn after)."""
        self._began_this_turn = 0
        while self._pacing and self._began_this_turn < PACED_PER_TURN:
            waiter = self._pacing.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._take_turn()

    def _undo_late_begin(self, waiting: asyncio.Future[RootTransaction]) -> None:
        try:
            if not waiting.cancelled() and waiting.exception() is None:
                waiting.result().rollback()
        except Exception:
            self._drop()
        finally:
            self._lock.release()

    def end(self, transaction: RootTransaction, commit: bool) -> None:
        """Commit or roll back, and give the writer to the next unit."""
        try:
            if commit:
                transaction.commit()
                self._commits += 1
                if self._commits % CHECKPOINT_EVERY == 0:
                    self._checkpoint_soon()
            elif transaction.is_active:
                transaction.rollback()
        except BaseException as error:
            if not commit or is_unavailable(error):
                self._drop()  # the connection is in doubt: the next unit opens a fresh one
            raise
        finally:
            self._lock.release()

    def _connect(self) -> Connection:
        self._connection = self.engine.connect()
        return self._connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except Exception:
                pass

    @staticmethod
    def _begin_now(connection: Connection) -> RootTransaction:
        transaction = connection.begin()  # SQLAlchemy's bookkeeping only: pysqlite emits nothing
        try:
            raw: Any = connection.connection.driver_connection
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            transaction.rollback()
            raise exc.DBAPIError.instance("BEGIN IMMEDIATE", (), error, sqlite3.Error,
                                          dialect=connection.dialect) from error
        except BaseException:
            transaction.rollback()
            raise
        return transaction

    def _begin_waiting(self, connection: Connection) -> RootTransaction:
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        try:
            return self._begin_now(connection)
        finally:
            raw.execute("PRAGMA busy_timeout = 0")

    def _checkpoint_soon(self) -> None:
        if self._checkpointing is not None and not self._checkpointing.done():
            return
        try:
            self._checkpointing = asyncio.ensure_future(asyncio.to_thread(self._checkpoint))
        except RuntimeError:  # no running loop (closing)
            self._checkpointing = None

    def _checkpoint(self) -> None:
        try:
            connection = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000)
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                connection.close()
        except sqlite3.Error:
            log.warning("SQLite checkpoint failed", exc_info=True)

    async def aclose(self) -> None:
        if self._checkpointing is not None:
            await asyncio.gather(self._checkpointing, return_exceptions=True)
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None
        self.engine.dispose()
        try:
            await asyncio.to_thread(self._checkpoint)  # leave the database file current
        except RuntimeError:
            pass


@dataclass(frozen=True)
class _SqlitePlan:
    sql: str
    args: tuple[tuple[str | None, Any, Callable[[Any], Any] | None], ...]
    returns_rows: bool
    names: tuple[str, ...]  # the result columns, in order
    results: tuple[Callable[[Any], Any] | None, ...]  # their result processors


_SQLITE_PLANS: dict[tuple[int, tuple[str, ...]], _SqlitePlan | None] = {}


def _sqlite_plan(statement: Executable, keys: tuple[str, ...], dialect: Dialect) -> _SqlitePlan | None:
    """A prebuilt statement compiled once for SQLite: SQL, argument recipe (`direct._plan`) and
    the result columns' processors (SQLite hands back text for timestamps and JSON)."""
    plan = direct_plan(statement, keys, dialect)
    if plan is None:
        return None
    element: Any = statement
    compiled: Any = element.compile(dialect=dialect, column_keys=list(keys))
    names, results = [], []
    for column in compiled._result_columns:
        names.append(column.keyname)
        results.append(column.type._cached_result_processor(dialect, None))
    return _SqlitePlan(plan.sql, plan.args, plan.returns_rows, tuple(names), tuple(results))


class SqliteRow:
    """A row of the direct path read like a SQLAlchemy row: `row.column`, `row[0]`, `row._mapping`."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: tuple[str, ...], values: tuple[Any, ...]) -> None:
        self._names, self._values = names, values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[self._names.index(name)]
        except ValueError:
            raise AttributeError(name) from None

    def __getitem__(self, index: int) -> Any:
        return self._values[index]

    @property
    def _mapping(self) -> Mapping[str, Any]:
        return dict(zip(self._names, self._values))


class SqliteTransaction(Transaction):
    """A transaction on the writer's synchronous connection: statements run on the loop's thread.

    The hot path's statements (`prebuilt(...)`, see direct.py) are compiled once and run on the
    sqlite3 cursor directly, with SQLAlchemy's own bind and result processors; any other goes
    through SQLAlchemy's `Connection.execute`. The storage contract suite runs on both."""

    is_postgres = False

    def __init__(self, connection: Connection, cipher: StockCipher,
                 timer: Callable[[float], None] | None = None) -> None:
        self.connection = connection
        self.cipher = cipher
        self._timer = timer
        self._dialect = connection.dialect

    def _direct(self, statement: Executable, params: Mapping[str, Any]) -> StatementResult | None:
        key = (id(statement), tuple(params))
        if key not in _SQLITE_PLANS:
            _SQLITE_PLANS[key] = _sqlite_plan(statement, key[1], self._dialect)
        plan = _SQLITE_PLANS[key]
        if plan is None:
            return None
        args = [fixed if name is None else (process(params[name]) if process else params[name])
                for name, fixed, process in plan.args]
        raw: Any = self.connection.connection.driver_connection
        started = time.perf_counter()
        try:
            cursor = raw.execute(plan.sql, args)
            fetched = cursor.fetchall() if plan.returns_rows else []
        except sqlite3.Error as error:
            raise exc.DBAPIError.instance(plan.sql, args, error, sqlite3.Error, dialect=self._dialect) from error
        if self._timer is not None:
            self._timer(time.perf_counter() - started)
        names, results = plan.names, plan.results
        rows = [SqliteRow(names, tuple(r(v) if r else v for r, v in zip(results, values))) for values in fetched]
        return DirectResult(rows, cursor.rowcount)  # type: ignore[arg-type]

    async def execute(
        self, statement: Executable, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
    ) -> StatementResult:
        try:
            result: StatementResult | None = None
            if is_prebuilt(statement) and (params is None or isinstance(params, Mapping)):
                result = self._direct(statement, params or {})
            if result is None:
                result = self.connection.execute(statement, params)
        except Exception as error:
            if is_unavailable(error):
                raise StorageUnavailable(f"database unreachable: {type(error).__name__}") from error
            raise
        return result

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        nested = self.connection.begin_nested()
        try:
            yield
        except BaseException:
            nested.rollback()
            raise
        nested.commit()


# Two outbox writes of every message, prebuilt for SQLite (records.py builds them afresh on each
# call there: SQLAlchemy's statement construction and cache key were ~1/5 of the server's CPU per
# purchase, py-spy, 64 customers): the release of held messages a sender's message starts with
# (nothing held, the usual case, is one indexed UPDATE matching no row: ix_outbox_held), and
# marking a sent message sent with the provider's id.
class SqliteUnitOfWork(SqlRepositories):
    """`UnitOfWork` on the process's SQLite writer (see the module's docstring)."""

    def __init__(self, writer: SqliteWriter, cipher: StockCipher, retry: RetryPolicy | None = None,
                 statement_timer: Callable[[float], None] | None = None, *, single_statement: bool = False) -> None:
        """`single_statement`: a unit for one atomic repository call (`UnitOfWorkFactory`), never
        paced (see `SqliteWriter._paced`)."""
        self._writer = writer
        self._paced = not single_statement
        self._timer = statement_timer
        self._cipher = cipher
        self._retry = retry or RetryPolicy()
        self._open = False
        self._transaction: RootTransaction | None = None  # None once committed or rolled back

    async def __aenter__(self) -> SqliteUnitOfWork:
        connection, self._transaction = await self._retry.open(
            partial(self._writer.begin, paced=self._paced), lambda error: isinstance(error, _OPEN_FAILURES) or is_unavailable(error))
        self._open = True
        self._bind(SqliteTransaction(connection, self._cipher, self._timer))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._open = False
        try:
            self._end(commit=False)
        except Exception:
            log.warning("SQLite rollback failed; the connection is replaced", exc_info=True)

    async def commit(self) -> None:
        try:
            self._end(commit=True)
        except Exception as error:
            if is_unavailable(error):
                raise StorageUnavailable(f"commit failed: {type(error).__name__}") from error
            raise

    async def rollback(self) -> None:
        """Discard the unit's changes and end it (as on PostgreSQL: nothing more runs in it)."""
        try:
            self._end(commit=False)
        except Exception as error:
            if is_unavailable(error):
                raise StorageUnavailable(f"rollback failed: {type(error).__name__}") from error
            raise

    def _end(self, commit: bool) -> None:
        if not self._open and self._transaction is None and commit:
            raise RuntimeError("the unit of work is not open: use `async with`")
        transaction, self._transaction = self._transaction, None
        if transaction is not None:  # released to the next unit whatever happens
            self._writer.end(transaction, commit=commit)
