"""Two `tokowa serve` processes on one PostgreSQL and Redis behave as one shop: concurrent
purchases fired at both never oversell and never deliver an item twice."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from domain.order import OrderStatus
from tests.fixtures.storage import run_sync, truncate_all
from tests.support.processes import TOKOWA, free_port
from tests.support.wiring import TEST_SECRET_KEY, close, production_adapters

ADMIN = "6281100000001"
CUSTOMERS = [f"62813{n:08d}" for n in range(30)]
ITEMS = [f"acc{n}@mail.test|pw{n}" for n in range(10)]
pytestmark = pytest.mark.slow


@pytest.fixture
def two_servers(pg_url: str, tmp_path: Path) -> Iterator[list[str]]:
    run_sync(truncate_all(pg_url))
    prefix = f"tokowa-test:{secrets.token_hex(4)}:"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKOWA_", "WHATSAPP_", "GOWA_", "MIDTRANS_"))}
    env.update({"DATABASE_URL": pg_url, "REDIS_URL": "redis://127.0.0.1:6379/0", "TOKOWA_REDIS_PREFIX": prefix,
                "TOKOWA_SECRET_KEY": TEST_SECRET_KEY, "TOKOWA_ADMIN_NUMBERS": ADMIN,
                "TOKOWA_DEMO": "true"})  # the simulator on PostgreSQL, on purpose
    ports = [free_port(), free_port()]
    servers = [subprocess.Popen([TOKOWA, "serve", "--port", str(p)], cwd=tmp_path, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for p in ports]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        for url in urls:
            for _ in range(150):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                pytest.fail(f"{url} did not start")
        yield urls
    finally:
        for server in servers:
            server.terminate()
            server.communicate(timeout=15)
        import redis

        client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)


async def _say(client: httpx.AsyncClient, url: str, user: str, text: str) -> str:
    response = await client.post(f"{url}/sim/messages", json={"user": user, "text": text})
    assert response.status_code == 201, response.text
    return "\n".join(m["text"] for m in response.json()["messages"])


async def _race(urls: list[str]) -> list[str]:
    async with httpx.AsyncClient(timeout=30) as client:
        await _say(client, urls[0], ADMIN, ".addproduk NF1|Netflix|35000|0")
        await _say(client, urls[1], ADMIN, ".addstok NF1\n" + "\n".join(ITEMS))
        for n, user in enumerate(CUSTOMERS):
            await _say(client, urls[n % 2], ADMIN, f".addsaldo {user} 35000")
        return await asyncio.gather(
            *(_say(client, urls[n % 2], user, ".buy NF1 1 saldo") for n, user in enumerate(CUSTOMERS)))


def test_concurrent_purchases_at_two_instances_never_oversell_or_deliver_twice(
        two_servers: list[str], pg_url: str) -> None:
    replies = asyncio.run(_race(two_servers))
    winners = [r for r in replies if "Pembelian berhasil" in r]
    assert len(winners) == len(ITEMS)
    delivered = [item for r in winners for item in ITEMS if item in r]
    assert sorted(delivered) == sorted(ITEMS)  # every item once, none twice

    async def state() -> tuple[int, int, int]:
        adapters = production_adapters(pg_url)
        try:
            async with adapters.unit_of_work() as uow:
                product = await uow.products.get("NF1")
                paid = await uow.orders.recent(OrderStatus.PAID, limit=100)
                balances = [(await uow.wallets.get(u)).balance.value for u in CUSTOMERS]
            assert product is not None
            return product.stock, len(paid), sum(balances)
        finally:
            await close(adapters)

    stock, paid, money_left = run_sync(state())
    assert (stock, paid) == (0, len(ITEMS))
    assert money_left == 35_000 * (len(CUSTOMERS) - len(ITEMS))


def test_serve_with_two_worker_processes(pg_url: str, tmp_path: Path) -> None:
    run_sync(truncate_all(pg_url))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKOWA_", "WHATSAPP_", "GOWA_", "MIDTRANS_"))}
    env.update({"DATABASE_URL": pg_url, "TOKOWA_SECRET_KEY": TEST_SECRET_KEY, "WHATSAPP_ACCESS_TOKEN": "token",
                "WHATSAPP_APP_SECRET": "secret", "WHATSAPP_PHONE_NUMBER_ID": "1"})
    server = subprocess.Popen([TOKOWA, "serve", "--port", str(port), "--workers", "2"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pids: set[str] = set()
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("the workers did not start")
        children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        pids.update(children)
        assert len(pids) >= 2
    finally:
        server.terminate()
        server.communicate(timeout=20)


def test_demo_mode_refuses_several_workers(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKOWA_", "WHATSAPP_", "GOWA_", "DATABASE_URL"))}
    result = subprocess.run([TOKOWA, "serve", "--port", str(free_port()), "--workers", "2"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "--workers 1 in demo mode" in result.stderr
