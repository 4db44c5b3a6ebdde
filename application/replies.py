"""What the bot says: a text that always stands on its own, plus optional interactive parts
that a capable transport renders (a list of choices, a link button)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Choice:
    """One selectable row or button; `command` is what the customer would have typed."""

    command: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class LinkButton:
    label: str
    url: str


@dataclass(frozen=True)
class Reply:
    text: str
    choices: tuple[Choice, ...] = field(default=())
    choices_title: str = ""
    choices_button: str = ""
    link: LinkButton | None = None
