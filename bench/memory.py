"""Benchmark (d): resident memory of one `tokowa serve` worker (VmRSS and peak VmHWM from
/proc/PID/status): after start-up, after a warm-up, and after load (open loop at ~100 msg/s, then a
closed-loop burst of 64 clients).

    .venv/bin/python bench/memory.py
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets

from common import BenchDatabase, FakeGraph, TokowaServer, clean_redis, customer, line, out, seed_shop
from load import buy_text, closed_loop, open_loop


async def main(args: argparse.Namespace) -> None:
    prefix = f"bench:{secrets.token_hex(4)}:"
    graph = await FakeGraph().start()
    try:
        async with BenchDatabase() as db, TokowaServer(db, graph.url, prefix) as server:
            started = server.rss_mb()
            users = [customer(30_000 + n) for n in range(200 + 640)]
            codes = await seed_shop(server.port, users)

            def pick(rng: random.Random, user: str) -> str:
                kind = rng.randrange(4)
                if kind == 2:
                    return buy_text(rng.choice(codes), user)
                return [".produk", ".saldo", "", f".produk {rng.choice(codes)}"][kind]

            await open_loop(server.port, graph, users[:50], 0.5, 2.0, pick)
            warm = server.rss_mb()
            await open_loop(server.port, graph, users[:200], 2.0, args.duration, pick)
            await closed_loop(server.port, graph, [users[200 + i * 10:210 + i * 10] for i in range(64)], 0.5, 4.0, pick)
            loaded = server.rss_mb()
            out("(d) resident memory of one tokowa serve worker (VmRSS; peak VmHWM)")
            out(line("after start-up", f"{started[0]:.0f} MiB"))
            out(line("after warm-up", f"{warm[0]:.0f} MiB"))
            out(line("after load (open + closed loop)", f"{loaded[0]:.0f} MiB (peak {loaded[1]:.0f} MiB)  target < 150 MB"))
    finally:
        await graph.stop()
        await clean_redis(prefix)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--duration", type=float, default=8.0)
    asyncio.run(main(p.parse_args()))
