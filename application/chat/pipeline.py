"""The message pipeline: one incoming WhatsApp message in, the replies out.

Order of the seed's phases, with its flaws fixed: drop redeliveries (by message id, in the
database) -> rate limit (before any lock) -> parse -> per-user lock for write commands ->
the use case in its own unit of work -> release the lock, always -> queue the replies in the
outbox in the transaction that marks the message finished -> send them.

Processing is at least once (a worker that dies mid-message leaves it to `recover`); the
money-moving commands and the admin edits are idempotent per message id, so a second run
changes nothing. While a message runs its inbox lease is renewed, so no other worker takes up
a message that is merely slow. Every run counts; a message that keeps failing is given up after
`max_attempts` runs (a dead letter: kept, the admins alerted once, the customer told).
A `.buy`, `.deposit` or balance change processed more than `LATE_AFTER` after the customer sent
it is not executed (unless an earlier run of it already was): the customer is asked to send it
again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from application.chat.catalog import text
from application.chat.commands import WRITE_COMMANDS, ChatContext, Commands, Usage, usage_reply
from application.chat.conversation import Conversations, Turn
from application.chat.customer_commands import buy_command
from application.chat.phrases import Phrase, is_no, is_yes, matching
from application.chat.errors import error_reply
from application.chat.parser import UNKNOWN, ParsedCommand, parse
from application.errors import MessengerUnavailable, StorageUnavailable
from application.group_commit import GroupCommit
from application.leases import Sleep, kept_leased_lazily
from application.outbox import OutboxSender
from application.ports import (
    Accepted, ClaimedMessage, Clock, Gatekeeper, IncomingMessage, LockManager, QueuedMessage, RateLimiter, SessionStore,
    UnitOfWorkFactory,
)
from application.replies import Choice, Reply
from application.services import Notifier, ShopSettingsReader, forgetting_soon, profile_key
from domain.errors import DomainError, RepeatPurchase
from domain.settings import ShopSettings

__all__ = ["ChatPipeline", "IncomingMessage"]

log = logging.getLogger("tokowa.pipeline")

LOCK_TTL_MS = 30_000
INBOX_LEASE = timedelta(seconds=120)
RATE_WINDOW_S = 60
HINT_WINDOW_S = 600
MAX_ATTEMPTS = 5
LATE_AFTER = timedelta(minutes=10)
EXCERPT_LENGTH = 80


class ChatPipeline:
    def __init__(self, commands: Commands, uow_factory: UnitOfWorkFactory, settings: ShopSettingsReader,
                 limiter: RateLimiter, locks: LockManager, gate: Gatekeeper, outbox: OutboxSender, clock: Clock,
                 admins: frozenset[str], lease: timedelta = INBOX_LEASE,
                 single_statement_uow: UnitOfWorkFactory | None = None, notifier: Notifier | None = None,
                 max_attempts: int = MAX_ATTEMPTS, sleep: Sleep = asyncio.sleep,
                 sessions: SessionStore | None = None, concurrency: int | None = None,
                 group_accepts: bool = True) -> None:
        """`concurrency`: how many messages run at once up to their queued replies (None or 0: no
        limit); the others wait their turn, leased, first come first served. Sending is outside
        the limit (it waits on the network, not on this process).

        `group_accepts`: accepts arriving while one is in flight are stored together (one
        statement for N webhooks). Under saturation (64 clients, one worker) it saves ~10% CPU
        per purchase. The messages of a group then start processing at the same instant and
        their Gatekeeper calls wait behind each other's Python on the loop; that no longer
        fails them open since the Redis adapters' timeout lets the loop read what has arrived first
        (before: 24 vs 2 failed open per ~1,200 purchases in one run)."""
        self._commands, self._uow_factory, self._settings = commands, uow_factory, settings
        # Accepting a message and queueing its one reply are one atomic repository call each.
        self._single = single_statement_uow or uow_factory
        self._lease, self._max_attempts, self._sleep = lease, max_attempts, sleep
        self._reads = commands.uc.reads
        self._limiter, self._locks, self._gate, self._outbox, self._clock = limiter, locks, gate, outbox, clock
        self._admins, self._notifier = admins, notifier
        self._talk = Conversations(sessions or _ForgetfulSessions())
        # Accepts arriving while one is in flight go together in the next step (see `group_accepts`).
        self._accepts = GroupCommit(self._accept_all) if group_accepts else None
        # So do the single replies (each finishing its message) queued while one is in flight.
        self._replies = GroupCommit(self._queue_replies)
        # Messages whose sender had messages held when they were accepted (see `_release_held`).
        self._holding: set[str] = set()
        self._turns: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Semaphore(concurrency) if concurrency else contextlib.nullcontext())

    async def handle(self, message: IncomingMessage) -> list[Reply]:
        """Accept and process one message; returns the replies sent."""
        try:
            first = await self.accept(message)
        except StorageUnavailable:
            # Not even stored: nothing will process it, the customer has to send it again.
            return await self._send_directly(message, Reply(text("error.system", await self._language())))
        return await self.process(message) if first else []

    async def accept(self, message: IncomingMessage) -> bool:
        """Store the message in the durable inbox, leased to this process (and the sender as a
        customer); False for a redelivery. Webhooks answer once this returns: should the process
        die before the message is finished, the lease runs out and `recover` takes it up. With
        `group_accepts`, accepts arriving while another is in flight are stored together in the
        next step; each still learns its own outcome, and a database outage fails each of them."""
        now = self._clock.now()
        arrival = (message, now, now + self._lease)
        accepted = await self._accepts(arrival) if self._accepts else (await self._accept_all([arrival]))[0]
        if accepted.held:  # almost never: the same step told us, so no statement per message to ask
            self._holding.add(message.message_id)
        return accepted.first

    async def process(self, message: IncomingMessage, *, rerun: bool = False) -> list[Reply]:
        """Run an accepted message; its replies are queued in the outbox in the same transaction
        that finishes the message, then sent. `rerun`: a dead worker may have run it before.

        With the database failing midway the message stays unfinished, whatever had committed
        already: the lease runs out and a re-run answers with the real outcome (the effects
        are idempotent per message id). The customer is told so on the first run."""
        if message.message_id in self._holding:
            self._holding.discard(message.message_id)
            await self._release_held(message.sender)
        try:
            async with kept_leased_lazily(lambda: self._renew(message.message_id), self._lease, sleep=self._sleep):
                async with self._turns:
                    replies = await self._process(message, rerun)
                    queued = await self._queue(message, replies)
        except StorageUnavailable:
            log.error("database unavailable; the message will be processed again",
                      extra={"message_id": message.message_id})
            if rerun:
                return []
            return await self._send_directly(message, Reply(text("error.system_pending", await self._language())))
        await self._outbox.deliver(queued)
        return replies

    async def recover(self, limit: int = 50) -> int:
        """Process messages whose worker died before finishing them (one sender's in order);
        give up on those that have had `max_attempts` runs already."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            stale = await uow.inbox.claim_stale(now, now + self._lease, limit)
            await uow.commit()
        for claimed in stale:
            message = claimed.message
            try:
                if claimed.attempts > self._max_attempts:
                    await self._dead_letter(claimed)
                    continue
                log.warning("processing a message left unfinished",
                            extra={"message_id": message.message_id, "attempt": claimed.attempts})
                await self.process(message, rerun=True)
            except Exception:
                # One failing message must not keep the others (claimed with it) waiting forever.
                log.exception("processing a message failed", extra={"message_id": message.message_id})
        return len(stale)

    async def _accept_all(self, arrivals: list[tuple[IncomingMessage, datetime, datetime]]) -> list[Accepted]:
        """Messages accepted together (those that arrived while another accept was in flight):
        one unit of work, one statement on PostgreSQL."""
        async with self._single() as uow:
            accepted = await uow.inbox.accept_all(arrivals)
            await uow.commit()
        return accepted

    async def _queue_replies(self, replies: list[tuple[str, Reply, str | None, datetime]]) -> list[QueuedMessage]:
        """Single replies of several messages queued together, each finishing its message: one
        unit of work, one statement on PostgreSQL."""
        async with self._single() as uow:
            queued = await self._outbox.queue_all(uow, replies)
            await uow.commit()
        return queued

    async def _release_held(self, sender: str) -> None:
        """The sender wrote, so WhatsApp lets free-form messages reach them again for 24 hours:
        what the outbox held for them (refused outside that window) goes first, in order. Asked
        only when the step that accepted the message found some held (one statement fewer per
        message). A message held after that step is not released by this one: its refusal came
        after they wrote, so the outbox retries it as usual (`recipient_wrote_since_queued`), or
        the sender's next message releases it."""
        try:
            await self._outbox.release_held(sender, self._single)
        except StorageUnavailable:
            log.error("held messages not released; they go with the sender's next message")

    async def _queue(self, message: IncomingMessage, replies: list[Reply]) -> list[QueuedMessage]:
        if len(replies) == 1:  # the usual case: grouped with the replies of other messages queued meanwhile
            return [await self._replies((message.sender, replies[0], message.message_id, self._clock.now()))]
        async with (self._uow_factory if replies else self._single)() as uow:
            # The first reply marks the message finished; with no reply, the message itself.
            queued = [await self._outbox.queue(uow, message.sender, reply, finishes=None if n else message.message_id)
                      for n, reply in enumerate(replies)]
            if not replies:
                await uow.inbox.finish(message.message_id, self._clock.now())
            await uow.commit()
        return queued

    async def _renew(self, message_id: str) -> bool:
        async with self._single() as uow:
            renewed = await uow.inbox.renew(message_id, self._clock.now() + self._lease)
            await uow.commit()
        return renewed

    async def _dead_letter(self, claimed: ClaimedMessage) -> None:
        """Give the message up: kept as a dead letter, the admins alerted and the customer told,
        in one transaction (so exactly once)."""
        message, runs = claimed.message, claimed.attempts - 1
        log.error("message given up after %d runs", runs, extra={"message_id": message.message_id})
        lang = await self._language_of(message.sender)
        excerpt = (message.text or "(media)")[:EXCERPT_LENGTH]
        async with self._uow_factory() as uow:
            if not await uow.inbox.dead_letter(message.message_id, self._clock.now()):
                return
            queued = [await self._outbox.queue(uow, message.sender, Reply(text("error.dead_letter", lang)))]
            if self._notifier is not None:
                queued += await self._notifier.queue_alert(
                    uow, "alert.dead_letter", subject=message.message_id, message_id=message.message_id,
                    sender=message.sender, runs=runs, excerpt=excerpt)
            await uow.commit()
        await self._outbox.deliver(queued)

    async def _send_directly(self, message: IncomingMessage, reply: Reply) -> list[Reply]:
        """With the database down there is no outbox: tell the customer straight away (best effort)."""
        try:
            await self._outbox.send_once(message.sender, reply)
        except MessengerUnavailable:
            log.warning("reply not sent", extra={"message_id": message.message_id})
        return [reply]

    async def _process(self, message: IncomingMessage, rerun: bool) -> list[Reply]:
        shop = await self._settings.get()
        admin = message.sender in self._admins
        now = self._clock.now()
        parsed = parse(message.text) if message.text is not None else None
        if parsed is not None and parsed.admin_only and not admin:
            parsed = ParsedCommand(UNKNOWN)
        turn = Turn(parsed, request_id=message.message_id)
        if message.text is not None and (parsed is None or (parsed.name == UNKNOWN and is_answer(message.text))):
            # Plain chat: an answer to a question, a numbered pick, an everyday phrase, or just talk.
            turn = await self._talk.understand(message.sender, message.text, now)
            parsed = turn.parsed
        locking = parsed is not None and parsed.name in WRITE_COMMANDS
        # Rate limit (never for admins; before any lock), the per-user lock of a write command and
        # the customer's cached profile: one step (one Redis round trip).
        rate_key = f"ratelimit:{message.sender}:{parsed.name}" if parsed is not None and not admin else None
        with forgetting_soon() as forget:
            gate = await self._gate.admit(
                rate_key=rate_key, limit=self._limit_of(parsed.name if parsed else "", shop), window_seconds=RATE_WINDOW_S,
                lock_key=f"lock:{parsed.name}:{message.sender}" if parsed is not None and locking else None,
                lock_ttl_ms=LOCK_TTL_MS, peek=profile_key(message.sender))
            try:
                profile = await self._reads.profile_peeked(message.sender, gate.peeked)
                too_late = message.sent_at is not None and self._clock.now() - message.sent_at > LATE_AFTER
                ctx = ChatContext(message.sender, profile.language or shop.language, shop, admin,
                                  turn.request_id or message.message_id, rerun or turn.confirmed, profile.tier,
                                  confirmed=turn.confirmed, too_late=too_late)
                if message.text is None:
                    return await self._hint(ctx, "media", "error.unsupported_media")
                if parsed is None:
                    replies = await self._answer(ctx, turn, message.message_id, now)
                    for reply in replies:
                        await self._talk.shown(message.sender, reply)
                    return replies
                if not gate.rate.allowed:
                    if not gate.rate.warn:
                        return []
                    return [Reply(ctx.t("error.rate_limited", seconds=gate.rate.retry_after or RATE_WINDOW_S))]
                if parsed.name == UNKNOWN:
                    return [Reply(ctx.t("error.unknown_command"))]
                if locking and gate.lock is None:
                    return [Reply(ctx.t("error.busy"))]
                if parsed.name == "buy" and shop.confirm_purchases and not turn.confirmed:
                    reply, asked = await self._ask_to_buy(ctx, parsed, message.message_id, now), True
                else:
                    reply, asked = await self._run(parsed, ctx, message.message_id, now)
                if asked and rate_key is not None:
                    await self._limiter.forgive(rate_key)  # a refusal or a question counts no attempt
                await self._talk.shown(message.sender, reply)
                return [reply] if reply.text else []  # a command may choose silence (`.admin` over its limit)
            finally:
                # The lock released and the caches the command changed dropped (`forget`: a purchase
                # paid with saldo), one round trip, before the reply is queued: whoever reads the
                # reply and asks again finds no stale balance or stock.
                if gate.lock is not None or forget:
                    await self._gate.finish(gate.lock, forget)

    async def _run(self, parsed: ParsedCommand, ctx: ChatContext, message_id: str,
                   now: datetime) -> tuple[Reply, bool]:
        """The command's reply, and whether it did nothing (refused, or only asked a question)."""
        try:
            return await self._commands.run(parsed, ctx), False
        except Usage as usage:
            return usage_reply(usage.command, ctx.lang, await self._example_code()), True
        except RepeatPurchase as repeat:
            # A double tap: nothing was bought; a yes within 2 minutes buys again, once.
            await self._talk.ask(ctx.user_id, _command_text(parsed), message_id, now)
            return _yes_or_no(error_reply(repeat, ctx.lang, ctx.shop), ctx), True
        except DomainError as refused:
            return error_reply(refused, ctx.lang, ctx.shop), True

    async def _answer(self, ctx: ChatContext, turn: Turn, message_id: str, now: datetime) -> list[Reply]:
        """Plain chat that runs no command: a question asked or answered, or a hint."""
        if turn.phrase is not None and turn.phrase.command == "buy":
            return [await self._buy_in_words(ctx, turn.phrase, message_id, now)]
        if turn.say == "confirm.cancel":
            await self._talk.ask(ctx.user_id, ".batal", message_id, now)
            return [_yes_or_no(Reply(ctx.t("confirm.cancel")), ctx)]
        if turn.say is not None:
            return [Reply(ctx.t(turn.say, **turn.params))]
        return await self._chat(ctx)

    async def _buy_in_words(self, ctx: ChatContext, phrase: Phrase, message_id: str, now: datetime) -> Reply:
        """A purchase named in words never buys: one product found is a question, several are
        numbered choices (each a question again), none points to the catalogue."""
        found = matching(phrase.words, [p for p in await self._reads.products() if p.active])
        if not found:
            return Reply(ctx.t("phrase.no_match", words=phrase.words))
        if len(found) == 1:
            command = ParsedCommand("buy", (found[0].code, str(phrase.qty)), f"{found[0].code} {phrase.qty}")
            return await self._ask_to_buy(ctx, command, message_id, now)
        # Each choice is the phrase again with the exact code: picking one asks, it does not buy.
        choices = tuple(Choice(f"beli {p.code} {phrase.qty}", f"{p.code} {p.name}", str(p.price_for(ctx.tier)))
                        for p in found[:10])
        rows = [ctx.t("phrase.choice_row", n=n, code=p.code, name=p.name, price=p.price_for(ctx.tier))
                for n, p in enumerate(found[:10], 1)]
        return Reply("\n".join([ctx.t("phrase.which", words=phrase.words), *rows]), choices=choices,
                     choices_title=ctx.t("phrase.which_title"), choices_button=ctx.t("products.button"))

    async def _ask_to_buy(self, ctx: ChatContext, parsed: ParsedCommand, message_id: str, now: datetime) -> Reply:
        """Show what a `.buy` would do (product, quantity, the customer's price, method, saldo
        after) and wait for a yes."""
        try:
            quote = await self._commands.uc.buy.quote(buy_command(parsed, ctx))
        except Usage as usage:
            return usage_reply(usage.command, ctx.lang, await self._example_code())
        except DomainError as refused:
            return error_reply(refused, ctx.lang, ctx.shop)
        await self._talk.ask(ctx.user_id, _command_text(parsed), message_id, now)
        method = ctx.t("confirm.by_saldo") if quote.by_saldo else ctx.t("confirm.by_link")
        after = ctx.t("confirm.saldo_after", balance=quote.balance_after) if quote.by_saldo else ""
        body = ctx.t("confirm.buy", qty=quote.qty, name=quote.product.name, code=quote.product.code,
                     total=quote.total, method=method, after=after)
        return _yes_or_no(Reply(body), ctx)

    async def _chat(self, ctx: ChatContext) -> list[Reply]:
        """Talk that means nothing we know: the menu when the conversation was quiet for 10
        minutes (never silence on a first message), then a short hint at most once a minute."""
        if (await self._limiter.hit(f"hint:menu:{ctx.user_id}", 1, HINT_WINDOW_S)).allowed:
            return [await self._commands.run(ParsedCommand("menu"), ctx)]
        if (await self._limiter.hit(f"hint:short:{ctx.user_id}", 1, RATE_WINDOW_S)).allowed:
            return [Reply(ctx.t("hint.short"))]
        return []

    async def _example_code(self) -> str:
        """A product code of this shop for usage examples (from the cached list)."""
        products = await self._reads.products()
        in_stock = [p.code for p in products if p.stock > 0]
        return (in_stock or [p.code for p in products] or ["KODE"])[0]

    async def _hint(self, ctx: ChatContext, kind: str, key: str | None) -> list[Reply]:
        """Plain chat gets the menu, media a short hint: at most once per 10 minutes per user."""
        decision = await self._limiter.hit(f"hint:{kind}:{ctx.user_id}", 1, HINT_WINDOW_S)
        if not decision.allowed:
            return []
        if key is None:
            return [await self._commands.run(ParsedCommand("menu"), ctx)]
        return [Reply(ctx.t(key))]

    async def _language(self) -> str:
        try:
            return (await self._settings.get()).language
        except StorageUnavailable:
            return self._settings.default_language

    async def _language_of(self, user_id: str) -> str:
        try:
            return (await self._reads.profile(user_id)).language or await self._language()
        except StorageUnavailable:
            return self._settings.default_language

    @staticmethod
    def _limit_of(command: str, shop: ShopSettings) -> int:
        return shop.buy_rate_limit_per_minute if command == "buy" else shop.rate_limit_per_minute


def is_answer(text: str) -> bool:
    """`.ya` and `.batal`-like answers typed with a prefix still answer a question."""
    return is_yes(text) or is_no(text)


def _command_text(parsed: ParsedCommand) -> str:
    return f".{parsed.name} {parsed.rest}".strip()


def _yes_or_no(reply: Reply, ctx: ChatContext) -> Reply:
    """A question with its two answers as buttons (numbered 1 and 2 on text transports)."""
    return Reply(reply.text, choices=(Choice("ya", ctx.t("confirm.yes")), Choice("batal", ctx.t("confirm.no"))))


class _ForgetfulSessions:
    """No session store given: every question is forgotten (tests that need none)."""

    async def load(self, user_id: str, ttl_seconds: int) -> str | None:
        return None

    async def save(self, user_id: str, state: str, ttl_seconds: int) -> None:
        return None

    async def merge(self, user_id: str, fields: str, ttl_seconds: int) -> None:
        return None

    async def drop(self, user_id: str) -> None:
        return None
