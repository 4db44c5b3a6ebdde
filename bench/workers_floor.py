"""The floor of `--workers 2` on this machine: a no-op ASGI app under uvicorn with one worker and
with two, CPU microseconds per request in alternating closed-loop rounds.

No database, no Redis, no application: what is left is uvicorn, its event loop and the sockets. If
two workers cost more CPU per request here, they cost at least that much more for any app on this
machine (bench/README.md, "Draft (w2)"). The raw app's own floor is `purchase_throughput.py
--skip-tokowa --raw aiohttp+uvicorn --raw aiohttp+uvicorn+workers2`.

    .venv/bin/python bench/workers_floor.py [--rounds 6 --seconds 3 --clients 64]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import time
from pathlib import Path
from typing import Any

from common import BIN, HttpPool, free_port, out, proc_cpu, process_tree, wait_until_up


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the body, answers 200 "ok": nothing else."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def closed_loop(port: int, clients: int, seconds: float) -> int:
    """Clients POSTing a webhook-sized body back to back; returns the requests answered."""
    pool, answered, stop = HttpPool(port, clients), 0, time.perf_counter() + seconds
    body = b"x" * 900

    async def client() -> None:
        nonlocal answered
        while time.perf_counter() < stop:
            await pool.request("POST", "/", body, {"Content-Type": "application/json"})
            answered += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    await pool.close()
    return answered


async def main(args: argparse.Namespace) -> None:
    servers: dict[int, tuple[int, subprocess.Popen[bytes]]] = {}
    cpu, requests = {1: 0.0, 2: 0.0}, {1: 0, 2: 0}
    try:
        for workers in (1, 2):
            port = free_port()
            servers[workers] = port, subprocess.Popen(
                [str(BIN / "uvicorn"), "workers_floor:app", "--app-dir", str(Path(__file__).parent), "--port", str(port),
                 "--log-level", "warning", "--no-access-log", *(["--workers", str(workers)] if workers > 1 else [])])
            await wait_until_up(port, servers[workers][1], "/")
        await asyncio.sleep(1)
        for _ in range(args.rounds):  # alternating: load from elsewhere falls on both alike
            for workers, (port, process) in servers.items():
                pids = process_tree(process.pid)  # the supervisor and its workers
                before = sum(proc_cpu(pid) for pid in pids)
                requests[workers] += await closed_loop(port, args.clients, args.seconds)
                cpu[workers] += sum(proc_cpu(pid) for pid in pids) - before
    finally:
        for _, process in servers.values():
            process.terminate()
            process.wait(timeout=15)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    out(f"no-op ASGI app under uvicorn, {args.clients} clients, {args.rounds} alternating rounds of {args.seconds:g} s "
        f"(load average {load} at the end)")
    for workers in (1, 2):
        out(f"  {workers} worker(s): {requests[workers] / (args.rounds * args.seconds):,.0f} requests/s, "
            f"{cpu[workers] * 1e6 / requests[workers]:.1f} µs CPU per request")
    out(f"  2 / 1: requests/s {requests[2] / requests[1]:.2f}x, CPU per request "
        f"{(cpu[2] / requests[2]) / (cpu[1] / requests[1]):.2f}x")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--seconds", type=float, default=3.0, help="seconds per round and server")
    p.add_argument("--clients", type=int, default=64)
    asyncio.run(main(p.parse_args()))
