"""Benchmark (a): webhook acknowledgement latency and end-to-end latency under simulated customers.

`tokowa serve` (one worker, Cloud API transport, PostgreSQL + Redis) behind signed webhooks; replies
go to a fake Graph API in this process that timestamps them. Traffic is `.produk`, `.saldo` and
`.buy` (saldo). Open loop for latency (default 200 customers, one message every 2 s each, ~100
msg/s, 20 s, after a lighter phase of one message every 6 s, ~33 msg/s, 12 s), then a closed-loop saturation run for the rate.

    .venv/bin/python bench/webhook_latency.py [--customers 200 --interval 2 --duration 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets

from common import (
    BenchDatabase, CpuMeter, FakeGraph, TokowaServer, clean_redis, customer, line, ms, out, percentile, seed_shop,
)
from load import buy_text, closed_loop, open_loop


def mix(codes: list[str]) -> object:
    def pick(rng: random.Random, user: str) -> str:
        roll = rng.random()
        if roll < 0.5:
            return ".produk"
        if roll < 0.8:
            return ".saldo"
        return buy_text(rng.choice(codes), user)
    return pick


def cpu_line(meter: CpuMeter, replies: int) -> None:
    """CPU per message (per reply) summed over tokowa serve, its PostgreSQL backends and redis-server."""
    if replies:
        per = 1e6 / replies
        out(line("CPU µs per message, all processes", f"{meter.total * per:,.0f}  (app {meter.app * per:,.0f}, "
                 f"PostgreSQL {meter.db * per:,.0f}, Redis {meter.redis * per:,.0f})"))


async def main(args: argparse.Namespace) -> None:
    prefix = f"bench:{secrets.token_hex(4)}:"
    graph = await FakeGraph().start()
    try:
        async with BenchDatabase(**({"PYTHONPATH": args.src} if args.src else {})) as db, \
                TokowaServer(db, graph.url, prefix, f"src={args.src}" if args.src else "") as server:
            users = [customer(n) for n in range(args.customers + args.clients * 10)]
            codes = await seed_shop(server.port, users)
            pick = mix(codes)
            await open_loop(server.port, graph, users[:50], 0.5, 2.0, pick)  # warm-up
            for interval, duration in ((args.light_interval, args.light_duration), (args.interval, args.duration)):
                if duration <= 0:
                    continue
                assert server.process is not None
                meter, received = CpuMeter(server.process.pid, db.name), graph.received
                await meter.start()
                o = await open_loop(server.port, graph, users[:args.customers], interval, duration, pick)
                await meter.stop()
                out(f"(a) webhook latency, open loop: {args.customers} customers, one message every {interval:g} s "
                    f"(~{args.customers / interval:.0f} msg/s offered), {duration:g} s (.produk 50% / .saldo 30% / .buy 20%)")
                out(line("messages acknowledged", f"{len(o.acks)} ({len(o.acks) / duration:.0f} msg/s), errors {o.errors}"))
                out(line("ack latency p50 / p99", f"{ms(percentile(o.acks, 50))} / {ms(percentile(o.acks, 99))}"))
                out(line("end-to-end (webhook -> Graph API) p50 / p99",
                         f"{ms(percentile(o.e2e, 50))} / {ms(percentile(o.e2e, 99))}  ({o.replied} replies)"))
                cpu_line(meter, graph.received - received)
            numbers = [users[args.customers + i * 10: args.customers + (i + 1) * 10] for i in range(args.clients)]
            meter, received = CpuMeter(server.process.pid, db.name), graph.received
            await meter.start()
            c = await closed_loop(server.port, graph, numbers, 2.0, args.saturation, pick)
            await meter.stop()
            out(f"(a) saturation, closed loop: {args.clients} clients back to back, {args.saturation:g} s")
            out(line("messages/s (reply received)", f"{c.replied / c.seconds:.0f}, errors {c.errors}"))
            out(line("ack p50 / p99 at saturation (queueing)", f"{ms(percentile(c.acks, 50))} / {ms(percentile(c.acks, 99))}"))
            out(line("end-to-end p50 at saturation", ms(percentile(c.e2e, 50))))
            cpu_line(meter, graph.received - received)
            failed = sum("failing open" in entry for entry in server.log_path.read_text(errors="replace").splitlines())
            out(line("Redis calls failed open (whole run)", f"{failed}{'  (Redis skipped: not comparable)' if failed else ''}"))
    finally:
        await graph.stop()
        await clean_redis(prefix)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--customers", type=int, default=200)
    p.add_argument("--interval", type=float, default=2.0)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--light-interval", type=float, default=6.0, help="a second, lighter open-loop phase")
    p.add_argument("--light-duration", type=float, default=12.0, help="0 skips it")
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--saturation", type=float, default=8.0)
    p.add_argument("--src", help="run another tree's code (e.g. `git archive COMMIT | tar -x -C DIR`), migrated by it")
    asyncio.run(main(p.parse_args()))
