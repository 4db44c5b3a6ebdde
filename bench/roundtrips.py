"""Profiling aid: round trips per message on Tokowa's real adapters (PostgreSQL + Redis), in process.

Builds the application as `tokowa serve` does, swaps the messenger for a counting one, sends
messages through the pipeline one at a time and counts, per message: units of work (and how many
of them open a transaction: BEGIN + COMMIT, two round trips), SQL statements (the storage's
statement timer), Redis commands, outbound sends and Python function calls (the counting
wrappers add a few).

    .venv/bin/python bench/roundtrips.py [--messages 200]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import collections
import pstats
import secrets
import time
from typing import Any

from asyncpg.transaction import Transaction
from cryptography.fernet import Fernet
from dependency_injector import providers

from adapters.storage.postgres import AsyncpgUnitOfWork

from application.ports import IncomingMessage
from application.replies import Reply
from common import PHONE_NUMBER_ID, REDIS_URL, BenchDatabase, clean_redis, customer, line, out
from entrypoints.bootstrap import build_application, close_adapters
from entrypoints.settings import Settings


class CountingMessenger:
    def __init__(self) -> None:
        self.sent = 0

    async def send(self, to: str, reply: Reply) -> None:
        self.sent += 1


async def seed(container: Any, users: list[str]) -> None:
    from application.use_cases.catalog_admin import AddProductCommand
    from application.use_cases.wallet import AdjustBalanceCommand
    uc = container.use_cases()
    await uc.add_product(AddProductCommand("BENCH1", "Bench BENCH1", 1000, 1_000_000))
    await uc.change_setting("buy_rate_limit_per_minute", "10000")
    await uc.change_setting("rate_limit_per_minute", "10000")
    for user in users:
        await uc.adjust_balance(AdjustBalanceCommand(user, 100_000_000, True, f"bench-{user}"))


async def measure(texts: dict[str, str], n: int, dump: str | None = None, concurrency: int = 1) -> None:
    prefix = f"bench:{secrets.token_hex(4)}:"
    async with BenchDatabase() as db:
        settings = Settings(_env_file=None, DATABASE_URL=db.sqlalchemy_url, REDIS_URL=REDIS_URL,  # type: ignore[call-arg]
                            TOKOWA_REDIS_PREFIX=prefix, WHATSAPP_ACCESS_TOKEN="x", WHATSAPP_APP_SECRET="x",
                            WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID, WHATSAPP_API_URL="http://127.0.0.1:9",
                            TOKOWA_SECRET_KEY=Fernet.generate_key().decode())
        container = build_application(settings)
        messenger = CountingMessenger()
        container.adapters.messenger.override(providers.Object(messenger))
        storage = container.adapters.storage()
        pipe = container.adapters.coordination().pipe
        counts: collections.Counter[str] = collections.Counter()

        def _statement(seconds: float) -> None:  # every PostgreSQL statement (the text is not passed)
            counts["sql"] += 1

        storage.statement_timer = _statement
        transaction_start = Transaction.start

        async def _begin(self: Transaction) -> None:  # BEGIN (and SAVEPOINT) on asyncpg
            counts["transactions"] += 1
            await transaction_start(self)

        Transaction.start = _begin  # type: ignore[method-assign]
        enter = AsyncpgUnitOfWork.__aenter__

        async def _enter(self: AsyncpgUnitOfWork) -> AsyncpgUnitOfWork:
            counts["units"] += 1
            return await enter(self)

        AsyncpgUnitOfWork.__aenter__ = _enter  # type: ignore[method-assign]

        original = pipe.call  # every Redis command of the adapters goes through their one connection

        def counted(*args: Any) -> Any:
            counts["redis"] += 1
            return original(*args)

        pipe.call = counted  # type: ignore[method-assign]
        try:
            users = [customer(70_000 + i) for i in range(n)]
            warm = customer(69_999)  # not one of `users`: a second `.buy` of theirs would be a double tap
            await seed(container, [warm, *users])
            pipeline = container.pipeline()
            for label, text in texts.items():
                await pipeline.handle(IncomingMessage(f"warm-{secrets.token_hex(6)}", warm, text))
                counts.clear()
                writes = pipe.writes
                messenger.sent = 0
                profile = cProfile.Profile()
                start = time.perf_counter()
                profile.enable()
                for start_at in range(0, len(users), concurrency):  # `concurrency` messages at once
                    await asyncio.gather(*(pipeline.handle(IncomingMessage(f"wamid.{secrets.token_hex(8)}", user, text))
                                           for user in users[start_at:start_at + concurrency]))
                profile.disable()
                elapsed = time.perf_counter() - start
                calls = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
                if dump:
                    profile.dump_stats(f"{dump}.{label}.prof")
                at_once = "one at a time" if concurrency == 1 else f"{concurrency} at a time"
                out(f"per `{text}` message (mean of {n}, {at_once}, profiler on):")
                out(line("units of work / of them transactions", f"{counts['units'] / n:.1f} / {counts['transactions'] / n:.1f}"))
                out(line("SQL statements", f"{counts['sql'] / n:.1f}"))
                out(line("Redis commands / writes to Redis", f"{counts['redis'] / n:.1f} / {(pipe.writes - writes) / n:.2f}"))
                out(line("Graph API sends", f"{messenger.sent / n:.1f}"))
                out(line("Python function calls", f"{calls / n:,.0f}"))
                out(line(f"wall time per message ({'serial' if concurrency == 1 else 'concurrent'}, profiled)",
                         f"{elapsed / n * 1000:.1f} ms"))
        finally:
            await close_adapters(container)
            await clean_redis(prefix)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--messages", type=int, default=200)
    p.add_argument("--concurrency", type=int, default=1,
                   help="messages of different customers handled at once (group commit shows from 2 on)")
    p.add_argument("--dump", metavar="PREFIX", help="write each message kind's cProfile stats to PREFIX.KIND.prof")
    a = p.parse_args()
    asyncio.run(measure({"buy": ".buy BENCH1", "saldo": ".saldo", "produk": ".produk"}, a.messages, a.dump, a.concurrency))
