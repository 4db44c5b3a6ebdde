"""Stock items (account passwords, voucher codes) encrypted at rest.

Contents are Fernet tokens in the database; a keyed hash (HMAC-SHA256) lets the database refuse
duplicates without ever seeing the plain text. Contents are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class InvalidSecretKey(ValueError):
    """TOKOWA_SECRET_KEY is not a url-safe base64 string of 32 bytes."""


class StockCipher:
    """Encrypts, decrypts and fingerprints stock item contents with one secret key."""

    def __init__(self, key: str | bytes) -> None:
        raw_key = key.encode() if isinstance(key, str) else key
        try:
            decoded = base64.urlsafe_b64decode(raw_key)
        except (ValueError, TypeError) as error:
            raise InvalidSecretKey("TOKOWA_SECRET_KEY is not url-safe base64") from error
        if len(decoded) != 32:
            raise InvalidSecretKey("TOKOWA_SECRET_KEY must decode to 32 bytes")
        self._fernet = Fernet(raw_key)
        # A separate key for hashing, so the hash reveals nothing about the encryption key.
        self._hash_key = hmac.new(decoded, b"tokowa stock item hash", hashlib.sha256).digest()

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, content: str) -> str:
        return self._fernet.encrypt(content.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as error:
            raise InvalidSecretKey("a stock item does not decrypt with TOKOWA_SECRET_KEY") from error

    def fingerprint(self, content: str) -> str:
        return hmac.new(self._hash_key, content.encode(), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "StockCipher(<secret>)"


def secret_key_beside(database: Path) -> str:
    """The embedded default's key: read from `<database stem>.key` beside the SQLite file, or
    created there (owner-only) on first run. Losing this file makes stored items unreadable."""
    key_file = database.with_suffix(".key")
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = StockCipher.generate_key()
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key
