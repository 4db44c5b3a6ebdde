"""Structured logs: structlog renders every record, the standard library's included.

The code logs through `logging.getLogger(...)` with `extra={...}` (message_id, order_id, ...);
`configure_logging` routes those records through structlog's ProcessorFormatter so the extras
become fields. Two processors guard what leaves the process:

- WhatsApp numbers are masked (`6281****7890`) in every field and in the message text;
- fields named like secrets (tokens, keys, passwords, signatures, stock items) are redacted.

`TOKOWA_LOG_FORMAT=json` prints one JSON object per line; anything else, readable console lines.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from structlog.types import Processor

_NUMBER = re.compile(r"(?<!\d)(62\d{2})(\d{4,9})(\d{4})(?!\d)")
_SECRET_NAMES = frozenset({
    "token", "access_token", "admin_token", "password", "passwd", "secret", "secret_key", "server_key",
    "api_key", "key", "authorization", "signature", "signature_key", "items", "item", "stock_items",
    "contents", "content", "lines",
})
_SECRET_PARTS = ("password", "secret", "token", "api_key", "authorization")
REDACTED = "[redacted]"


def mask_number(text: str) -> str:
    """`6281234567890` -> `6281****7890`, wherever a WhatsApp number appears in the text."""
    return _NUMBER.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SECRET_NAMES or any(part in lowered for part in _SECRET_PARTS)


def redact_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Replace the value of every field named like a secret."""
    for name in list(event):
        if _is_secret(name):
            event[name] = REDACTED
    return event


def mask_numbers(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask WhatsApp numbers in every string field, the message itself included."""
    for name, value in event.items():
        if isinstance(value, str):
            event[name] = mask_number(value)
        elif isinstance(value, int) and not isinstance(value, bool) and name in ("user", "user_id", "to", "sender"):
            event[name] = mask_number(str(value))
    return event


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.format_exc_info,
        redact_secrets,
        mask_numbers,
    ]


def configure_logging(log_format: str = "console", level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Set up structlog and the root logger once, at start-up (the CLI does it)."""
    renderer: Processor = (
        structlog.processors.JSONRenderer() if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared = _shared_processors()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            mask_numbers,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_tokowa", False):
            root.removeHandler(old)
    handler._tokowa = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # One INFO line per outgoing HTTP request would drown the log (and cost time per message).
    for chatty in ("httpx", "httpcore", "alembic"):
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))
