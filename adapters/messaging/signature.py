"""`X-Hub-Signature-256` checks: HMAC-SHA256 over the raw request body, hex, `sha256=` prefix.

Meta's Cloud API and GOWA sign their webhooks the same way. The check fails closed: no secret,
no header, a wrong prefix or a wrong digest all read as "not signed by the provider"."""

from __future__ import annotations

import hashlib
import hmac

_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value a provider holding `secret` sends with `body`."""
    return _PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str | None, body: bytes, header: str | None) -> bool:
    """True only when `header` is the signature of `body` with `secret` (constant-time compare)."""
    if not secret or not header:
        return False
    received = header.strip()
    if received[: len(_PREFIX)].lower() != _PREFIX:
        return False
    expected = sign(secret, body)[len(_PREFIX):]
    return hmac.compare_digest(expected.encode("ascii"), received[len(_PREFIX):].lower().encode("ascii", "replace"))
