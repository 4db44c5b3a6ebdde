"""Benchmark (e): the embedded default — `tokowa serve` on a SQLite file, no Redis — under purchases.

`tokowa serve` (one worker, Cloud API transport to the fake Graph API of `common.py`) on a fresh
SQLite file in a temporary directory, with REDIS_URL unset (in-process coordination), exactly as a
small seller runs it. Every message is a `.buy CODE QTY` paid with saldo (`load.buy_text`), one of
five products at random (`--products`).

For each number of customers (default 20 and 64):
- **closed loop**: that many customers buying at once, each sending its next `.buy` as soon as the
  reply to the previous one reached the Graph API (each cycles through 10 numbers, so Meta's
  per-recipient pacing never holds a reply back). Its rate is the saturated purchases/s.
- **open loop**: that many customers each sending one `.buy` every `--interval` s (random phase),
  so the webhook's acknowledgement is measured under a steady offered load, not its own queue.

Prints ack p50 / p99 (webhook POST -> its 200), end-to-end p50 / p99 (webhook -> reply at the
Graph API), purchases/s, the server's CPU per purchase (user + system from /proc/PID/stat over the
phase, divided by the replies) and the machine's load average before and after each phase.

    .venv/bin/python bench/embedded.py [--customers 20 64 --duration 10 --interval 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import tempfile
from pathlib import Path

from common import (
    FakeGraph, TokowaServer, customer, line, ms, out, percentile, seed_shop,
)
from load import Result, buy_text, closed_loop, open_loop


class SqliteFile:
    """A throw-away SQLite database file (what `TokowaServer` needs of a database: name and URL)."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="tokowa_bench_sqlite_"))
        self.name = self.directory.name
        self.sqlalchemy_url = f"sqlite+aiosqlite:///{self.directory / 'tokowa.db'}"

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat, clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def report(title: str, r: Result, seconds: float, cpu: float, replies: int, load: tuple[str, str]) -> None:
    out(title)
    out(line("purchases/s (reply received)", f"{r.replied / seconds:.0f}  (errors {r.errors})"))
    out(line("ack p50 / p99", f"{ms(percentile(r.acks, 50))} / {ms(percentile(r.acks, 99))}  ({len(r.acks)} acks)"))
    out(line("end-to-end p50 / p99", f"{ms(percentile(r.e2e, 50))} / {ms(percentile(r.e2e, 99))}  ({len(r.e2e)} replies)"))
    if replies:
        out(line("server CPU per purchase", f"{cpu / replies * 1000:.2f} ms  ({replies} replies)"))
    out(line("load average before -> after", f"{load[0]} -> {load[1]}"))


async def main(args: argparse.Namespace) -> None:
    graph = await FakeGraph().start()
    database = SqliteFile()
    most = max(args.customers)
    users = [customer(70_000 + n) for n in range(most * 10)]
    try:
        server = TokowaServer(database, graph.url, "unused:")  # type: ignore[arg-type]
        server.env.pop("REDIS_URL", None)
        server.env.pop("TOKOWA_REDIS_PREFIX", None)
        async with server:
            assert server.process is not None
            pid = server.process.pid
            codes = await seed_shop(server.port, users, products=args.products)

            def buy(rng: random.Random, user: str) -> str:
                return buy_text(rng.choice(codes), user)

            await open_loop(server.port, graph, users[:20], 0.5, 2.0, buy)  # warm-up
            for n in args.customers:
                numbers = [users[i * 10:(i + 1) * 10] for i in range(n)]
                load = load_average()
                before, received = cpu_seconds(pid), graph.received
                c = await closed_loop(server.port, graph, numbers, 1.0, args.duration, buy)
                report(f"(e) SQLite, no Redis: {n} customers buying at once, closed loop (back to back), "
                       f"{args.duration:g} s", c, c.seconds, cpu_seconds(pid) - before, graph.received - received,
                       (load, load_average()))
                await asyncio.sleep(1.0)
                load = load_average()
                before, received = cpu_seconds(pid), graph.received
                o = await open_loop(server.port, graph, [u[0] for u in numbers], args.interval, args.duration, buy)
                report(f"(e) SQLite, no Redis: {n} customers, one .buy every {args.interval:g} s each "
                       f"(~{n / args.interval:.0f} purchases/s offered), open loop, {args.duration:g} s",
                       o, args.duration, cpu_seconds(pid) - before, graph.received - received, (load, load_average()))
                await asyncio.sleep(1.0)
    finally:
        await graph.stop()
        database.remove()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--customers", type=int, nargs="+", default=[20, 64])
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per phase")
    p.add_argument("--interval", type=float, default=2.0, help="open loop: seconds between one customer's purchases (>= 2: Meta's 1 s pacing per number stays out of the figures)")
    p.add_argument("--products", type=int, default=5)
    asyncio.run(main(p.parse_args()))
