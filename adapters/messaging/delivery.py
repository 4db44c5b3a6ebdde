"""What both real transports share when sending: bounded retries with exponential backoff, and
per-recipient pacing (one send at a time to a number, a minimum gap between two).

Meta allows about one message per 6 s to one user, with bursts; past that it answers error
131056 and asks for a 4^n s backoff. A reply is rarely more than a few messages, so a short
gap plus the retry on 131056 keeps a customer's chat in order without stalling the others."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import aiohttp
import httpx

from application.errors import MessengerUnavailable, RecipientOutsideWindow

log = logging.getLogger("tokowa.whatsapp")

Sleep = Callable[[float], Awaitable[None]]


class Refused(MessengerUnavailable):
    """The transport refused the message for good (a 4xx it does not ask to retry)."""


class OutsideWindow(Refused, RecipientOutsideWindow):
    """The recipient has not written for 24 hours (Cloud API 131047): only a template goes."""


class Verdict(enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    REFUSED = "refused"
    OUTSIDE_WINDOW = "outside_window"


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` sends at most; waits base, base*factor, base*factor^2, ... capped at max_delay."""

    attempts: int = 4
    base: float = 1.0
    factor: float = 4.0
    max_delay: float = 30.0

    def delay(self, retry: int) -> float:
        return float(min(self.base * self.factor**retry, self.max_delay))


class Answer(Protocol):
    """An HTTP response as the retry loop reads it (httpx's, or the Cloud API client's `HttpAnswer`)."""

    @property
    def status_code(self) -> int: ...


A = TypeVar("A", bound=Answer)

# Network failures of either HTTP client: the connection refused or reset, a timeout.
NETWORK_ERRORS = (httpx.TransportError, aiohttp.ClientError, asyncio.TimeoutError)


async def send_with_retries(post: Callable[[], Awaitable[A]], judge: Callable[[A], Verdict],
                            policy: RetryPolicy, sleep: Sleep, transport: str) -> A:
    """POST until sent; retry what `judge` calls transient and network errors; else
    MessengerUnavailable (Refused when the transport said no for good)."""
    for attempt in range(policy.attempts):
        last = attempt == policy.attempts - 1
        try:
            response = await post()
        except NETWORK_ERRORS as exc:
            log.warning("%s send failed: %s", transport, type(exc).__name__)
            if last:
                raise MessengerUnavailable(f"{transport}: {type(exc).__name__}") from None
            await sleep(policy.delay(attempt))
            continue
        verdict = judge(response)
        if verdict is Verdict.SENT:
            return response
        if verdict is Verdict.REFUSED:
            raise Refused(f"{transport}: HTTP {response.status_code}")
        if verdict is Verdict.OUTSIDE_WINDOW:
            raise OutsideWindow(f"{transport}: outside the 24-hour window")
        if last:
            raise MessengerUnavailable(f"{transport}: HTTP {response.status_code}")
        await sleep(policy.delay(attempt))
    raise MessengerUnavailable(f"{transport}: no attempt made")


@dataclass
class _Slot:
    lock: asyncio.Lock
    last: float | None = None
    users: int = 0


class RecipientPacer:
    """One send at a time per recipient, at least `interval` seconds between two sends."""

    def __init__(self, interval: float, sleep: Sleep = asyncio.sleep,
                 monotonic: Callable[[], float] = time.monotonic, max_tracked: int = 10_000) -> None:
        self._interval, self._sleep, self._monotonic = interval, sleep, monotonic
        self._max_tracked = max_tracked
        self._slots: dict[str, _Slot] = {}

    def turn(self, to: str) -> _Turn:
        """`async with pacer.turn(to):` the send to `to` (a plain object, not a generator-based
        context manager: this runs for every message sent)."""
        slot = self._slots.get(to)
        if slot is None:
            self._prune()
            slot = self._slots[to] = _Slot(asyncio.Lock())
        return _Turn(self, slot)

    def _prune(self) -> None:
        """Forget idle recipients once many are tracked (memory stays bounded)."""
        if len(self._slots) < self._max_tracked:
            return
        now = self._monotonic()
        for to in [to for to, s in self._slots.items()
                   if s.users == 0 and (s.last is None or now - s.last >= self._interval)]:
            del self._slots[to]


class _Turn:
    """A recipient's slot held: its lock, then the rest of the gap since its last send."""

    __slots__ = ("_pacer", "_slot")

    def __init__(self, pacer: RecipientPacer, slot: _Slot) -> None:
        self._pacer, self._slot = pacer, slot

    async def __aenter__(self) -> None:
        slot, pacer = self._slot, self._pacer
        slot.users += 1  # in use (waiting included): `_prune` keeps it
        try:
            await slot.lock.acquire()
        except BaseException:
            slot.users -= 1
            raise
        try:
            if slot.last is not None:
                wait = slot.last + pacer._interval - pacer._monotonic()
                if wait > 0:
                    await pacer._sleep(wait)
        except BaseException:
            slot.lock.release()
            slot.users -= 1
            raise

    async def __aexit__(self, *_: object) -> None:
        slot = self._slot
        slot.last = self._pacer._monotonic()
        slot.lock.release()
        slot.users -= 1


def masked(number: str) -> str:
    """A number for the logs: enough to tell customers apart, not enough to text them."""
    return f"…{number[-4:]}" if len(number) > 4 else "…"
