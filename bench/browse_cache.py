"""Benchmark (c): the cache hit rate under browse traffic, read from `/metrics`
(`tokowa_cache_requests{result="hit"|"miss"}`: every cache read the app makes, i.e. the product
list and details, shop settings, balances and tiers).

Open loop: 200 customers, one message every 2 s. Phase 1 is browsing only (`.produk` 70%,
`.produk CODE` 20%, `.saldo` 10%); phase 2 mixes in 5% `.buy`, each of which forgets the product
list and the buyer's cached balance and tier.

    .venv/bin/python bench/browse_cache.py [--duration 10]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets

from common import (
    BenchDatabase, FakeGraph, TokowaServer, clean_redis, customer, line, metric, metrics_text, out, seed_shop,
)
from load import buy_text, open_loop


def browse(codes: list[str], buy_share: float):  # type: ignore[no-untyped-def]
    def pick(rng: random.Random, user: str) -> str:
        roll = rng.random()
        if roll < buy_share:
            return buy_text(rng.choice(codes), user)
        if roll < 0.7:
            return ".produk"
        if roll < 0.9:
            return f".produk {rng.choice(codes)}"
        return ".saldo"
    return pick


async def phase(port: int, graph: FakeGraph, users: list[str], pick, duration: float) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    before = await metrics_text(port)
    result = await open_loop(port, graph, users, 2.0, duration, pick)
    after = await metrics_text(port)
    hits = metric(after, "tokowa_cache_requests_total", 'result="hit"') - metric(before, "tokowa_cache_requests_total", 'result="hit"')
    misses = metric(after, "tokowa_cache_requests_total", 'result="miss"') - metric(before, "tokowa_cache_requests_total", 'result="miss"')
    return hits, misses, len(result.acks)


async def main(args: argparse.Namespace) -> None:
    prefix = f"bench:{secrets.token_hex(4)}:"
    graph = await FakeGraph().start()
    try:
        async with BenchDatabase(**({"PYTHONPATH": args.src} if args.src else {})) as db, \
                TokowaServer(db, graph.url, prefix, f"src={args.src}" if args.src else "") as server:
            users = [customer(20_000 + n) for n in range(args.customers)]
            codes = await seed_shop(server.port, users)
            await open_loop(server.port, graph, users, 2.0, 2.0, browse(codes, 0.0))  # every customer seen once
            out(f"(c) cache hit rate, open loop: {args.customers} customers, one message every 2 s, {args.duration:g} s per phase")
            for name, share in (("browsing only (.produk / .produk CODE / .saldo)", 0.0), ("browsing with 5% .buy", 0.05)):
                hits, misses, sent = await phase(server.port, graph, users, browse(codes, share), args.duration)
                rate = hits / (hits + misses) if hits + misses else float("nan")
                out(line(name, f"hit rate {rate:.1%}  ({hits:.0f} hits, {misses:.0f} misses, {sent} messages)"))
    finally:
        await graph.stop()
        await clean_redis(prefix)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--customers", type=int, default=200)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--src", help="run another tree's code (e.g. `git archive COMMIT | tar -x -C DIR`), migrated by it")
    asyncio.run(main(p.parse_args()))
