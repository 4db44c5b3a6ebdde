"""The message pipeline: one incoming WhatsApp message in, the replies out.

Order of the seed's phases, with its flaws fixed: drop redeliveries (by message id, in the
database) -> rate limit (before any lock) -> parse -> per-user lock for write commands ->
the use case in its own unit of work -> release the lock, always -> queue the replies in the
outbox in the transaction that marks the message finished -> send them.

Processing is at least once (a worker that dies mid-message leaves it to `recover`); the
money-moving commands are idempotent per message id, so a second run changes nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from application.chat.catalog import text
from application.chat.commands import WRITE_COMMANDS, ChatContext, Commands, Usage, usage_reply
from application.chat.errors import error_reply
from application.chat.parser import UNKNOWN, ParsedCommand, parse
from application.errors import MessengerUnavailable, StorageUnavailable
from application.outbox import OutboxSender
from application.ports import Clock, Gatekeeper, IncomingMessage, LockManager, RateLimiter, UnitOfWorkFactory
from application.replies import Reply
from application.services import ShopSettingsReader, profile_key
from domain.errors import DomainError
from domain.settings import ShopSettings

__all__ = ["ChatPipeline", "IncomingMessage"]

log = logging.getLogger("tokowa.pipeline")

LOCK_TTL_MS = 30_000
INBOX_LEASE = timedelta(seconds=120)
RATE_WINDOW_S = 60
HINT_WINDOW_S = 600


class ChatPipeline:
    def __init__(self, commands: Commands, uow_factory: UnitOfWorkFactory, settings: ShopSettingsReader,
                 limiter: RateLimiter, locks: LockManager, gate: Gatekeeper, outbox: OutboxSender, clock: Clock,
                 admins: frozenset[str], lease: timedelta = INBOX_LEASE,
                 single_statement_uow: UnitOfWorkFactory | None = None) -> None:
        self._commands, self._uow_factory, self._settings = commands, uow_factory, settings
        # Accepting a message and queueing its one reply are one atomic repository call each.
        self._single = single_statement_uow or uow_factory
        self._lease = lease
        self._reads = commands.uc.reads
        self._limiter, self._locks, self._gate, self._outbox, self._clock = limiter, locks, gate, outbox, clock
        self._admins = admins

    async def handle(self, message: IncomingMessage) -> list[Reply]:
        """Accept and process one message; returns the replies sent."""
        try:
            first = await self.accept(message)
        except StorageUnavailable:
            return await self._send_directly(message, [Reply(text("error.system", await self._language()))])
        return await self.process(message) if first else []

    async def accept(self, message: IncomingMessage) -> bool:
        """Store the message in the durable inbox, leased to this process (and the sender as a
        customer); False for a redelivery. Webhooks answer once this returns: should the process
        die before the message is finished, the lease runs out and `recover` takes it up."""
        now = self._clock.now()
        async with self._single() as uow:
            first = await uow.inbox.record(message, now, now + self._lease)
            await uow.commit()
        return first

    async def process(self, message: IncomingMessage, *, rerun: bool = False) -> list[Reply]:
        """Run an accepted message; its replies are queued in the outbox in the same transaction
        that finishes the message, then sent. `rerun`: a dead worker may have run it before."""
        try:
            replies = await self._process(message, rerun)
        except StorageUnavailable:
            log.error("database unavailable", extra={"message_id": message.message_id})
            return await self._send_directly(message, [Reply(text("error.system", await self._language()))])
        try:
            async with (self._single if len(replies) == 1 else self._uow_factory)() as uow:
                # The first reply marks the message finished; with no reply, the message itself.
                queued = [await self._outbox.queue(uow, message.sender, reply,
                                                   finishes=None if n else message.message_id)
                          for n, reply in enumerate(replies)]
                if not replies:
                    await uow.inbox.finish(message.message_id, self._clock.now())
                await uow.commit()
        except StorageUnavailable:
            log.error("replies not queued; the message will be processed again", extra={"message_id": message.message_id})
            return []
        await self._outbox.deliver(queued)
        return replies

    async def recover(self, limit: int = 50) -> int:
        """Process messages whose worker died before finishing them (one sender's in order)."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            stale = await uow.inbox.claim_stale(now, now + self._lease, limit)
            await uow.commit()
        for message in stale:
            log.warning("processing a message left unfinished", extra={"message_id": message.message_id})
            try:
                await self.process(message, rerun=True)
            except Exception:
                # One failing message must not keep the others (claimed with it) waiting forever.
                log.exception("processing a message failed", extra={"message_id": message.message_id})
        return len(stale)

    async def _send_directly(self, message: IncomingMessage, replies: list[Reply]) -> list[Reply]:
        """With the database down there is no outbox: tell the customer straight away (best effort)."""
        try:
            async with self._uow_factory() as uow:
                await uow.inbox.finish(message.message_id, self._clock.now())
                await uow.commit()
        except StorageUnavailable:
            pass  # the message stays leased; when the database is back it is processed after all
        for reply in replies:
            try:
                await self._outbox.send_once(message.sender, reply)
            except MessengerUnavailable:
                log.warning("reply not sent", extra={"message_id": message.message_id})
        return replies

    async def _process(self, message: IncomingMessage, rerun: bool) -> list[Reply]:
        shop = await self._settings.get()
        admin = message.sender in self._admins
        parsed = parse(message.text) if message.text is not None else None
        if parsed is not None and parsed.admin_only and not admin:
            parsed = ParsedCommand(UNKNOWN)
        locking = parsed is not None and parsed.name in WRITE_COMMANDS
        # Rate limit (never for admins; before any lock), the per-user lock of a write command and
        # the customer's cached profile: one step (one Redis round trip).
        gate = await self._gate.admit(
            rate_key=f"ratelimit:{message.sender}:{parsed.name}" if parsed is not None and not admin else None,
            limit=self._limit_of(parsed.name if parsed else "", shop), window_seconds=RATE_WINDOW_S,
            lock_key=f"lock:{parsed.name}:{message.sender}" if parsed is not None and locking else None,
            lock_ttl_ms=LOCK_TTL_MS, peek=profile_key(message.sender))
        try:
            profile = await self._reads.profile_peeked(message.sender, gate.peeked)
            ctx = ChatContext(message.sender, profile.language or shop.language, shop, admin, message.message_id,
                              rerun, profile.tier)
            if message.text is None:
                return await self._hint(ctx, "media", "error.unsupported_media")
            if parsed is None:
                return await self._hint(ctx, "menu", None)
            if not gate.rate.allowed:
                return [Reply(ctx.t("error.rate_limited"))] if gate.rate.warn else []
            if parsed.name == UNKNOWN:
                return [Reply(ctx.t("error.unknown_command"))]
            if locking and gate.lock is None:
                return [Reply(ctx.t("error.busy"))]
            reply = await self._run(parsed, ctx)
            return [reply] if reply.text else []  # a command may choose silence (`.admin` over its limit)
        finally:
            if gate.lock is not None:
                await self._locks.release(gate.lock)

    async def _run(self, parsed: ParsedCommand, ctx: ChatContext) -> Reply:
        try:
            return await self._commands.run(parsed, ctx)
        except Usage as usage:
            return usage_reply(usage.command, ctx.lang, await self._example_code())
        except DomainError as refused:
            return error_reply(refused, ctx.lang, ctx.shop)

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

    @staticmethod
    def _limit_of(command: str, shop: ShopSettings) -> int:
        return shop.buy_rate_limit_per_minute if command == "buy" else shop.rate_limit_per_minute
