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
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.fixtures.storage import run_sync, truncate_all
from tests.support.processes import TOKOWA, free_port
from tests.support.shop import ADMIN, ALICE, Shop
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


def _batch_webhook(messages: list[tuple[str, str, str]]) -> bytes:
    """One Cloud API delivery carrying several messages: (sender, message id, text) each."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281100000000", "phone_number_id": "100000000000001"},
        "contacts": [{"profile": {"name": "Customer"}, "wa_id": sender} for sender, _, _ in messages],
        "messages": [{"from": sender, "id": message_id, "timestamp": str(int(time.time())), "type": "text",
                      "text": {"body": text}} for sender, message_id, text in messages],
    }
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}).encode()


BUYERS = [f"62857000000{n:02d}" for n in range(20)]


async def _seed_buyers(url: str) -> None:
    adapters = production_adapters(url)
    shop = Shop(adapters)
    try:
        await shop.say(ADMIN, ".addproduk VC|Voucher|10000|50")
        for buyer in BUYERS:
            await shop.say(ADMIN, f".addsaldo {buyer} 50000")
    finally:
        await close(adapters)


async def _books(url: str) -> tuple[int, list[int], int]:
    adapters = production_adapters(url)
    try:
        async with adapters.unit_of_work() as uow:
            orders = sum([len(await uow.orders.recent_of(buyer)) for buyer in BUYERS])
            balances = [(await uow.wallets.get(buyer)).balance.value for buyer in BUYERS]
            stock = (await uow.products.get("VC")).stock  # type: ignore[union-attr]
            return orders, balances, stock
    finally:
        await close(adapters)


def test_on_sqlite_a_worker_killed_with_acknowledged_messages_waiting_loses_nothing(
        sqlite_url: str, tmp_path: Path) -> None:
    """The embedded default runs a few messages at a time (TOKOWA_PROCESSING_CONCURRENCY); the
    others wait, acknowledged. A `kill -9` just after acknowledging twenty purchases loses none
    and doubles none: the next `tokowa serve` on the same file takes up the rest, and every
    customer has bought once and is answered once."""
    run_sync(_seed_buyers(sqlite_url))
    with FakeHttpServer(GRAPH_OK) as graph:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKOWA_", "WHATSAPP_", "GOWA_", "MIDTRANS_"))}
        env.update({"DATABASE_URL": sqlite_url, "TOKOWA_SECRET_KEY": TEST_SECRET_KEY, "WHATSAPP_ACCESS_TOKEN": "token",
                    "WHATSAPP_APP_SECRET": APP_SECRET, "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
                    "WHATSAPP_API_URL": graph.url, "TOKOWA_LEASE_SECONDS": "3", "TOKOWA_DELIVERY_INTERVAL": "0.5",
                    "TOKOWA_PROCESSING_CONCURRENCY": "1"})
        body = _batch_webhook([(buyer, f"wamid.sq.{n}", ".buy VC 1 saldo") for n, buyer in enumerate(BUYERS)])
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        first = _serve(env, tmp_path, free_port())
        try:
            response = httpx.post(f"http://127.0.0.1:{first.args[3]}/webhooks/whatsapp", content=body,
                                  headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
            assert response.status_code == 200
        finally:
            first.send_signal(signal.SIGKILL)  # kill -9 with the purchases acknowledged, most still waiting
            first.wait(timeout=10)
        second = _serve(env, tmp_path, free_port())
        try:
            deadline = time.monotonic() + 60
            while len({r.body.get("to") for r in graph.requests}) < len(BUYERS) and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1.5)  # a duplicate, if there were one, would come now
        finally:
            second.terminate()
            second.wait(timeout=15)
        replies = sorted(str(r.body.get("to")) for r in graph.requests)
        assert replies == sorted(BUYERS)  # everyone answered, once
        assert all("Pembelian berhasil" in json.dumps(r.body, ensure_ascii=False) for r in graph.requests)
        assert run_sync(_books(sqlite_url)) == (20, [40_000] * 20, 30)
