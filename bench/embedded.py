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

    .venv/bin/python bench/embedded.py [--customers 20 64 --duration 10 --interval 2 --workers 1]
    .venv/bin/python bench/embedded.py --compare /tmp/main_src [--rounds 4 --duration 20]  # closed loop, A/B

At the end it reads the file and checks the books: one order per `.buy` processed, stock
conserved, every balance equal to its ledger.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from common import (
    BIN, FakeGraph, TokowaServer, customer, line, ms, out, percentile, seed_shop, wait_until_up,
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


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU time so far of a process and its children (`--workers N`: uvicorn's
    worker processes), from /proc/PID/stat."""
    user = system = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            user += int(fields[11]) / os.sysconf("SC_CLK_TCK")
            system += int(fields[12]) / os.sysconf("SC_CLK_TCK")
    return user, system


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far (see `cpu_times`)."""
    return sum(cpu_times(pid))


class EmbeddedServer(TokowaServer):
    """`tokowa serve [--workers N]` on the SQLite file, REDIS_URL unset."""

    def __init__(self, database: SqliteFile, graph_url: str, workers: int) -> None:
        super().__init__(database, graph_url, "unused:")  # type: ignore[arg-type]
        self.env.pop("REDIS_URL", None)
        self.env.pop("TOKOWA_REDIS_PREFIX", None)
        self.workers = workers

    async def __aenter__(self) -> EmbeddedServer:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen([str(BIN / "tokowa"), "serve", "--port", str(self.port),
                                         "--workers", str(self.workers)], env=self.env,
                                        stdout=self._log, stderr=subprocess.STDOUT, cwd="/tmp")
        await wait_until_up(self.port, self.process)
        return self


def check_books(database: SqliteFile, stock: int) -> str:
    """Exactly once and no oversell, read from the file after the run: one order per `.buy`
    message processed, each product's stock = its start - the quantities ordered, every balance =
    the sum of its ledger."""
    connection = sqlite3.connect(database.directory / "tokowa.db")
    try:
        messages = connection.execute("SELECT count(*) FROM inbox WHERE finished_at IS NOT NULL").fetchone()[0]
        pending = connection.execute("SELECT count(*) FROM inbox WHERE finished_at IS NULL").fetchone()[0]
        orders = connection.execute("SELECT count(*) FROM transaksi").fetchone()[0]
        off_stock = connection.execute(
            "SELECT count(*) FROM produk p WHERE p.stok != ? - coalesce((SELECT sum(t.qty) FROM transaksi t "
            "WHERE t.produk_id = p.id), 0)", (stock,)).fetchone()[0]
        off_ledger = connection.execute(
            "SELECT count(*) FROM users u WHERE u.saldo != (SELECT coalesce(sum(l.delta), 0) FROM ledger l "
            "WHERE l.user_id = u.user_id)").fetchone()[0]
    finally:
        connection.close()
    verdict = "OK" if orders == messages and not pending and not off_stock and not off_ledger else "WRONG"
    return (f"{verdict}: {orders} orders for {messages} .buy messages processed ({pending} unfinished), "
            f"{off_stock} products off their stock, {off_ledger} balances off their ledger")


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
        server = EmbeddedServer(database, graph.url, args.workers)
        if args.concurrency is not None:
            server.env["TOKOWA_PROCESSING_CONCURRENCY"] = str(args.concurrency)
        if args.src:  # another checkout's code (e.g. `git archive COMMIT | tar -x -C DIR`), for a before/after
            server.env["PYTHONPATH"] = args.src
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
        await asyncio.sleep(0.5)
        out(line(f"books after the run ({args.workers} worker{'s' if args.workers > 1 else ''})",
                 check_books(database, 1_000_000)))
    finally:
        await asyncio.sleep(0.2)  # the server's connections to the fake Graph API close first
        await graph.stop()
        database.remove()


class Side:
    """One app of `--compare`: its server, Graph API, file, and the closed-loop figures summed over rounds."""

    def __init__(self, label: str, src: str, args: argparse.Namespace) -> None:
        self.label, self.src, self.args = label, src, args
        self.result, self.cpu, self.system, self.replies = Result(), 0.0, 0.0, 0

    async def start(self, users: list[str]) -> None:
        self.graph = await FakeGraph().start()
        self.database = SqliteFile()
        self.server = EmbeddedServer(self.database, self.graph.url, self.args.workers)
        if self.args.concurrency is not None:
            self.server.env["TOKOWA_PROCESSING_CONCURRENCY"] = str(self.args.concurrency)
        if self.src:
            self.server.env["PYTHONPATH"] = self.src
        await self.server.__aenter__()
        self.codes = await seed_shop(self.server.port, users, products=self.args.products)

    async def round(self, numbers: list[list[str]], seconds: float) -> None:
        assert self.server.process is not None
        pid = self.server.process.pid

        def buy(rng: random.Random, user: str) -> str:
            return buy_text(rng.choice(self.codes), user)

        before, received = cpu_times(pid), self.graph.received
        c = await closed_loop(self.server.port, self.graph, numbers, 1.0, seconds, buy)
        after = cpu_times(pid)
        self.cpu += sum(after) - sum(before)
        self.system += after[1] - before[1]
        self.replies += self.graph.received - received
        self.result.acks += c.acks
        self.result.e2e += c.e2e
        self.result.replied += c.replied
        self.result.errors += c.errors
        self.result.seconds += c.seconds

    async def stop(self) -> None:
        if not hasattr(self, "server"):
            return
        await self.server.__aexit__(None, None, None)
        await asyncio.sleep(0.5)
        out(line(f"books of {self.label}", check_books(self.database, 1_000_000)))
        await asyncio.sleep(0.2)
        await self.graph.stop()
        self.database.remove()


async def compare(args: argparse.Namespace) -> None:
    """This tree's code and `--compare DIR`'s, both servers up, closed loop in alternating rounds
    (so the machine's other load falls on both alike); figures summed over the rounds."""
    most = max(args.customers)
    sides = [Side("this tree", "", args), Side(args.compare, args.compare, args)]
    # Numbers of their own per app: `buy_text` cycles the quantity per number, and one shared
    # sequence would give an app the same product and quantity twice in a row (a repeat question).
    users = {side.label: [customer(70_000 + k * 100_000 + n) for n in range(most * 10)] for k, side in enumerate(sides)}
    try:
        for side in sides:
            await side.start(users[side.label])
        for n in args.customers:
            for side in sides:
                side.result, side.cpu, side.system, side.replies = Result(), 0.0, 0.0, 0
            load = load_average()
            for r in range(args.rounds):
                for side in (sides if r % 2 == 0 else sides[::-1]):
                    mine = users[side.label]
                    await side.round([mine[i * 10:(i + 1) * 10] for i in range(n)], args.duration / args.rounds)
                    await asyncio.sleep(0.5)
            for side in sides:
                report(f"(e) {side.label}: {n} customers buying at once, closed loop, {args.rounds} alternating rounds, "
                       f"{args.duration:g} s in all", side.result, side.result.seconds, side.cpu, side.replies,
                       (load, load_average()))
                if side.replies:
                    out(line("  of which system (kernel) time", f"{side.system / side.replies * 1000:.2f} ms"))
    finally:
        for side in sides:
            await side.stop()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--customers", type=int, nargs="+", default=[20, 64])
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per phase")
    p.add_argument("--interval", type=float, default=2.0, help="open loop: seconds between one customer's purchases (>= 2: Meta's 1 s pacing per number stays out of the figures)")
    p.add_argument("--products", type=int, default=5)
    p.add_argument("--workers", type=int, default=1, help="tokowa serve --workers N (processes on one SQLite file)")
    p.add_argument("--concurrency", type=int, default=None, help="TOKOWA_PROCESSING_CONCURRENCY (default: the app's)")
    p.add_argument("--src", default="", help="run the code in DIR instead (e.g. `git archive COMMIT | tar -x -C DIR`)")
    p.add_argument("--compare", default="", metavar="DIR",
                   help="closed loop only: this tree's code against DIR's, both up at once, in alternating rounds")
    p.add_argument("--rounds", type=int, default=4, help="--compare: rounds per app")
    parsed = p.parse_args()
    asyncio.run(compare(parsed) if parsed.compare else main(parsed))
