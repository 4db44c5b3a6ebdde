"""Telling the database's failures apart: a broken rule, or a database that is out of reach."""

from __future__ import annotations

import asyncio

from sqlalchemy import exc

# Errors that mean "the database is not there right now", as opposed to a bug or a broken rule.
_TRANSIENT = (exc.OperationalError, exc.InterfaceError, exc.InternalError, exc.TimeoutError)


def is_unavailable(error: BaseException) -> bool:
    """True for lost or refused connections, timeouts and a locked SQLite file."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, (exc.IntegrityError, exc.ProgrammingError, exc.DataError)):
        return False
    if isinstance(error, _TRANSIENT):
        return True
    if isinstance(error, exc.DBAPIError):
        # asyncpg's server-side errors without a closer DBAPI class (e.g. admin shutdown)
        return _is_connection_error(error.orig)
    return isinstance(error, (OSError, asyncio.TimeoutError))


def _is_connection_error(orig: BaseException | None) -> bool:
    cause = getattr(orig, "__cause__", None) or orig
    sqlstate = getattr(cause, "sqlstate", None) or ""
    # class 08: connection exception; 57P: operator intervention (shutdown, terminated backend)
    return isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate.startswith("57P"))


def violates(error: exc.IntegrityError, *names: str) -> bool:
    """Whether the integrity error names one of these constraints, index names or columns.

    PostgreSQL reports the constraint name, SQLite the columns (`table.column`), so callers
    pass both spellings.
    """
    # SQLAlchemy's path: the adapter's error, caused by asyncpg's; the direct path: asyncpg's own.
    cause = (error.orig.__cause__ or error.orig) if error.orig is not None else None
    constraint = getattr(cause, "constraint_name", None)
    if constraint is not None and constraint in names:
        return True
    message = str(error.orig)
    return any(name in message for name in names)
