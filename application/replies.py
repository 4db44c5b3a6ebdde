"""What the bot says: a text that always stands on its own, plus optional interactive parts
that a capable transport renders (a list of choices, a link button), or a picture."""

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
class QrImage:
    """A picture of the QR code of `data`, drawn by the transport, with the reply's text as its
    caption. When no picture can go, the transport sends `fallback` (a whole text, with a link)
    instead of the caption. `url`: a page of the same code, when there is one (the simulator
    opens it when the picture is "scanned")."""

    data: str
    fallback: str
    url: str = ""


@dataclass(frozen=True)
class Reply:
    text: str
    choices: tuple[Choice, ...] = field(default=())
    choices_title: str = ""
    choices_button: str = ""
    link: LinkButton | None = None
    image: QrImage | None = None
    # An admin alert Meta refused outside the 24-hour window (131047, reported by a status
    # webhook): sent again as the approved alert template, its text the one parameter.
    as_template: bool = False
