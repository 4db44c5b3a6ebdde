"""Benchmark (b): the full purchase path's throughput, Tokowa beside the raw reference app, one run.

Closed loop, 64 clients back to back, each `.buy BENCH1 QTY` paid with saldo (QTY 1..4 in turn per customer, see
`load.buy_text`) (`--products N`: one of N): webhook in -> reply at
the fake Graph API. Each client cycles through 10 numbers so Meta's per-recipient pacing never
holds a reply back. Both apps run one worker (uvicorn, same machine, same PostgreSQL and Redis,
each on its own fresh database), both up at once and measured in alternating rounds so that other
load on the machine falls on both alike; the raw app is `bench/raw_app.py` (`--raw CLIENT+SERVER`:
its Graph API client and server, several to compare them). Per app: purchases/s, CPU microseconds
per purchase summed over every process doing the work (the app's processes, the PostgreSQL backends
of its own database, redis-server; /proc/PID/stat), paid orders beside replies.

    .venv/bin/python bench/purchase_throughput.py [--clients 64 --duration 10]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
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
    ACCESS_TOKEN, APP_SECRET, BIN, PG_ADMIN_DSN, PHONE_NUMBER_ID, REDIS_URL, BenchDatabase, FakeGraph, TokowaServer,
    CpuMeter, clean_redis, customer, free_port, line, ms, out, percentile, seed_shop, wait_until_up,
)
import load
from load import Result, buy_text, closed_loop


PRODUCTS = 1


def buy(rng: random.Random, user: str) -> str:
    return buy_text(f"BENCH{rng.randint(1, PRODUCTS)}", user)


@contextlib.asynccontextmanager
async def tokowa_server(graph: FakeGraph, numbers: list[list[str]], tweaks: str = "") -> AsyncIterator[tuple[int, int, str]]:
    prefix = f"bench:{secrets.token_hex(4)}:"
    try:
        sources = [t.removeprefix("src=") for t in tweaks.split(",") if t.startswith("src=")]
        async with BenchDatabase(**({"PYTHONPATH": sources[0]} if sources else {})) as db, \
                TokowaServer(db, graph.url, prefix, tweaks) as server:
            await seed_shop(server.port, [n for group in numbers for n in group], products=PRODUCTS)
            assert server.process is not None
            logs["tokowa" if not tweaks else tweaks] = server.log_path
            yield server.port, server.process.pid, db.name
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


RAW_DEFAULT = "aiohttp+uvicorn"  # the reference's choices, by the figures in bench/README.md


def raw_workers(spec: str) -> int:
    """`workersN` in the spec: uvicorn's `--workers N` (a floor for Tokowa's `--workers N`)."""
    return next((int(part[7:]) for part in spec.split("+") if part.startswith("workers") and part[7:].isdigit()), 1)


def raw_command(spec: str, port: int) -> list[str]:
    """The raw app under the server named in `spec` (`uvicorn` or `granian`), one worker unless
    `workersN` (uvicorn only)."""
    here = str(Path(__file__).parent)
    if "granian" in spec.split("+"):
        return [str(BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
                "--loop", "uvloop", "--http", "1", "--no-ws", "--log-level", "warning", "--working-dir", here,
                "raw_app:app"]
    workers = raw_workers(spec)
    return [str(BIN / "uvicorn"), "raw_app:app", "--app-dir", here, "--port", str(port), "--log-level", "warning",
            *(["--workers", str(workers)] if workers > 1 else [])]


@contextlib.asynccontextmanager
async def raw_server(graph: FakeGraph, numbers: list[list[str]], spec: str = RAW_DEFAULT
                     ) -> AsyncIterator[tuple[int, int, str]]:
    """`spec`: the Graph API client and the server, e.g. `httpx+uvicorn`, `aiohttp+granian`."""
    prefix = f"bench:{secrets.token_hex(4)}:"
    port = free_port()
    try:
        async with BenchDatabase() as db:
            await seed_raw(db.dsn, [n for group in numbers for n in group])
            env = {**os.environ, "RAW_DSN": db.dsn, "REDIS_URL": REDIS_URL, "RAW_REDIS_PREFIX": prefix,
                   "WHATSAPP_API_URL": graph.url, "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
                   "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN, "WHATSAPP_APP_SECRET": APP_SECRET,
                   "RAW_HTTP": "httpx" if "httpx" in spec.split("+") else "aiohttp",
                   # the 20 connections shared out between the workers, as `tokowa serve --workers N` does
                   "RAW_POOL_SIZE": str(-(-20 // raw_workers(spec)))}
            log = Path(f"/tmp/{db.name}-raw.log").open("wb")
            process = subprocess.Popen(raw_command(spec, port), env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                await wait_until_up(port, process)
                yield port, process.pid, db.name
            finally:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                log.close()
    finally:
        await clean_redis(prefix)


def merge(total: Result, part: Result) -> None:
    total.acks += part.acks
    total.e2e += part.e2e
    total.errors += part.errors
    total.replied += part.replied
    total.seconds += part.seconds


def report(name: str, r: Result, meter: CpuMeter | None = None, replies: int = 0) -> float:
    rate = r.replied / r.seconds
    out(line(f"{name}: purchases/s", f"{rate:.0f}  (errors {r.errors})"))
    if meter is not None and replies:
        # CPU per reply: unlike purchases/s, hardly moved by other load on the machine. The sum
        # counts every process that works for the purchase: the app (all its processes), the
        # PostgreSQL backends of its database and redis-server.
        per = 1e6 / replies
        out(line(f"{name}: CPU µs per purchase, all processes",
                 f"{meter.total * per:,.0f}  (app {meter.app * per:,.0f}, PostgreSQL {meter.db * per:,.0f}, "
                 f"Redis {meter.redis * per:,.0f}; {replies} replies)"))
    out(line(f"{name}: end-to-end p50 / p99 (saturated)", f"{ms(percentile(r.e2e, 50))} / {ms(percentile(r.e2e, 99))}"))
    return rate


async def main(args: argparse.Namespace) -> None:
    global PRODUCTS
    PRODUCTS = args.products
    graph = await FakeGraph().start()
    numbers = [[customer(50_000 + c * 10 + k) for k in range(10)] for c in range(args.clients)]
    raws = [] if args.skip_raw else [f"raw:{spec}" for spec in (args.raw or [RAW_DEFAULT])]
    names = raws + ([] if args.skip_tokowa else ["tokowa"]) + args.variant
    results = {name: Result() for name in names}
    meters: dict[str, CpuMeter] = {}
    try:
        async with contextlib.AsyncExitStack() as stack:
            ports = {}
            for name in names:
                server = raw_server(graph, numbers, name[4:]) if name.startswith("raw:") else tokowa_server(
                    graph, numbers, "" if name == "tokowa" else name)
                port, pid, database = await stack.enter_async_context(server)
                ports[name], meters[name] = port, CpuMeter(pid, database)
            # Alternating short rounds: load from elsewhere on the machine hits every app alike.
            for _ in range(args.rounds):
                for name in names:
                    # Each app its own quantity sequence per customer (1, 2, 3, 4, ...), so no app sees a
                    # customer repeat a quantity within its last three orders (a double-tap question).
                    load._buys = quantities.setdefault(name, collections.defaultdict(int))
                    received, before, repeated = graph.received, graph.openings.copy(), graph.repeated
                    named = graph.order_ids.copy()
                    await meters[name].start()
                    part = await closed_loop(ports[name], graph, numbers, args.warmup, args.duration / args.rounds, buy)
                    await meters[name].stop()
                    # CPU over the whole round, warm-up included: divided by every reply of the round.
                    part_replies = graph.received - received
                    merge(results[name], part)
                    counted[name] = counted.get(name, 0) + part_replies
                    openings[name].update(graph.openings - before)
                    twice[name] = twice.get(name, 0) + graph.repeated - repeated
                    replied_ids[name].update(graph.order_ids - named)
            for name in names:  # what the replies were: paid orders in each app's database
                conn = await asyncpg.connect(f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{meters[name].database}")
                try:
                    paid = {row[0] for row in await conn.fetch("SELECT id FROM transaksi WHERE status = 'PAID'")}
                    orders[name] = len(paid)
                    # A reply naming an order that is not paid, a paid order no reply named: what a gap is.
                    unpaid = sorted(set(replied_ids[name]) - paid)
                    unnamed = sorted(paid - set(replied_ids[name]))
                    if unpaid or unnamed:
                        rows = await conn.fetch("SELECT id, status, created_at FROM transaksi WHERE id = ANY($1::text[])",
                                                (unpaid + unnamed)[:6])
                        mismatched[name] = (f"{len(unpaid)} replied not paid {unpaid[:3]}, {len(unnamed)} paid not "
                                            f"named in a reply {unnamed[:3]}; " + "; ".join(
                                                f"{r['id']} {r['status']} {r['created_at']:%H:%M:%S}" for r in rows))
                finally:
                    await conn.close()
    finally:
        await graph.stop()
    out(f"(b) purchase throughput, closed loop: {args.clients} clients, .buy with saldo of "
        f"{'one product (one hot stock row)' if PRODUCTS == 1 else f'{PRODUCTS} products at random'}, "
        f"{args.rounds} alternating rounds of {args.duration / args.rounds:g} s per app, one worker each "
        f"(load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])} at the end)")
    first = names[0]
    base = results[first].replied / results[first].seconds
    for name in names:
        label = {"tokowa": "Tokowa (tokowa serve)"}.get(name, f"raw app ({name[4:]})" if name.startswith("raw:")
                                                        else f"Tokowa what-if {name}")
        rate = report(label, results[name], meters[name], counted[name])
        out(line(f"{name}: paid orders / replies", f"{orders[name]} / {counted[name]}"))
        for text, times in openings[name].most_common()[1:4]:  # the first: the purchases' own reply
            out(line(f"{name}: also replied", f"{times} x {text!r}"))
        if name in mismatched:
            out(line(f"{name}: replies and orders differ", mismatched[name]))
        if twice.get(name):
            out(line(f"{name}: replies sent twice", str(twice[name])))
        if name in logs:  # Redis answering later than TOKOWA_REDIS_TIMEOUT: the app skipped it (fewer round trips)
            failed = sum("failing open" in entry for entry in logs[name].read_text(errors="replace").splitlines())
            out(line(f"{name}: Redis calls failed open", f"{failed}{'  (figures not comparable)' if failed else ''}"))
        if name != first and counted[name] and counted[first]:
            per, per_first = meters[name].total / counted[name], meters[first].total / counted[first]
            app, app_first = meters[name].app / counted[name], meters[first].app / counted[first]
            out(line(f"{name} / {first}", f"purchases/s {rate / base:.2f}x, CPU per purchase {per / per_first:.2f}x "
                                           f"(app alone {app / app_first:.2f}x)"))

counted: dict[str, int] = {}
logs: dict[str, Path] = {}
quantities: dict[str, collections.defaultdict[str, int]] = {}
orders: dict[str, int] = {}
twice: dict[str, int] = {}
mismatched: dict[str, str] = {}
replied_ids: collections.defaultdict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
openings: collections.defaultdict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--duration", type=float, default=12.0, help="measured seconds per app, over all rounds")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds before each round's measurement")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--skip-raw", action="store_true", help="Tokowa only (profiling)")
    p.add_argument("--skip-tokowa", action="store_true", help="raw apps only (comparing their choices)")
    p.add_argument("--raw", action="append", default=[],
                   help=f"raw app variants, client+server (default {RAW_DEFAULT}); e.g. --raw httpx+uvicorn "
                        "--raw aiohttp+granian: the first is the base of the ratios; +workers2 runs it under uvicorn "
                        "--workers 2 with the 20 connections shared out (the floor for Tokowa's --workers 2)")
    p.add_argument("--products", type=int, default=1, help="buy one of N products at random (1: every purchase "
                   "locks the same stock row)")
    p.add_argument("--variant", action="append", default=[],
                   help="also run Tokowa with these what-if tweaks (see serve_variant.py), e.g. no_pre_ping,quiet_httpx; "
                        "src=DIR runs the code in DIR instead (e.g. `git archive COMMIT | tar -x -C DIR`), "
                        "migrated by that code")
    asyncio.run(main(p.parse_args()))
