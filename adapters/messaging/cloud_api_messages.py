"""Turning a Reply into Cloud API message objects, with every Meta limit enforced before sending.

- choices: up to 3 and no list button label -> reply buttons; otherwise an interactive list of
  at most 10 rows. More than 10 choices -> several list messages (pages "2/3", "3/3"), each with
  its own button, since one list holds 10 rows in total. A row or button id is the choice's
  command (what the customer would type), so a tap reads exactly like typing it.
- link: an interactive CTA-URL button.
- otherwise text, split at 4096 on line boundaries.
A text too long for an interactive body (1024 for buttons and CTA-URL, 4096 for lists) goes first
as plain text; the interactive message then carries a short body. Lengths are counted in UTF-16
code units, which is never fewer than the characters Meta counts.
"""

from __future__ import annotations

from typing import Any

from application.replies import Choice, Reply

TEXT_MAX = 4096
LIST_BODY_MAX = 4096
BUTTON_BODY_MAX = 1024
CTA_BODY_MAX = 1024
LIST_ROWS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
LIST_BUTTON_MAX = 20
SECTION_TITLE_MAX = 24
REPLY_BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
CTA_LABEL_MAX = 20
DEFAULT_LIST_BUTTON = "Menu"

Message = dict[str, Any]


def units(text: str) -> int:
    """Length in UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """At most `limit` units; a shortened text ends with an ellipsis."""
    if units(text) <= limit:
        return text
    out, used = [], 0
    for char in text:
        size = units(char)
        if used + size > limit - 1:
            break
        out.append(char)
        used += size
    return "".join(out) + "…"


def split_text(text: str, limit: int = TEXT_MAX) -> list[str]:
    """Chunks of at most `limit` units, cut between lines; a longer line is cut inside."""
    if units(text) <= limit:  # nearly every reply: what the loop below returns for it, without the loop
        whole = text.lstrip("\n")  # the loop drops the empty lines a text starts with
        return [whole] if whole.strip() else []
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        for piece in _hard_split(line, limit):
            candidate = piece if not current else f"{current}\n{piece}"
            if units(candidate) <= limit:
                current = candidate
            else:
                chunks.append(current)
                current = piece
    chunks.append(current)
    return [chunk for chunk in chunks if chunk.strip()]


def _hard_split(line: str, limit: int) -> list[str]:
    if units(line) <= limit:
        return [line]
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for char in line:
        size = units(char)
        if used + size > limit:
            pieces.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += size
    pieces.append("".join(current))
    return pieces


def build_messages(reply: Reply) -> list[Message]:
    """The messages that carry one reply, in order."""
    if reply.link is None and not reply.choices:
        return [_text(chunk) for chunk in split_text(reply.text)]
    messages: list[Message] = []
    body = reply.text
    if reply.link is not None:
        prefix, cta_body = _fit(body, CTA_BODY_MAX, reply.link.url)
        messages += prefix
        messages.append(_cta(cta_body, reply.link.label, reply.link.url))
        body = reply.choices_title or DEFAULT_LIST_BUTTON
    if reply.choices:
        messages += _choice_messages(reply, body)
    return messages


def _fit(body: str, limit: int, fallback: str) -> tuple[list[Message], str]:
    """Text messages to send first, and an interactive body within `limit`."""
    if body.strip() and units(body) <= limit:
        return [], body
    return [_text(chunk) for chunk in split_text(body)], clip(fallback or DEFAULT_LIST_BUTTON, limit)


def _text(body: str) -> Message:
    return {"type": "text", "text": {"body": body, "preview_url": False}}


def _cta(body: str, label: str, url: str) -> Message:
    return {"type": "interactive", "interactive": {
        "type": "cta_url",
        "body": {"text": body},
        "action": {"name": "cta_url", "parameters": {"display_text": clip(label, CTA_LABEL_MAX), "url": url}},
    }}


def _unique(choices: tuple[Choice, ...], id_limit: int) -> list[Choice]:
    """Meta refuses repeated ids in one message: keep the first of each."""
    seen: set[str] = set()
    kept = []
    for choice in choices:
        key = clip(choice.command, id_limit)
        if key not in seen:
            seen.add(key)
            kept.append(choice)
    return kept


def _choice_messages(reply: Reply, body: str) -> list[Message]:
    if len(reply.choices) <= REPLY_BUTTONS_MAX and not reply.choices_button:
        prefix, button_body = _fit(body, BUTTON_BODY_MAX, reply.choices_title)
        return [*prefix, _buttons(button_body, _unique(reply.choices, BUTTON_ID_MAX))]
    choices = _unique(reply.choices, ROW_ID_MAX)
    pages = [choices[i:i + LIST_ROWS_MAX] for i in range(0, len(choices), LIST_ROWS_MAX)]
    prefix, first_body = _fit(body, LIST_BODY_MAX, reply.choices_title)
    messages = prefix
    for number, page in enumerate(pages, 1):
        page_body = first_body if number == 1 else f"{reply.choices_title or DEFAULT_LIST_BUTTON} ({number}/{len(pages)})"
        messages.append(_list(reply, clip(page_body, LIST_BODY_MAX), page))
    return messages


def _buttons(body: str, choices: list[Choice]) -> Message:
    return {"type": "interactive", "interactive": {
        "type": "button",
        "body": {"text": body},
        "action": {"buttons": [
            {"type": "reply", "reply": {"id": clip(c.command, BUTTON_ID_MAX), "title": clip(c.title, BUTTON_TITLE_MAX)}}
            for c in choices
        ]},
    }}


def _list(reply: Reply, body: str, choices: list[Choice]) -> Message:
    rows = []
    for c in choices:
        row = {"id": clip(c.command, ROW_ID_MAX), "title": clip(c.title, ROW_TITLE_MAX)}
        if c.description:
            row["description"] = clip(c.description, ROW_DESCRIPTION_MAX)
        rows.append(row)
    section: dict[str, Any] = {"rows": rows}
    if reply.choices_title:
        section["title"] = clip(reply.choices_title.replace("*", "").strip(), SECTION_TITLE_MAX)
    interactive: dict[str, Any] = {
        "type": "list",
        "body": {"text": body},
        "action": {"button": clip(reply.choices_button or DEFAULT_LIST_BUTTON, LIST_BUTTON_MAX), "sections": [section]},
    }
    return {"type": "interactive", "interactive": interactive}
