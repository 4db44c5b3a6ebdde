"""`kill -9` in the middle of a purchase loses nothing: another `tokowa serve` takes the message up
from the durable inbox once its lease runs out, buys once and replies once."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.fixtures.storage import run_sync, truncate_all
from tests.support.processes import TOKOWA, free_port
from tests.support.shop import ADMIN, ALICE, BOB, Shop
from tests.support.wiring import TEST_SECRET_KEY, close, production_adapters
from tests.whatsapp.conftest import GRAPH_OK, FakeHttpServer

pytestmark = pytest.mark.slow
APP_SECRET = "kill9-app-secret"


def _buy_webhook(message_id: str) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281100000000", "phone_number_id": "100000000000001"},
        "contacts": [{"profile": {"name": "Alice"}, "wa_id": ALICE}],
        # Sent just now: a purchase sent long before it is processed would not run.
        "messages": [{"from": ALICE, "id": message_id, "timestamp": str(int(time.time())), "type": "text",
                      "text": {"body": ".buy VC 1 saldo"}}],
    }
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}).encode()


def _serve(env: dict[str, str], cwd: Path, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen([TOKOWA, "serve", "--port", str(port)], cwd=cwd, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(150):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    pytest.fail("tokowa serve did not start")


async def _seed(pg_url: str) -> None:
    adapters = production_adapters(pg_url)
    shop = Shop(adapters)
    try:
        await shop.say(ADMIN, ".addproduk VC|Voucher|10000|5")
        await shop.say(ADMIN, f".addsaldo {ALICE} 50000")
    finally:
        await close(adapters)


async def _state(pg_url: str) -> tuple[int, int, int]:
    adapters = production_adapters(pg_url)
    try:
        async with adapters.unit_of_work() as uow:
            orders = await uow.orders.recent_of(ALICE)
            stock = (await uow.products.get("VC")).stock  # type: ignore[union-attr]
            return len(orders), (await uow.wallets.get(ALICE)).balance.value, stock
    finally:
        await close(adapters)


def test_a_worker_killed_mid_purchase_loses_nothing(pg_url: str, tmp_path: Path) -> None:
    run_sync(truncate_all(pg_url))
    run_sync(_seed(pg_url))
    with FakeHttpServer(GRAPH_OK) as graph:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKOWA_", "WHATSAPP_", "GOWA_", "MIDTRANS_"))}
        env.update({"DATABASE_URL": pg_url, "TOKOWA_SECRET_KEY": TEST_SECRET_KEY, "WHATSAPP_ACCESS_TOKEN": "token",
                    "WHATSAPP_APP_SECRET": APP_SECRET, "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
                    "WHATSAPP_API_URL": graph.url, "TOKOWA_LEASE_SECONDS": "3", "TOKOWA_DELIVERY_INTERVAL": "0.5"})
        dsn = pg_url.replace("+asyncpg", "")
        body = _buy_webhook("wamid.kill9")
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()

        async def kill_mid_purchase() -> None:
            blocker = await asyncpg.connect(dsn)
            try:
                async with blocker.transaction():
                    # Hold the product row: the purchase will get as far as taking the stock, and wait.
                    await blocker.execute("SELECT 1 FROM produk WHERE id = 'VC' FOR UPDATE")
                    first = _serve(env, tmp_path, free_port())
                    port = first.args[3]
                    async with httpx.AsyncClient() as client:
                        response = await client.post(f"http://127.0.0.1:{port}/webhooks/whatsapp", content=body,
                                                     headers={"Content-Type": "application/json",
                                                              "X-Hub-Signature-256": signature})
                    assert response.status_code == 200
                    await asyncio.sleep(1.0)
                    first.send_signal(signal.SIGKILL)  # kill -9, mid-purchase
                    first.wait(timeout=10)
            finally:
                await blocker.close()

        asyncio.run(kill_mid_purchase())
        assert run_sync(_state(pg_url)) == (0, 50_000, 5)  # the dead worker's transaction left nothing
        assert graph.requests == []
        second = _serve(env, tmp_path, free_port())
        try:
            deadline = time.monotonic() + 30
            while not graph.requests and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1.5)  # a duplicate, if there were one, would come now
        finally:
            second.terminate()
            second.wait(timeout=15)
        replies = [r.body for r in graph.requests if r.body.get("to") == ALICE]
        assert len(replies) == 1 and "Pembelian berhasil" in json.dumps(replies[0], ensure_ascii=False)
        assert run_sync(_state(pg_url)) == (1, 40_000, 4)


def _webhook(sender: str, message_id: str, text: str) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281100000000", "phone_number_id": "100000000000001"},
        "contacts": [{"profile": {"name": "Customer"}, "wa_id": sender}],
        "messages": [{"from": sender, "id": message_id, "timestamp": str(int(time.time())), "type": "text",
                      "text": {"body": text}}],
    }
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}).encode()


def test_on_sqlite_a_worker_killed_with_acknowledged_messages_waiting_loses_nothing(
        sqlite_url: str, tmp_path: Path) -> None:
    """The embedded default processes a few messages at a time (TOKOWA_PROCESSING_CONCURRENCY);
    the others wait, acknowledged, in the inbox. A `kill -9` then loses none of them: the next
    `tokowa serve` on the same file takes them up, buys once and replies once."""
    run_sync(_seed(sqlite_url))
    release = threading.Event()
    with FakeHttpServer(GRAPH_OK) as graph:
        graph.before_answer = lambda: release.wait(10)  # the first reply's send hangs at "Meta"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKOWA_", "WHATSAPP_", "GOWA_", "MIDTRANS_"))}
        env.update({"DATABASE_URL": sqlite_url, "TOKOWA_SECRET_KEY": TEST_SECRET_KEY, "WHATSAPP_ACCESS_TOKEN": "token",
                    "WHATSAPP_APP_SECRET": APP_SECRET, "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
                    "WHATSAPP_API_URL": graph.url, "TOKOWA_LEASE_SECONDS": "3", "TOKOWA_DELIVERY_INTERVAL": "0.5",
                    "TOKOWA_PROCESSING_CONCURRENCY": "1"})
        first = _serve(env, tmp_path, free_port())
        port = first.args[3]
        try:
            for sender, message_id, text in ((BOB, "wamid.sq.1", ".produk"), (ALICE, "wamid.sq.2", ".buy VC 1 saldo")):
                body = _webhook(sender, message_id, text)
                signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
                response = httpx.post(f"http://127.0.0.1:{port}/webhooks/whatsapp", content=body,
                                      headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
                assert response.status_code == 200
                if sender == BOB:  # Bob's message holds the one processing slot until Meta answers
                    deadline = time.monotonic() + 10
                    while not graph.requests and time.monotonic() < deadline:
                        time.sleep(0.05)
                    assert graph.requests, "the first reply was never sent"
            time.sleep(0.5)
        finally:
            first.send_signal(signal.SIGKILL)  # kill -9 with Alice's purchase acknowledged, not yet run
            first.wait(timeout=10)
        release.set()
        assert run_sync(_state(sqlite_url)) == (0, 50_000, 5)
        second = _serve(env, tmp_path, free_port())
        try:
            deadline = time.monotonic() + 30
            while not [r for r in graph.requests if r.body.get("to") == ALICE] and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1.5)  # a duplicate, if there were one, would come now
        finally:
            second.terminate()
            second.wait(timeout=15)
        replies = [r.body for r in graph.requests if r.body.get("to") == ALICE]
        assert len(replies) == 1 and "Pembelian berhasil" in json.dumps(replies[0], ensure_ascii=False)
        assert run_sync(_state(sqlite_url)) == (1, 40_000, 4)
