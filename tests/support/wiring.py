"""Adapter sets for tests: the production wiring on a given database and Redis."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet

from entrypoints.bootstrap import configured_adapters
from tests.support.shop import settings

TEST_SECRET_KEY = Fernet.generate_key().decode()


def production_adapters(database_url: str, redis_url: str | None = None, prefix: str = "", **env: Any) -> Any:
    """`ConfiguredAdapters` exactly as `tokowa serve` builds them from its environment."""
    values: dict[str, Any] = {"DATABASE_URL": database_url, "TOKOWA_SECRET_KEY": TEST_SECRET_KEY,
                              "TOKOWA_REDIS_PREFIX": prefix, "TOKOWA_DB_POOL_SIZE": 20, "TOKOWA_DB_MAX_OVERFLOW": 40,
                              "TOKOWA_DB_POOL_TIMEOUT": 30}
    if redis_url is not None:
        values["REDIS_URL"] = redis_url
    values.update(env)
    return configured_adapters(settings(**values))


async def close(adapters: Any) -> None:
    await adapters.storage().aclose()
    await adapters.coordination().aclose()
