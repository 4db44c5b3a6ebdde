"""Secrets at rest: stock items, message bodies and outgoing messages, encrypted with Fernet.

`TOKOWA_SECRET_KEY` holds one key or several, comma-separated: the first encrypts, every one
decrypts (`MultiFernet`), so a new key can be put in front while `tokowa rotate-key` re-encrypts
what the old ones wrote. A keyed hash (HMAC-SHA256, under a key derived from the first key) lets
the database refuse duplicate stock items without ever seeing the plain text. Contents are never
logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


# json.dumps(value, separators=(",", ":"), ensure_ascii=False), its encoder built once (a message body each time).
_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class InvalidSecretKey(ValueError):
    """TOKOWA_SECRET_KEY is not a list of url-safe base64 strings of 32 bytes, or a stored
    value does not decrypt with any of them."""


def _decoded(key: str) -> bytes:
    try:
        decoded = base64.urlsafe_b64decode(key.encode())
    except (ValueError, TypeError) as error:
        raise InvalidSecretKey("TOKOWA_SECRET_KEY is not url-safe base64") from error
    if len(decoded) != 32:
        raise InvalidSecretKey("TOKOWA_SECRET_KEY must decode to 32 bytes (each key, when several are given)")
    return decoded


def _hash_key(decoded: bytes) -> bytes:
    # A separate key for hashing, so the hash reveals nothing about the encryption key.
    return hmac.new(decoded, b"tokowa stock item hash", hashlib.sha256).digest()


class StockCipher:
    """Encrypts, decrypts and fingerprints secrets with the configured keys (first one current)."""

    def __init__(self, key: str | bytes) -> None:
        text = key.decode() if isinstance(key, bytes) else key
        keys = [part.strip() for part in text.split(",") if part.strip()]
        if not keys:
            raise InvalidSecretKey("TOKOWA_SECRET_KEY is empty")
        decoded = [_decoded(k) for k in keys]
        self._fernets = [Fernet(k.encode()) for k in keys]
        self._current = self._fernets[0]
        self._multi = MultiFernet(self._fernets)
        self._hash_keys = [_hash_key(d) for d in decoded]

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    @property
    def key_count(self) -> int:
        return len(self._fernets)

    def encrypt(self, content: str) -> str:
        return self._current.encrypt(content.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._multi.decrypt(token.encode()).decode()
        except InvalidToken as error:
            raise InvalidSecretKey("a stored secret does not decrypt with any key of TOKOWA_SECRET_KEY") from error

    def readable(self, token: str) -> bool:
        """Whether some configured key decrypts `token`."""
        try:
            self._multi.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def is_current(self, token: str) -> bool:
        """Whether `token` was written with the first (current) key."""
        try:
            self._current.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """`token` re-encrypted under the first key. Raises InvalidSecretKey when no key reads it."""
        try:
            return self._multi.rotate(token.encode()).decode()
        except InvalidToken as error:
            raise InvalidSecretKey("a stored secret does not decrypt with any key of TOKOWA_SECRET_KEY") from error

    def seal(self, value: Any) -> str:
        """Any JSON value, encrypted (message bodies, outgoing messages)."""
        return self.encrypt(_compact(value))

    def unseal(self, token: str) -> Any:
        return json.loads(self.decrypt(token))

    def fingerprint(self, content: str) -> str:
        """The keyed hash of a stock item under the current key."""
        return hmac.new(self._hash_keys[0], content.encode(), hashlib.sha256).hexdigest()

    def fingerprints(self, content: str) -> list[str]:
        """Its hash under every configured key (items stored before a rotation finished)."""
        return [hmac.new(k, content.encode(), hashlib.sha256).hexdigest() for k in self._hash_keys]

    def __repr__(self) -> str:
        return f"StockCipher(<{len(self._fernets)} secret key(s)>)"


def secret_key_beside(database: Path) -> str:
    """The embedded default's key: read from `<database stem>.key` beside the SQLite file, or
    created there (owner-only) on first run. Losing this file makes stored items unreadable.
    The file may hold several comma-separated keys, like TOKOWA_SECRET_KEY."""
    key_file = key_file_of(database)
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = StockCipher.generate_key()
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key


def key_file_of(database: Path) -> Path:
    return database.with_suffix(".key")
