"""A customer's conversation: numbered picks, questions waiting for a yes, everyday phrases.

The state lives in the `SessionStore` (`session:{user}`, 10 minutes from its last use). It only
ever saves the customer a retyped command: a lost session means a question asked again, and a
confirmed purchase runs under the message id of the message that asked, so its order id (the
database's primary key) lets it happen once however often "ya" is tapped.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

from application.chat import phrases
from application.chat.parser import ParsedCommand, parse
from application.ports import SessionStore
from application.replies import Reply

log = logging.getLogger("tokowa.conversation")

SESSION_TTL = 600
ANSWER_WINDOW = 120  # seconds a question waits for its yes


@dataclass
class Conversation:
    picks: list[str] = field(default_factory=list)  # the commands of the last numbered choices
    ask: str | None = None  # a command waiting for a yes
    ask_request: str | None = None  # the message that asked: the confirmed run's request id
    ask_until: float = 0.0

    def to_json(self) -> str:
        return json.dumps({"picks": self.picks, "ask": self.ask, "ask_request": self.ask_request,
                           "ask_until": self.ask_until})

    @classmethod
    def from_json(cls, raw: str | None) -> Conversation:
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
            return cls([str(p) for p in data.get("picks", [])][:20], data.get("ask"), data.get("ask_request"),
                       float(data.get("ask_until") or 0))
        except (ValueError, TypeError, AttributeError):
            return cls()


@dataclass(frozen=True)
class Turn:
    """What one plain message comes to: a command to run (maybe one the customer confirmed),
    or something to say without running anything."""

    parsed: ParsedCommand | None = None
    confirmed: bool = False
    request_id: str | None = None  # run under this message id instead of the message's own
    say: str | None = None  # a catalog key to answer with, when nothing runs
    params: dict[str, object] = field(default_factory=dict)
    phrase: phrases.Phrase | None = None  # a purchase in words: the caller finds the product


class Conversations:
    def __init__(self, sessions: SessionStore) -> None:
        self._sessions = sessions

    async def load(self, user_id: str) -> Conversation:
        return Conversation.from_json(await self._sessions.load(user_id, SESSION_TTL))

    async def understand(self, user_id: str, text: str, now: datetime) -> Turn:
        """A message that is not a command: an answer, a number, a phrase, or just chat."""
        talk = await self.load(user_id)
        waiting = talk.ask is not None and talk.ask_until >= now.timestamp()
        if waiting and phrases.is_yes(text):
            command, request = talk.ask or "", talk.ask_request
            await self._forget_question(user_id, talk)
            return Turn(parse(command), confirmed=True, request_id=request)
        if waiting and phrases.is_no(text):
            await self._forget_question(user_id, talk)
            return Turn(say="confirm.dropped")
        number = text.strip()
        if number.isascii() and number.isdigit() and talk.picks:
            index = int(number) - 1
            if 0 <= index < len(talk.picks):
                picked = talk.picks[index]
                return Turn(parse(picked)) if parse(picked) is not None else await self.understand(user_id, picked, now)
            return Turn(say="pick.out_of_range", params={"count": len(talk.picks)})
        phrase = phrases.understand(text)
        if phrase is None:
            return Turn()
        if phrase.command == "buy":
            return Turn(phrase=phrase)
        if phrase.command == "deposit":
            return Turn(ParsedCommand("deposit", (str(phrase.amount),), str(phrase.amount)))
        if phrase.command == "batal":  # cancelling a payment in words: asked first
            return Turn(say="confirm.cancel", phrase=phrase)
        return Turn(ParsedCommand(phrase.command))

    async def ask(self, user_id: str, command: str, request_id: str, now: datetime, *, choices: bool = True) -> None:
        """Remember a command that waits for a yes (2 minutes); a numbered 1 = yes, 2 = no."""
        talk = await self.load(user_id)
        talk.ask, talk.ask_request, talk.ask_until = command, request_id, now.timestamp() + ANSWER_WINDOW
        talk.picks = [] if choices else talk.picks
        await self._save(user_id, talk)

    async def shown(self, user_id: str, reply: Reply) -> None:
        """After a reply with numbered choices: a bare number picks one of them."""
        if not reply.choices:
            return
        picks = json.dumps({"picks": [choice.command for choice in reply.choices]})
        try:  # a question still waiting keeps waiting: only the picks change (one round trip)
            await self._sessions.merge(user_id, picks, SESSION_TTL)
        except Exception:  # a lost session costs a question, never the reply
            log.exception("conversation not saved")

    async def _forget_question(self, user_id: str, talk: Conversation) -> None:
        talk.ask, talk.ask_request, talk.ask_until = None, None, 0.0
        await self._save(user_id, talk)

    async def _save(self, user_id: str, talk: Conversation) -> None:
        try:
            await self._sessions.save(user_id, talk.to_json(), SESSION_TTL)
        except Exception:  # a lost session costs a question, never the reply
            log.exception("conversation not saved")
