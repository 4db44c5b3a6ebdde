"""The simulator transport: replies kept per number for the chat page, the console, and tests."""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import TextIO

from adapters.messaging.qr_image import qr_text
from application.replies import Reply

_HISTORY = 200


@dataclass(frozen=True)
class SentMessage:
    seq: int
    to: str
    reply: Reply
    from_user: bool = False  # what the number itself wrote (kept for the chat page's history)


class SimulatorMessenger:
    """Keeps the last messages sent to each number, numbered, so a page can poll for new ones."""

    def __init__(self) -> None:
        self._seq = itertools.count(1)
        self._by_user: dict[str, deque[SentMessage]] = defaultdict(lambda: deque(maxlen=_HISTORY))
        self._changed = asyncio.Event()
        self._latest = 0

    def _next(self) -> int:
        self._latest = next(self._seq)
        return self._latest

    @property
    def latest_seq(self) -> int:
        """The number of the last message kept (0 before the first): what a page has seen when
        it read the history from the database, and a higher one means the server restarted."""
        return self._latest

    async def send(self, to: str, reply: Reply) -> None:
        self._by_user[to].append(SentMessage(self._next(), to, reply))
        self._changed.set()
        self._changed = asyncio.Event()

    def sent_to(self, to: str, after: int = 0) -> list[SentMessage]:
        return [m for m in self._by_user.get(to, ()) if m.seq > after and not m.from_user]

    def received(self, user: str, text: str) -> SentMessage:
        """Keep what USER wrote in the same numbering, so a reloaded chat page shows both sides."""
        message = SentMessage(self._next(), user, Reply(text), from_user=True)
        self._by_user[user].append(message)
        self._changed.set()
        self._changed = asyncio.Event()
        return message

    def conversation(self, user: str, after: int = 0) -> list[SentMessage]:
        """Both directions with USER after `after`, oldest first (the last 200)."""
        return [m for m in self._by_user.get(user, ()) if m.seq > after]

    def all_sent(self) -> list[SentMessage]:
        return sorted((m for msgs in self._by_user.values() for m in msgs if not m.from_user), key=lambda m: m.seq)

    async def wait_for_news(self, timeout: float) -> None:
        """Return when a message is sent, or after `timeout` seconds (for long polling)."""
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            pass


class ConsoleMessenger:
    """Prints replies to a terminal (`tokowa chat`), with the interactive parts as text and a QR
    picture in text blocks above its caption."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self._out = out

    async def send(self, to: str, reply: Reply) -> None:
        lines = [reply.text]
        if reply.image is not None:
            lines = [qr_text(reply.image.data).rstrip("\n"), reply.text]
            if reply.image.url:
                lines.append(f"  -> {reply.image.url}")
        if reply.choices:
            lines.append("")
            lines += [f"  [{c.command}] {c.title}" for c in reply.choices[:10]]
        if reply.link is not None:
            lines.append(f"  -> {reply.link.label}: {reply.link.url}")
        self._out.write("\n".join(lines) + "\n\n")
        self._out.flush()
