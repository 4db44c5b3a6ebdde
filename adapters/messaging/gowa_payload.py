"""Reading a GOWA (go-whatsapp-web-multidevice) webhook body.

GOWA posts `{"event", "device_id", "payload"}` (its `docs/webhook-payload.md`). Only `event ==
"message"` can carry a command: `payload.body` is the text; a message with media (image, video,
audio, document, sticker, contact, location, ...) gets the short hint (`text=None`), even with
a caption. Everything else — reactions, receipts (`message.ack`), edits, revokes, deletions,
group, newsletter and call events — gets no reply.

Never executed: messages the shop's own number sent (`is_from_me`, or sent from `device_id`),
which GOWA also forwards, so an admin command typed on the shop's phone to a customer is never
run as that customer; group chats (`...@g.us`) unless groups are switched on, and then the reply
goes to the sender's private chat, never into the group.

`payload.timestamp` (RFC 3339, e.g. `2023-10-15T10:30:00Z`) becomes the message's `sent_at`; one
missing or unreadable leaves it None.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.messaging.cloud_api_payload import MalformedPayload, load_json_object
from application.chat.pipeline import IncomingMessage

USER_SERVER = "s.whatsapp.net"
GROUP_SERVER = "g.us"
MEDIA_KEYS = frozenset({
    "image", "video", "audio", "document", "sticker", "video_note", "contact", "contacts_array",
    "location", "live_location", "poll", "ptv",
})


def wa_id_of(jid: str) -> str | None:
    """`6281...@s.whatsapp.net` (or `6281...:12@s.whatsapp.net`, a device) -> `6281...`; else None."""
    user, _, server = jid.partition("@")
    number = user.split(":", 1)[0].split(".", 1)[0]
    return number if server == USER_SERVER and number.isdigit() else None


def parse_gowa(body: bytes, *, groups: bool = False) -> list[IncomingMessage]:
    """The customer messages in a GOWA webhook body (zero or one). Raises MalformedPayload."""
    data = load_json_object(body)
    event, payload = data.get("event"), data.get("payload")
    if not isinstance(event, str) or not isinstance(payload, dict):
        raise MalformedPayload("expected event and payload")
    if event != "message":
        return []
    message = _message(payload, str(data.get("device_id") or ""), groups)
    return [message] if message is not None else []


def _message(payload: dict[str, Any], device_id: str, groups: bool) -> IncomingMessage | None:
    message_id, sender_jid, chat_id = payload.get("id"), payload.get("from"), payload.get("chat_id")
    if not isinstance(message_id, str) or not message_id or not isinstance(sender_jid, str):
        return None
    if payload.get("is_from_me"):
        return None
    sender = wa_id_of(sender_jid)
    if isinstance(chat_id, str) and chat_id.endswith("@" + GROUP_SERVER):
        if not groups:
            return None
    elif sender is None and isinstance(chat_id, str):
        sender = wa_id_of(chat_id)  # `from` may be a LID; a private chat's id is the number
    if sender is None or sender == wa_id_of(device_id):
        return None
    sent_at = _rfc3339(payload.get("timestamp"))
    if any(key in payload for key in MEDIA_KEYS):
        return IncomingMessage(message_id, sender, None, sent_at=sent_at)
    text = payload.get("body")
    if not isinstance(text, str) or not text.strip():
        return None
    return IncomingMessage(message_id, sender, text, sent_at=sent_at)


def _rfc3339(value: object) -> datetime | None:
    """GOWA's timestamp as an aware UTC time (one without an offset is read as UTC)."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
