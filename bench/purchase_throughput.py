"""Benchmark (b): the full purchase path's throughput, Tokowa beside the raw reference app, one run.

Closed loop, 64 clients back to back, each `.buy BENCH1 QTY` paid with saldo (QTY 1..4 in turn per customer, see
`load.buy_text`) (`--products N`: one of N): webhook in -> reply at
the fake Graph API. Each client cycles through 10 numbers so Meta's per-recipient pacing never
holds a reply back. Both apps run one worker (uvicorn, same machine, same PostgreSQL and Redis,
each on its own fresh database), both up at once and measured in alternating rounds so that other
load on the machine falls on both alike; the raw app is `bench/raw_app.py`.

    .venv/bin/python bench/purchase_throughput.py [--clients 64 --duration 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import subprocess
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import asyncpg

from common import (
    ACCESS_TOKEN, APP_SECRET, BIN, PHONE_NUMBER_ID, REDIS_URL, BenchDatabase, FakeGraph, TokowaServer,
    clean_redis, customer, free_port, line, ms, out, percentile, seed_shop, wait_until_up,
)
from load import Result, buy_text, closed_loop


PRODUCTS = 1


def buy(rng: random.Random, user: str) -> str:
    return buy_text(f"BENCH{rng.randint(1, PRODUCTS)}", user)


@contextlib.asynccontextmanager
async def tokowa_server(graph: FakeGraph, numbers: list[list[str]], tweaks: str = "") -> AsyncIterator[tuple[int, int]]:
    prefix = f"bench:{secrets.token_hex(4)}:"
    try:
        sources = [t.removeprefix("src=") for t in tweaks.split(",") if t.startswith("src=")]
        async with BenchDatabase(**({"PYTHONPATH": sources[0]} if sources else {})) as db, \
                TokowaServer(db, graph.url, prefix, tweaks) as server:
            await seed_shop(server.port, [n for group in numbers for n in group], products=PRODUCTS)
            assert server.process is not None
            yield server.port, server.process.pid
    finally:
        await clean_redis(prefix)


async def seed_raw(dsn: str, users: list[str]) -> None:
    conn = await asyncpg.connect(dsn)
    now = datetime.now(timezone.utc)
    try:
        await conn.executemany("INSERT INTO produk (id, nama, harga, stok, aktif, uses_items, data) "
                               "VALUES ($1, $2, 1000, 1000000, true, false, '{}')",
                               [(f"BENCH{i}", f"Bench BENCH{i}") for i in range(1, PRODUCTS + 1)])
        await conn.executemany("INSERT INTO users (user_id, saldo, role, data, created_at) VALUES ($1, 100000000, "
                               "'bronze', '{}', $2)", [(u, now) for u in users])
        await conn.executemany("INSERT INTO ledger (user_id, delta, balance_after, reason, reference, created_at) "
                               "VALUES ($1, 100000000, 100000000, 'adjustment', $2, $3)",
                               [(u, f"bench-{u}", now) for u in users])
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def raw_server(graph: FakeGraph, numbers: list[list[str]]) -> AsyncIterator[tuple[int, int]]:
    prefix = f"bench:{secrets.token_hex(4)}:"
    port = free_port()
    try:
        async with BenchDatabase() as db:
            await seed_raw(db.dsn, [n for group in numbers for n in group])
            env = {**os.environ, "RAW_DSN": db.dsn, "REDIS_URL": REDIS_URL, "RAW_REDIS_PREFIX": prefix,
                   "WHATSAPP_API_URL": graph.url, "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
                   "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN, "WHATSAPP_APP_SECRET": APP_SECRET}
            log = Path(f"/tmp/{db.name}-raw.log").open("wb")
            process = subprocess.Popen([str(BIN / "uvicorn"), "raw_app:app", "--app-dir", str(Path(__file__).parent),
                                        "--port", str(port), "--log-level", "warning"],
                                       env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                await wait_until_up(port, process)
                yield port, process.pid
            finally:
                process.terminate()
                process.wait(timeout=15)
                log.close()
    finally:
        await clean_redis(prefix)


def merge(total: Result, part: Result) -> None:
    total.acks += part.acks
    total.e2e += part.e2e
    total.errors += part.errors
    total.replied += part.replied
    total.seconds += part.seconds


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat, clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(name: str, r: Result, cpu: tuple[float, int] | None = None) -> float:
    rate = r.replied / r.seconds
    out(line(f"{name}: purchases/s", f"{rate:.0f}  (errors {r.errors})"))
    if cpu and cpu[1]:
        # The server's own CPU per reply: unlike purchases/s, hardly moved by other load on the machine.
        out(line(f"{name}: server CPU per purchase", f"{cpu[0] / cpu[1] * 1000:.2f} ms  ({cpu[1]} replies)"))
    out(line(f"{name}: end-to-end p50 / p99 (saturated)", f"{ms(percentile(r.e2e, 50))} / {ms(percentile(r.e2e, 99))}"))
    return rate


async def main(args: argparse.Namespace) -> None:
    global PRODUCTS
    PRODUCTS = args.products
    graph = await FakeGraph().start()
    numbers = [[customer(50_000 + c * 10 + k) for k in range(10)] for c in range(args.clients)]
    names = ([] if args.skip_raw else ["raw"]) + ["tokowa"] + args.variant
    results = {name: Result() for name in names}
    cpu = {name: (0.0, 0) for name in names}  # server CPU seconds, replies, over every round (warm-up included)
    try:
        async with contextlib.AsyncExitStack() as stack:
            ports = {}
            for name in names:
                server = raw_server(graph, numbers) if name == "raw" else tokowa_server(
                    graph, numbers, "" if name == "tokowa" else name)
                ports[name] = await stack.enter_async_context(server)
            # Alternating short rounds: load from elsewhere on the machine hits every app alike.
            for _ in range(args.rounds):
                for name in names:
                    port, pid = ports[name]
                    before, received = cpu_seconds(pid), graph.received
                    merge(results[name], await closed_loop(port, graph, numbers, args.warmup,
                                                           args.duration / args.rounds, buy))
                    cpu[name] = (cpu[name][0] + cpu_seconds(pid) - before, cpu[name][1] + graph.received - received)
    finally:
        await graph.stop()
    out(f"(b) purchase throughput, closed loop: {args.clients} clients, .buy with saldo of "
        f"{'one product (one hot stock row)' if PRODUCTS == 1 else f'{PRODUCTS} products at random'}, "
        f"{args.rounds} alternating rounds of {args.duration / args.rounds:g} s per app, one worker each")
    raw_rate = report("raw asyncpg + redis-py app", results["raw"], cpu["raw"]) if "raw" in results else float("nan")
    tokowa_rate = report("Tokowa (tokowa serve)", results["tokowa"], cpu["tokowa"])
    out(line("ratio Tokowa / raw", f"{tokowa_rate / raw_rate:.2f}x  (target >= 0.8x, aim 1.0x)"))
    for tweaks in args.variant:
        rate = report(f"what-if {tweaks}", results[tweaks], cpu[tweaks])
        out(line(f"what-if {tweaks}: ratio to raw", f"{rate / raw_rate:.2f}x"))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--duration", type=float, default=12.0, help="measured seconds per app, over all rounds")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds before each round's measurement")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--skip-raw", action="store_true", help="Tokowa only (profiling)")
    p.add_argument("--products", type=int, default=1, help="buy one of N products at random (1: every purchase "
                   "locks the same stock row)")
    p.add_argument("--variant", action="append", default=[],
                   help="also run Tokowa with these what-if tweaks (see serve_variant.py), e.g. no_pre_ping,quiet_httpx; "
                        "src=DIR runs the code in DIR instead (e.g. `git archive COMMIT | tar -x -C DIR`), "
                        "migrated by that code")
    asyncio.run(main(p.parse_args()))
