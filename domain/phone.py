"""Indonesian WhatsApp numbers, normalised to the wa_id form (`62...`)."""

from __future__ import annotations

import re

from domain.errors import InvalidPhoneNumber

_SEPARATORS = re.compile(r"[\s\-().]")


def normalize_msisdn(raw: str) -> str:
    """`08...`, `+62...` or `62...`, with spaces or dashes -> `62...`; anything else is refused."""
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("+"):
        text = text[1:]
    if text.startswith("0"):
        text = "62" + text[1:]
    if not (text.isascii() and text.isdigit() and text.startswith("628") and 10 <= len(text) <= 15):
        raise InvalidPhoneNumber(number=raw)
    return text
