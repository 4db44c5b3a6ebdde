"""PostgreSQL without SQLAlchemy's execution layer: statements compiled once, sent with asyncpg.

`Connection.execute` and SQLAlchemy's pool spend far more Python per statement and per
transaction than the round trips cost (cache keys, execution contexts, greenlet switches, pool
events); on a busy worker that was the largest share of a purchase's CPU. On PostgreSQL the units
of work therefore run on a plain asyncpg pool (`adapters/storage/postgres.py`) and every statement
is compiled by SQLAlchemy's own PostgreSQL compiler, bind processors included, then sent with
asyncpg's `fetch`/`execute`. The statements every message runs are module constants marked with
`prebuilt(...)`: those are compiled once per set of parameter names; any other statement is
compiled each time it runs (admin and background paths). SQLite keeps SQLAlchemy throughout.

Two things keep this equal to SQLAlchemy's own execution, and the one storage contract suite
checks both on every run:
- rows come back as asyncpg records; on PostgreSQL the dialect's result processing adds nothing
  for the column types used here (JSON/JSONB are decoded by the same codecs SQLAlchemy installs,
  timestamps are already aware UTC), so they are wrapped, not converted;
- a driver error is translated as SQLAlchemy would (`IntegrityError` naming the constraint, a
  lost connection marked invalidated), so the repositories' error handling is the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
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


_CARRIERS: dict[int, frozenset[str]] = {}


def carrier(statement: E, *touches: str) -> E:
    """Mark a prebuilt statement that may carry held writes (`Transaction.hold`) in front of it
    as data-modifying CTEs; `touches`: every table it reads or writes. It must contain no
    data-modifying CTE itself (PostgreSQL allows those only at the top level)."""
    assert is_prebuilt(statement), "mark it prebuilt(...) first"
    _CARRIERS[id(statement)] = frozenset(touches)
    return statement


def tables_of_carrier(statement: Executable) -> frozenset[str] | None:
    """The tables a carrier touches; None when the statement is no carrier."""
    return _CARRIERS.get(id(statement)) if is_prebuilt(statement) else None


@dataclass(frozen=True)
class _Plan:
    sql: str
    # Per positional parameter: the caller's parameter name (None: a value fixed in the
    # statement), that fixed value, and the bind processor (None: the value goes as it is).
    args: tuple[tuple[str | None, Any, Callable[[Any], Any] | None], ...]
    returns_rows: bool


def _plan(statement: Executable, keys: tuple[str, ...], dialect: Dialect) -> _Plan | None:
    """The SQL and argument recipe of a statement taking parameters named `keys`; None when it
    needs SQLAlchemy's per-call work (Python-side defaults, expanding IN lists)."""
    element: Any = statement
    compiled: Any = element.compile(dialect=dialect, column_keys=list(keys))
    if compiled.insert_prefetch or compiled.update_prefetch or compiled.literal_execute_params \
            or compiled.post_compile_params or compiled.positiontup is None:
        return None
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

    def scalars(self) -> _Scalars:
        return _Scalars(row[0] for row in self._rows)


class _Scalars(list[Any]):
    def all(self) -> list[Any]:
        return list(self)


def prepare(statement: Executable, params: Mapping[str, Any], dialect: Dialect) -> tuple[str, list[Any], bool]:
    """SQL, arguments and whether rows come back: a prebuilt statement from its cached plan,
    any other compiled now (expanding parameters rendered as plain ones)."""
    keys = tuple(params)
    plan: _Plan | None = None
    if is_prebuilt(statement):
        key = (id(statement), keys)
        if key not in _PLANS:
            _PLANS[key] = _plan(statement, keys, dialect)
        plan = _PLANS[key]
    if plan is not None:
        args = [fixed if name is None else (process(params[name]) if process else params[name])
                for name, fixed, process in plan.args]
        return plan.sql, args, plan.returns_rows
    element: Any = statement
    compiled: Any = element.compile(dialect=dialect, column_keys=list(keys),
                                    compile_kwargs={"render_postcompile": True})
    values = compiled.construct_params(dict(params))
    processors = compiled._bind_processors
    args = []
    for name in compiled.positiontup or ():
        process = processors.get(name)
        args.append(process(values[name]) if process else values[name])
    return compiled.string, args, bool(compiled.returning) or bool(element.is_select)


def translate(error: Exception, dialect: Dialect, sql: str, args: Any, lost: bool) -> BaseException:
    """A driver error as SQLAlchemy's `Connection.execute` would have raised it."""
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

    dbapi = dialect.loaded_dbapi
    try:
        AsyncAdapt_asyncpg_connection._handle_exception_no_connection(dbapi, error)
    except Exception as dbapi_error:
        error = dbapi_error
    if not isinstance(error, dbapi.Error):
        return error
    return exc.DBAPIError.instance(sql, args, error, dbapi.Error, connection_invalidated=lost, dialect=dialect)


def rowcount_of(status: str) -> int:
    """'UPDATE 3' -> 3, 'INSERT 0 1' -> 1."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else -1
