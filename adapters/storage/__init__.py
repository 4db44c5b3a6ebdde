"""Persistence on SQLAlchemy 2 async: PostgreSQL (asyncpg) in production, SQLite (aiosqlite) embedded.

Core statements and hand-written mapping (no ORM session on the hot path); correctness comes from
the database itself: row locks, BEGIN IMMEDIATE, CHECK and unique constraints.
"""

from adapters.storage.cipher import InvalidSecretKey, StockCipher, secret_key_beside
from adapters.storage.engine import build_engine
from adapters.storage.migrate import migrate, schema_is_current
from adapters.storage.session import RetryPolicy
from adapters.storage.storage import SqlStorage
from adapters.storage.unit_of_work import SqlAlchemyUnitOfWork

__all__ = [
    "InvalidSecretKey",
    "RetryPolicy",
    "SqlAlchemyUnitOfWork",
    "SqlStorage",
    "StockCipher",
    "build_engine",
    "migrate",
    "schema_is_current",
    "secret_key_beside",
]
