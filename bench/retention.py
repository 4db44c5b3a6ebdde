"""Retention keeps the inbox and outbox bounded: a shop runs for many simulated days (a manual
clock, the real pipeline on SQLite or PostgreSQL), the retention job runs once a day, and the
rows and bytes of both tables are printed before and after each pruning. Also prints what
sealing a message costs (Fernet, the per-message price of encrypting inbox and outbox).

    .venv/bin/python bench/retention.py [--days 45] [--per-day 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import timeit
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dependency_injector import providers  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from adapters.clock import ManualClock  # noqa: E402
from adapters.storage import StockCipher, migrate  # noqa: E402
from adapters.storage.tables import inbox, outbox  # noqa: E402
from application.chat.pipeline import IncomingMessage  # noqa: E402
from entrypoints.bootstrap import application_over, configured_adapters  # noqa: E402
from entrypoints.settings import Settings  # noqa: E402


def sealing_cost() -> None:
    cipher = StockCipher(StockCipher.generate_key())
    body = {"text": ".buy NF1 2 saldo", "business_user_id": None}
    delivery = '{"text":"Pesanan 123 lunas. Akun: user@mail.test|Pw-123456|profil 2|pin 1234","choices":[]}'
    token = cipher.encrypt(delivery)
    for label, call in (("seal an inbox body", lambda: cipher.seal(body)),
                        ("encrypt an outbox payload", lambda: cipher.encrypt(delivery)),
                        ("decrypt an outbox payload", lambda: cipher.decrypt(token))):
        runs = 20000
        seconds = min(timeit.repeat(call, number=runs, repeat=3))
        print(f"{label:28s} {seconds / runs * 1e6:6.1f} µs")
    print(f"outbox payload: {len(delivery)} bytes plain, {len(token)} bytes sealed")


async def table_figures(storage: object) -> dict[str, tuple[int, int]]:
    engine = storage.engine  # type: ignore[attr-defined]
    async with engine.connect() as connection:
        figures = {}
        for table, column in ((inbox, inbox.c.body), (outbox, outbox.c.payload)):
            size = func.coalesce(func.sum(func.length(func.cast(column, outbox.c.payload.type))), 0)
            row = (await connection.execute(select(func.count(), size).select_from(table))).one()
            figures[table.name] = (int(row[0]), int(row[1]))
    return figures


async def run(days: int, per_day: int, url: str) -> None:
    settings = Settings(_env_file=None, DATABASE_URL=url, TOKOWA_SECRET_KEY=StockCipher.generate_key(),  # type: ignore[call-arg]
                        TOKOWA_SERVER_JOBS="false")
    await migrate(url)
    adapters = configured_adapters(settings)
    clock = ManualClock(datetime(2026, 1, 1, 8, tzinfo=UTC))
    adapters.clock.override(providers.Object(clock))
    app = application_over(adapters, settings)
    pipeline, prune = app.pipeline(), app.prune()
    storage = adapters.storage()
    print(f"{days} days x {per_day} messages (each with its reply); retention {prune.policy.inbox_days} days")
    print(f"{'day':>4} {'inbox rows':>11} {'inbox bytes':>12} {'outbox rows':>12} {'outbox bytes':>13}   (before -> after pruning)")
    started = time.perf_counter()
    for day in range(1, days + 1):
        for n in range(per_day):
            clock.advance(seconds=86400 / per_day)
            await pipeline.handle(IncomingMessage(f"wamid.{day}.{n}", f"62812{n % 500:08d}", ".saldo"))
        before = await table_figures(storage)
        await prune.prune()
        after = await table_figures(storage)
        if day % 5 == 0 or day == days:
            print(f"{day:>4} {before['inbox'][0]:>5} -> {after['inbox'][0]:<5} {before['inbox'][1]:>6} -> {after['inbox'][1]:<7}"
                  f" {before['outbox'][0]:>5} -> {after['outbox'][0]:<5} {before['outbox'][1]:>6} -> {after['outbox'][1]:<7}")
    print(f"simulated in {time.perf_counter() - started:.1f} s")
    await storage.aclose()
    await adapters.coordination().aclose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=45)
    parser.add_argument("--per-day", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    sealing_cost()
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite+aiosqlite:///{directory}/bench.db"
        asyncio.run(run(args.days, args.per_day, url))


if __name__ == "__main__":
    main()
