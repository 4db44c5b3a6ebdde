"""The two load shapes: open loop (customers on a timer, for latency) and closed loop (clients sending
back to back as soon as the reply arrives, for saturation throughput)."""

from __future__ import annotations

import asyncio
import itertools
import random
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from common import FakeGraph, HttpPool, signed_message

Pick = Callable[[random.Random, str], str]  # (the customer's generator, the customer) -> text


_buys: dict[str, int] = defaultdict(int)


def buy_text(code: str, user: str) -> str:
    """`.buy CODE QTY`, the quantity 1, 2, 3, 4, 1, ... per customer. Tokowa asks before a second
    purchase of the same product and quantity by one customer within 60 s (a double tap: `refuse_repeat`,
    which looks at the customer's last three orders), and a benchmark customer buys every few seconds:
    with one quantity every purchase after the first would be answered with that question instead."""
    _buys[user] += 1
    return f".buy {code} {1 + (_buys[user] - 1) % 4}"


@dataclass
class Result:
    acks: list[float] = field(default_factory=list)
    e2e: list[float] = field(default_factory=list)
    errors: int = 0
    sent: int = 0
    replied: int = 0
    seconds: float = 0.0


async def open_loop(port: int, graph: FakeGraph, customers: list[str], interval: float, duration: float,
                    pick: Pick, connections: int = 64) -> Result:
    """Each customer sends one message every `interval` s (random phase) for `duration` s."""
    result = Result()
    pool = HttpPool(port, connections)
    outstanding: dict[str, deque[float]] = defaultdict(deque)

    def replied(to: str, arrived: float) -> None:
        waiting = outstanding.get(to)
        if waiting:
            result.e2e.append(arrived - waiting.popleft())
            result.replied += 1

    graph.on_message = replied
    counter = itertools.count()
    start = time.perf_counter()

    async def send(user: str, text: str) -> None:
        body, headers = signed_message(user, f"wamid.BENCH.{secrets.token_hex(6)}.{next(counter)}", text)
        outstanding[user].append(time.perf_counter())
        try:
            status, _, seconds = await pool.request("POST", "/webhooks/whatsapp", body, headers)
        except (OSError, asyncio.IncompleteReadError):
            result.errors += 1
            return
        result.sent += 1
        if status == 200:
            result.acks.append(seconds)
        else:
            result.errors += 1

    async def customer_loop(user: str, rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(0, interval))
        tasks = []
        next_at = time.perf_counter()
        while next_at - start < duration:
            tasks.append(asyncio.create_task(send(user, pick(rng, user))))
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        await asyncio.gather(*tasks)

    await asyncio.gather(*(customer_loop(u, random.Random(i)) for i, u in enumerate(customers)))
    deadline = time.perf_counter() + 10
    while result.replied < result.sent and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    result.seconds = time.perf_counter() - start
    graph.on_message = None
    await pool.close()
    return result


async def closed_loop(port: int, graph: FakeGraph, numbers: list[list[str]], warmup: float, duration: float,
                      pick: Pick, timeout: float = 30.0) -> Result:
    """One client per list of numbers; each sends, waits for the reply at the Graph API, sends again,
    cycling through its numbers (so Meta's per-recipient pacing never holds a reply back)."""
    result = Result()
    pool = HttpPool(port, len(numbers))
    counter = itertools.count()
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + duration

    async def client(mine: list[str], rng: random.Random) -> None:
        for user in itertools.cycle(mine):
            begun = time.perf_counter()
            if begun >= stop_at:
                return
            body, headers = signed_message(user, f"wamid.BENCH.{secrets.token_hex(6)}.{next(counter)}", pick(rng, user))
            reply = graph.expect(user)
            try:
                status, _, ack = await pool.request("POST", "/webhooks/whatsapp", body, headers)
                arrived = await asyncio.wait_for(reply, timeout) if status == 200 else None
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
                arrived = None
            if arrived is None:
                result.errors += 1
                continue
            if begun >= measure_from and arrived <= stop_at:
                result.replied += 1
                result.acks.append(ack)
                result.e2e.append(arrived - begun)

    await asyncio.gather(*(client(mine, random.Random(i)) for i, mine in enumerate(numbers)))
    result.seconds = duration
    await pool.close()
    return result
