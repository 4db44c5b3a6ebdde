"""The embedded default's keys: created beside the SQLite database on first run."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from adapters.storage.cipher import secret_key_beside
from entrypoints.settings import ConfigError, Settings


def sqlite_path(url: str) -> Path:
    path = url.split("///", 1)[1] if "///" in url else ""
    return Path(path).resolve() if path and path != ":memory:" else Path.cwd() / "tokowa.db"


def secret_key(settings: Settings) -> str:
    """TOKOWA_SECRET_KEY, or (embedded default only) the key file beside the database."""
    if settings.secret_key:
        return settings.secret_key
    if not settings.is_sqlite:
        raise ConfigError("TOKOWA_SECRET_KEY is required with PostgreSQL (a Fernet key: "
                          "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')")
    return secret_key_beside(sqlite_path(settings.database_url))


def simulator_signing_key(settings: Settings) -> str:
    """The key the payment simulator signs its notifications with (stands in for Midtrans' server key).
    Kept beside the embedded database so links survive a restart; random per process otherwise."""
    if not settings.is_sqlite:
        return secrets.token_urlsafe(32)
    key_file = sqlite_path(settings.database_url).with_suffix(".paysim.key")
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(32)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key
