"""The hot path on PostgreSQL: statements built once, compiled once, sent straight to asyncpg.

`Connection.execute` spends far more Python per statement than the round trip it makes (cache
key, execution context, parameter processing, a greenlet switch, result metadata); on a busy
worker that was the largest share of a purchase's CPU. The statements every message runs are
therefore module constants marked with `prebuilt(...)`. Inside a PostgreSQL unit of work, such a
statement is compiled once per set of parameter names (as SQLAlchemy itself would compile it,
bind processors included) and run with asyncpg's `fetch`/`execute` on the transaction's own
connection; everything else, and everything on SQLite, goes through SQLAlchemy as before.

Two things keep this equal to the SQLAlchemy path, and the one contract suite checks both:
- rows come back as asyncpg records; on PostgreSQL the dialect's type handling adds nothing to
  them for the column types used here (JSONB is decoded by the codec SQLAlchemy installs,
  timestamps are already aware UTC), so they are wrapped, not converted;
- a driver error is translated as SQLAlchemy would (`IntegrityError` naming the constraint,
  a lost connection marked invalidated), so the repositories' error handling is the same.

It leans on two details of SQLAlchemy's asyncpg adapter (`_start_transaction`, `_transaction`,
`_handle_exception`): the transaction is begun the adapter's way, so commit, rollback and
savepoints through SQLAlchemy keep working on the same connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.base import Executable

E = TypeVar("E", bound=Executable)

_PREBUILT: dict[int, Executable] = {}
_PLANS: dict[tuple[int, tuple[str, ...]], _Plan | None] = {}


def prebuilt(statement: E) -> E:
    """Mark a module-level statement for the direct path (kept alive here, so its id is stable)."""
    _PREBUILT[id(statement)] = statement
    return statement


def is_prebuilt(statement: Executable) -> bool:
    return _PREBUILT.get(id(statement)) is statement


@dataclass(frozen=True)
class _Plan:
    sql: str
    # Per positional parameter: the caller's parameter name (None: a value fixed in the
    # statement), that fixed value, and the bind processor (None: the value goes as it is).
    args: tuple[tuple[str | None, Any, Callable[[Any], Any] | None], ...]
    returns_rows: bool


def _plan(statement: Executable, keys: tuple[str, ...], dialect: Dialect) -> _Plan | None:
    element: Any = statement
    compiled: Any = element.compile(dialect=dialect, column_keys=list(keys))
    if compiled.insert_prefetch or compiled.update_prefetch or compiled.literal_execute_params \
            or compiled.post_compile_params or compiled.positiontup is None:
        return None  # Python-side defaults or expanding parameters: leave it to SQLAlchemy
    processors = compiled._bind_processors
    args = []
    for name in compiled.positiontup:
        processor = processors.get(name)
        if isinstance(processor, (list, tuple)):
            return None
        if name in keys:
            args.append((name, None, processor))
        else:
            value = compiled.binds[name].effective_value
            args.append((None, processor(value) if processor else value, None))
    return _Plan(compiled.string, tuple(args), bool(compiled.returning) or bool(element.is_select))


class DirectRow:
    """An asyncpg record read like a SQLAlchemy row: `row.column`, `row[0]`, `row._mapping`."""

    __slots__ = ("_record",)

    def __init__(self, record: Any) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, index: int) -> Any:
        return self._record[index]

    @property
    def _mapping(self) -> Mapping[str, Any]:
        return dict(self._record.items())


class DirectResult:
    """The part of SQLAlchemy's result the repositories use."""

    def __init__(self, rows: list[DirectRow], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[DirectRow]:
        return iter(self._rows)

    def all(self) -> list[DirectRow]:
        return list(self._rows)

    def first(self) -> DirectRow | None:
        return self._rows[0] if self._rows else None

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise exc.NoResultFound("expected one row") if not self._rows else exc.MultipleResultsFound("more than one row")
        return self._rows[0][0]

    def scalar_one_or_none(self) -> Any:
        if len(self._rows) > 1:
            raise exc.MultipleResultsFound("more than one row")
        return self._rows[0][0] if self._rows else None

    def scalars(self) -> list[Any]:
        return [row[0] for row in self._rows]


class DirectPath:
    """The asyncpg connection of one open PostgreSQL transaction."""

    def __init__(self, adapter: Any, dialect: Dialect, observe: Callable[[float], None] | None) -> None:
        self._adapter = adapter
        self._driver = adapter._connection
        self._dialect = dialect
        self._observe = observe
        self.lost = False  # the connection broke under a direct statement: not to go back to the pool

    @classmethod
    async def begin(cls, connection: AsyncConnection, observe: Callable[[float], None] | None) -> DirectPath:
        """BEGIN on the connection the adapter's way (what its first statement would have done)."""
        # The pooled connection was just checked out, so reading it needs no I/O (nor the greenlet
        # that `get_raw_connection()` would spawn).
        adapter: Any = connection.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
        path = cls(adapter, connection.dialect, observe)
        if adapter._transaction is None:
            try:
                await adapter._start_transaction()
            except Exception as error:
                raise path._translated(error, "BEGIN", ()) from error
        return path

    async def execute(self, statement: Executable, params: Mapping[str, Any]) -> DirectResult | None:
        """Run a prebuilt statement; None when it has to go through SQLAlchemy after all."""
        keys = tuple(params)
        key = (id(statement), keys)
        plan = _PLANS.get(key)
        if plan is None:
            if key in _PLANS:
                return None
            plan = _PLANS[key] = _plan(statement, keys, self._dialect)
            if plan is None:
                return None
        args = [fixed if name is None else (process(params[name]) if process else params[name])
                for name, fixed, process in plan.args]
        started = time.perf_counter()
        try:
            if plan.returns_rows:
                records = await self._driver.fetch(plan.sql, *args)
                result = DirectResult([DirectRow(r) for r in records], len(records))
            else:
                status = await self._driver.execute(plan.sql, *args)
                result = DirectResult([], _rowcount(status))
        except Exception as error:
            raise self._translated(error, plan.sql, args) from error
        finally:
            if self._observe is not None:
                self._observe(time.perf_counter() - started)
        return result

    def _translated(self, error: Exception, sql: str, args: Any) -> BaseException:
        """The error as SQLAlchemy would have raised it from `Connection.execute`."""
        try:
            self._adapter._handle_exception(error)
        except Exception as dbapi_error:
            error = dbapi_error
        dbapi = self._dialect.loaded_dbapi
        if not isinstance(error, dbapi.Error):
            return error
        closed = self._driver.is_closed()
        self.lost = self.lost or closed
        return exc.DBAPIError.instance(sql, args, error, dbapi.Error, connection_invalidated=closed,
                                       dialect=self._dialect)


def _rowcount(status: str) -> int:
    """'UPDATE 3' -> 3, 'INSERT 0 1' -> 1."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else -1
