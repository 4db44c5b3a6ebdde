"""The embedded default's keys: created beside the SQLite database on first run."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from entrypoints.settings import ConfigError, Settings


def sqlite_directory(url: str) -> Path:
    path = url.split("///", 1)[1] if "///" in url else ""
    return Path(path).resolve().parent if path and path != ":memory:" else Path.cwd()


def _key_file(path: Path, make: str) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(make)
    return make


def secret_key(settings: Settings) -> str:
    """TOKOWA_SECRET_KEY, or (embedded default only) the key file beside the database."""
    if settings.secret_key:
        return settings.secret_key
    if not settings.is_sqlite:
        raise ConfigError("TOKOWA_SECRET_KEY is required with PostgreSQL (a Fernet key: "
                          "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')")
    return _key_file(sqlite_directory(settings.database_url) / "tokowa.key", Fernet.generate_key().decode())


def simulator_signing_key(settings: Settings) -> str:
    """The key the payment simulator signs its notifications with (stands in for Midtrans' server key)."""
    if settings.is_sqlite:
        return _key_file(sqlite_directory(settings.database_url) / "tokowa-paysim.key", secrets.token_urlsafe(32))
    return secrets.token_urlsafe(32)
