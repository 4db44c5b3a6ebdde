"""Reading a WhatsApp Cloud API webhook body: the customer messages and delivery statuses in it.

Meta batches: one POST may carry several entries, each several changes, each several messages
and statuses; every one is read. Only `field == "messages"` changes carry customer messages;
other fields (echoes, calls, template and account updates, preferences) are acknowledged and
ignored. Unknown keys are ignored everywhere, so Meta may add fields freely.

What becomes an `IncomingMessage`:
- `text` -> its body; `interactive` `list_reply` / `button_reply` -> the row or button id (the
  command we put there, e.g. `.buy DEMO1` or `buy:DEMO1`); a template quick-reply `button` -> its
  payload;
- media a customer sends (image, video, audio, document, sticker, location, contacts, order,
  unsupported) -> `text=None`, so the pipeline answers with a short hint (rate-limited);
- reactions, edits, deletions (`revoke`), `system`, flow replies (`nfm_reply`) and anything
  else -> nothing: no reply is ever sent for them.

A message's `timestamp` (epoch seconds, as a string) becomes its `sent_at`; one missing or
unreadable leaves it None. Texts are cleaned by `IncomingMessage` itself (control characters
out, cut to 4096 characters).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from application.chat.pipeline import IncomingMessage

MEDIA_TYPES = frozenset({
    "image", "video", "audio", "document", "sticker", "location", "contacts", "order", "unsupported",
})


class MalformedPayload(ValueError):
    """The body is not a webhook payload (not JSON, or the wrong structure)."""


@dataclass(frozen=True)
class DeliveryStatus:
    """What Meta says about a message we sent (`sent`, `delivered`, `read`, `failed`, ...)."""

    message_id: str
    status: str
    recipient: str
    error_codes: tuple[int, ...] = ()


@dataclass(frozen=True)
class CloudApiBatch:
    messages: tuple[IncomingMessage, ...]
    statuses: tuple[DeliveryStatus, ...]
    ignored: int


def load_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or MalformedPayload."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedPayload("body is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedPayload("body is not a JSON object")
    return data


def parse_cloud_api(body: bytes) -> CloudApiBatch:
    """Every message and status of a webhook body. Raises MalformedPayload."""
    data = load_json_object(body)
    if "entry" not in data:
        raise MalformedPayload("no entry")
    messages: list[IncomingMessage] = []
    statuses: list[DeliveryStatus] = []
    ignored = 0
    for entry in _objects(data.get("entry")):
        for change in _objects(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                ignored += 1
                continue
            user_ids = _business_user_ids(value)
            for raw in _objects(value.get("messages")):
                message = _message(raw, user_ids)
                if message is None:
                    ignored += 1
                else:
                    messages.append(message)
            statuses += (_status(raw) for raw in _objects(value.get("statuses")))
    return CloudApiBatch(tuple(messages), tuple(statuses), ignored)


def _objects(value: object) -> list[dict[str, Any]]:
    """A list of JSON objects; absent reads as empty, any other shape is malformed."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise MalformedPayload("expected a list of objects")
    return value


def _business_user_ids(value: dict[str, Any]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for contact in _objects(value.get("contacts")):
        wa_id, user_id = contact.get("wa_id"), contact.get("user_id")
        if isinstance(wa_id, str) and isinstance(user_id, str) and user_id:
            ids[wa_id] = user_id
    return ids


def _message(raw: dict[str, Any], user_ids: dict[str, str]) -> IncomingMessage | None:
    message_id, sender = raw.get("id"), raw.get("from")
    if not isinstance(message_id, str) or not message_id or not isinstance(sender, str) or not sender:
        return None
    answerable, text = _content(raw)
    if not answerable:
        return None
    from_user_id = raw.get("from_user_id")
    business_user_id = user_ids.get(sender) or (from_user_id if isinstance(from_user_id, str) else None)
    return IncomingMessage(message_id, sender, text, business_user_id, _epoch_seconds(raw.get("timestamp")))


def _epoch_seconds(value: object) -> datetime | None:
    """Meta's `"1764288000"` (or a number) as an aware UTC time; None when absent or unreadable."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _content(raw: dict[str, Any]) -> tuple[bool, str | None]:
    """(True, text) for a command, (True, None) for media, (False, None) for no reply at all."""
    kind = raw.get("type")
    if kind == "text":
        return _answer(_field(raw, "text", "body"))
    if kind == "interactive":
        interactive = raw.get("interactive")
        if not isinstance(interactive, dict):
            return False, None
        reply_kind = interactive.get("type")
        if reply_kind in ("list_reply", "button_reply"):
            return _answer(_field(interactive, str(reply_kind), "id"))
        return False, None
    if kind == "button":
        return _answer(_field(raw, "button", "payload") or _field(raw, "button", "text"))
    if kind in MEDIA_TYPES:
        return True, None
    return False, None


def _answer(text: str | None) -> tuple[bool, str | None]:
    return (True, text) if text else (False, None)


def _field(obj: dict[str, Any], key: str, inner: str) -> str | None:
    part = obj.get(key)
    value = part.get(inner) if isinstance(part, dict) else None
    return value if isinstance(value, str) else None


def _status(raw: dict[str, Any]) -> DeliveryStatus:
    errors = raw.get("errors")
    codes = tuple(
        error["code"] for error in (errors if isinstance(errors, list) else ())
        if isinstance(error, dict) and isinstance(error.get("code"), int)
    )
    return DeliveryStatus(str(raw.get("id", "")), str(raw.get("status", "")), str(raw.get("recipient_id", "")), codes)
