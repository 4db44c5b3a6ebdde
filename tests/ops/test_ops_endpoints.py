"""/healthz, /readyz and /metrics as an operator's monitoring sees them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from application.ports import PaymentState
from entrypoints.bootstrap import build_application
from entrypoints.web.app import create_app
from tests.ops.conftest import TOKEN
from tests.support.shop import ADMIN, ALICE, BOB, Shop, settings

Client = AsyncTestClient[Any]
KEY = "a" * 43 + "="


def sample(text: str, name: str) -> float:
    """The value of one sample line (`name` includes its labels) of a Prometheus exposition."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not exported")


async def test_healthz_and_readyz_on_the_in_memory_shop(client: Client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "memory", "redis": "not_configured", "whatsapp": "up"}


async def _readiness(**env: str) -> tuple[int, dict[str, str]]:
    config = settings(TOKOWA_SERVER_JOBS="false", **env)
    container = build_application(config)
    async with AsyncTestClient(create_app(config, container)) as client:
        response = await client.get("/readyz")
        return response.status_code, response.json()


async def test_ready_with_the_database_degraded_without_redis(sqlite_url: str) -> None:
    assert await _readiness(DATABASE_URL=sqlite_url) == (
        200, {"status": "ready", "database": "up", "redis": "not_configured", "whatsapp": "up"})
    assert await _readiness(DATABASE_URL=sqlite_url, REDIS_URL="redis://127.0.0.1:6379/0") == (
        200, {"status": "ready", "database": "up", "redis": "up", "whatsapp": "up"})
    assert await _readiness(DATABASE_URL=sqlite_url, REDIS_URL="redis://127.0.0.1:1/0") == (
        200, {"status": "degraded", "database": "up", "redis": "down", "whatsapp": "up"})


async def test_not_ready_when_the_database_is_unreachable() -> None:
    status, body = await _readiness(DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:1/none",
                                    TOKOWA_SECRET_KEY=KEY)
    assert status == 503
    assert body == {"status": "unavailable", "database": "down", "redis": "not_configured", "whatsapp": "up"}


async def test_metrics_count_messages_commands_payments_cache_and_locks(client: Client, ops_shop: Shop) -> None:
    await ops_shop.say(ALICE, ".saldo")
    await ops_shop.say(ALICE, ".produk")
    await ops_shop.say(ALICE, ".produk")
    await ops_shop.say(ALICE, ".buy VC 1 saldo")
    await ops_shop.say(ALICE, ".buy NOPE 1 saldo")
    await ops_shop.send(ALICE, ".saldo", message_id="wamid.same")
    await ops_shop.send(ALICE, ".saldo", message_id="wamid.same")
    for text in (".buy VC", ".batal", ".buy VC 2", ".batal", ".buy VC 3", ".buy VC 1"):  # the 4th buy: too many
        await ops_shop.say(BOB, text)
    order = await ops_shop.last_order_of(BOB)
    await ops_shop.pay(order.id, PaymentState.PAID)
    await ops_shop.say(ADMIN, ".addstok VC 1")

    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert sample(text, 'tokowa_messages_received_total{result="accepted"}') == 13
    assert sample(text, 'tokowa_messages_received_total{result="redelivered"}') == 1
    assert sample(text, "tokowa_message_processing_seconds_count") == 13
    assert sample(text, 'tokowa_messages_sent_total{result="sent"}') == len(ops_shop.messenger.all_sent())
    assert sample(text, 'tokowa_transactions_total{operation="buy",result="ok"}') == 4
    assert sample(text, 'tokowa_transactions_total{operation="buy",result="refused"}') >= 1
    assert sample(text, 'tokowa_payment_outcomes_total{outcome="changed",state="settlement"}') == 1
    assert sample(text, 'tokowa_cache_requests_total{result="hit"}') >= 1
    assert sample(text, 'tokowa_cache_requests_total{result="miss"}') >= 1
    assert sample(text, 'tokowa_lock_acquisitions_total{result="acquired"}') >= 2
    assert sample(text, "tokowa_rate_limit_violations_total") >= 1
    assert sample(text, "tokowa_redis_breaker_open") == 0
    assert sample(text, "tokowa_uptime_seconds") >= 0
    assert TOKEN not in text


async def test_metrics_time_queries_and_show_the_pool(sqlite_url: str) -> None:
    config = settings(TOKOWA_SERVER_JOBS="false", DATABASE_URL=sqlite_url)
    async with AsyncTestClient(create_app(config, build_application(config))) as client:
        await client.get("/readyz")
        text = (await client.get("/metrics")).text
    assert sample(text, "tokowa_db_query_seconds_count") >= 1
    assert sample(text, "tokowa_db_pool_size") == config.db_pool_size


_WORKER = """
import sys
from entrypoints.metrics import Metrics
metrics = Metrics()
for _ in range(int(sys.argv[1])):
    metrics.messages_in.labels("accepted").inc()
    metrics.processing.observe(0.01)
if len(sys.argv) > 2:
    sys.stdout.buffer.write(metrics.render())
"""


def test_several_worker_processes_are_summed_in_multiprocess_mode(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(Path.cwd())}
    for count in ("3", "4"):
        subprocess.run([sys.executable, "-c", _WORKER, count], env=env, check=True, timeout=60)
    scraped = subprocess.run([sys.executable, "-c", _WORKER, "5", "render"], env=env, check=True,
                             capture_output=True, text=True, timeout=60).stdout
    assert sample(scraped, 'tokowa_messages_received_total{result="accepted"}') == 12
    assert sample(scraped, "tokowa_message_processing_seconds_count") == 12


_BUSY_WORKER = """
import asyncio, sys
import entrypoints.metrics as metrics_module
from adapters.coordination.stats import CoordinationStats
entrypoints_metrics = metrics_module
entrypoints_metrics.REFRESH_EVERY = 0.05
metrics = entrypoints_metrics.Metrics()
stats = CoordinationStats()
metrics.watch_coordination(stats)
copies = 0
refresh = metrics.refresh
def counted() -> None:
    global copies
    copies += 1
    refresh()
metrics.refresh = counted

async def main() -> None:
    for _ in range(50):  # a burst of messages, each a cache hit
        stats.cache_hits += 1
        metrics.after_message()
        await asyncio.sleep(0)
    await asyncio.sleep(0.2)  # then the process goes quiet
asyncio.run(main())
print(copies)
"""


def test_a_busy_worker_copies_its_counters_once_per_burst_and_none_is_lost(tmp_path: Path) -> None:
    # With several workers, a scrape answered by another process must still see every cache hit
    # of this one, even when it goes quiet right after; copying them once per message would cost
    # a file write per message.
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(Path.cwd())}
    busy = subprocess.run([sys.executable, "-c", _BUSY_WORKER], env=env, check=True, capture_output=True,
                          text=True, timeout=60)
    assert busy.stdout.split() == ["1"]
    scraped = subprocess.run([sys.executable, "-c", _WORKER, "0", "render"], env=env, check=True,
                             capture_output=True, text=True, timeout=60).stdout
    assert sample(scraped, 'tokowa_cache_requests_total{result="hit"}') == 50
