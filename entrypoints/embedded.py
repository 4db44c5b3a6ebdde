"""The embedded default's files: a lock that says "a Tokowa process uses this database", and
backup and restore of the SQLite database together with its key file.

Every `tokowa serve`, `jobs` and `chat` on SQLite holds a shared lock on `<database>.lock` for
its lifetime (released by the kernel if the process dies); `tokowa restore` takes it exclusively,
so it refuses while any of them runs, and they refuse to start while a restore runs.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from adapters.storage.cipher import key_file_of
from entrypoints.secrets_file import sqlite_path
from entrypoints.settings import ConfigError, Settings

BACKUP_DATABASE = "tokowa.db"
BACKUP_KEY = "tokowa.key"


class DatabaseInUse(ConfigError):
    """Another Tokowa process holds the embedded database (or a restore is running)."""


def lock_file_of(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextmanager
def database_lock(database: Path, *, exclusive: bool) -> Iterator[None]:
    """Hold the database's lock file (shared: a running shop; exclusive: a restore). Raises
    DatabaseInUse at once when it is held the other way."""
    database.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock_file_of(database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            if exclusive:
                raise DatabaseInUse(f"a Tokowa process (serve, jobs or chat) is using {database}: stop it first") from None
            raise DatabaseInUse(f"{database} is being restored; start Tokowa again when the restore has finished") from None
        yield
    finally:
        os.close(descriptor)


@contextmanager
def hold_embedded_database(settings: Settings) -> Iterator[None]:
    """For the lifetime of a command on the embedded default: the shared lock (nothing on PostgreSQL)."""
    if not settings.is_sqlite:
        yield
        return
    with database_lock(sqlite_path(settings.database_url), exclusive=False):
        yield


@dataclass(frozen=True)
class BackupResult:
    database: Path
    key_file: Path | None  # None: the key is in TOKOWA_SECRET_KEY, not in the backup


def backup(settings: Settings, target: Path) -> BackupResult:
    """A consistent copy of the running shop's database (SQLite's online backup API: writers
    carry on meanwhile), and its key file, into the directory `target` (new or empty)."""
    if not settings.is_sqlite:
        raise ConfigError("`tokowa backup` copies the embedded SQLite database; for PostgreSQL use pg_dump (docs/operations.md)")
    source = sqlite_path(settings.database_url)
    if not source.exists():
        raise ConfigError(f"there is no database at {source}")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"{target} exists and is not an empty directory; choose a new one")
    target.mkdir(parents=True, exist_ok=True)
    os.chmod(target, 0o700)
    copy = target / BACKUP_DATABASE
    _copy_database(source, copy)
    key_file = None
    if not settings.secret_key and key_file_of(source).exists():
        key_file = target / BACKUP_KEY
        shutil.copyfile(key_file_of(source), key_file)
        os.chmod(key_file, 0o600)
    return BackupResult(copy, key_file)


@dataclass(frozen=True)
class RestoreResult:
    database: Path
    set_aside: list[Path]
    key_restored: bool


def restore(settings: Settings, source: Path) -> RestoreResult:
    """Put a backup made by `backup` in place of the embedded database (and its key file),
    setting the current files aside; refuses while a Tokowa process uses the database."""
    if not settings.is_sqlite:
        raise ConfigError("`tokowa restore` restores the embedded SQLite database; for PostgreSQL use pg_restore (docs/operations.md)")
    copy = source / BACKUP_DATABASE if source.is_dir() else source
    if not copy.is_file():
        raise ConfigError(f"{copy} does not exist: give the directory `tokowa backup` wrote")
    _check_integrity(copy)
    database = sqlite_path(settings.database_url)
    backup_key = copy.with_name(BACKUP_KEY)
    with database_lock(database, exclusive=True):
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        set_aside: list[Path] = []
        for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
            if path.exists():
                aside = path.with_name(f"{path.name}.before-restore-{stamp}")
                path.rename(aside)
                set_aside.append(aside)
        key_restored = False
        if backup_key.is_file():
            current_key = key_file_of(database)
            if current_key.exists() and current_key.read_text().strip() != backup_key.read_text().strip():
                aside = current_key.with_name(f"{current_key.name}.before-restore-{stamp}")
                current_key.rename(aside)
                set_aside.append(aside)
            if not current_key.exists():
                shutil.copyfile(backup_key, current_key)
                os.chmod(current_key, 0o600)
            key_restored = True
        _copy_database(copy, database)
    return RestoreResult(database, set_aside, key_restored)


def _copy_database(source: Path, target: Path) -> None:
    reader = sqlite3.connect(source, timeout=30)
    writer = sqlite3.connect(target)
    try:
        # In one step: one read transaction sees one consistent state, and in WAL mode writers
        # carry on meanwhile (copying in steps would restart at every write of a busy shop).
        reader.backup(writer)
    finally:
        writer.close()
        reader.close()
    os.chmod(target, 0o600)


def _check_integrity(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as error:
        raise ConfigError(f"{path} is not a readable SQLite database: {error}") from None
    finally:
        connection.close()
    if verdict is None or verdict[0] != "ok":
        raise ConfigError(f"{path} fails SQLite's integrity check: {verdict}")
