"""The raw reference app: a purchase by WhatsApp webhook with plain asyncpg + redis-py behind uvicorn,
no framework layers. It does the database and Redis work Tokowa does for a `.buy` paid with saldo,
on Tokowa's own schema, and the same outbound Graph API POST (httpx, like Tokowa's messenger):

  webhook: check the signature, parse; one transaction: inbox row (ON CONFLICT DO NOTHING) and the
           customer row (ON CONFLICT DO NOTHING); answer 200; then in a background task:
  rate limit INCR + EXPIRE (one pipelined round trip) -> lock SET NX PX ->
  one transaction: product and wallet FOR UPDATE, the customer's last three orders (Tokowa asks
  before the same product and quantity is bought again within 60 s), ledger row, debit, stock,
  order (stock item assigned when the product uses items) -> lock release (compare-and-delete script) ->
  one transaction: outbox row + inbox row finished -> POST to the Graph API -> outbox row sent.

    RAW_DSN=postgresql://... REDIS_URL=... RAW_REDIS_PREFIX=... WHATSAPP_API_URL=... \
    WHATSAPP_APP_SECRET=... .venv/bin/uvicorn raw_app:app --app-dir bench --port N
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class State:
    pool: asyncpg.Pool
    redis: aioredis.Redis
    http: httpx.AsyncClient
    release: Any
    url: str
    secret: bytes
    prefix: str
    tasks: set[asyncio.Task[None]] = set()


S = State()


async def startup() -> None:
    S.pool = await asyncpg.create_pool(os.environ["RAW_DSN"], min_size=10, max_size=20)
    S.redis = aioredis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    S.release = S.redis.register_script(RELEASE)
    S.http = httpx.AsyncClient(timeout=10.0, headers={"Authorization": f"Bearer {os.environ['WHATSAPP_ACCESS_TOKEN']}"})
    S.url = f"{os.environ['WHATSAPP_API_URL']}/{os.environ['WHATSAPP_PHONE_NUMBER_ID']}/messages"
    S.secret = os.environ["WHATSAPP_APP_SECRET"].encode()
    S.prefix = os.environ.get("RAW_REDIS_PREFIX", "")


async def shutdown() -> None:
    if S.tasks:
        await asyncio.wait(set(S.tasks), timeout=10)
    await S.http.aclose()
    await S.redis.aclose()
    await S.pool.close()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await startup()
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["path"] == "/healthz":
        return await respond(send, 200, b'{"status":"ok"}')
    body = b""
    while True:
        event = await receive()
        body += event.get("body", b"")
        if not event.get("more_body"):
            break
    headers = dict(scope["headers"])
    expected = "sha256=" + hmac.new(S.secret, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), headers.get(b"x-hub-signature-256", b"")):
        return await respond(send, 401, b'{"error":"bad signature"}')
    value = json.loads(body)["entry"][0]["changes"][0]["value"]
    message = value["messages"][0]
    sender, message_id, text = message["from"], message["id"], message["text"]["body"]
    now = datetime.now(timezone.utc)
    async with S.pool.acquire() as conn, conn.transaction():
        first = await conn.fetchval(
            "INSERT INTO inbox (message_id, received_at, sender, body, lease_until) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT DO NOTHING RETURNING 1",
            message_id, now, sender, json.dumps({"text": text, "business_user_id": None}), now + timedelta(seconds=120))
        if first:
            await conn.execute("INSERT INTO users (user_id, saldo, role, data, created_at) VALUES ($1, 0, 'bronze', '{}', $2) "
                               "ON CONFLICT DO NOTHING", sender, now)
    if first:
        task = asyncio.get_running_loop().create_task(process(sender, message_id, text))
        S.tasks.add(task)
        task.add_done_callback(S.tasks.discard)
    await respond(send, 200, b'{"status":"ok"}')


async def respond(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def process(sender: str, message_id: str, text: str) -> None:
    words = text.split()
    code, qty = words[1].upper(), int(words[2]) if len(words) > 2 else 1
    pipe = S.redis.pipeline(transaction=False)
    limit_key = f"{S.prefix}ratelimit:{sender}:buy"
    pipe.incr(limit_key)
    pipe.expire(limit_key, 60, nx=True)
    count, _ = await pipe.execute()
    if count > 10_000:
        return
    lock_key, token = f"{S.prefix}lock:buy:{sender}", secrets.token_hex(8)
    if not await S.redis.set(lock_key, token, nx=True, px=30_000):
        return
    try:
        reply = await purchase(sender, code, qty, message_id)
    finally:
        await S.release(keys=[lock_key], args=[token])
    now = datetime.now(timezone.utc)
    async with S.pool.acquire() as conn, conn.transaction():
        outbox_id = await conn.fetchval(
            "INSERT INTO outbox (recipient, payload, created_at, lease_until, attempts) VALUES ($1, $2, $3, $4, 0) "
            "RETURNING id", sender, json.dumps({"text": reply}), now, now + timedelta(seconds=60))
        await conn.execute("UPDATE inbox SET finished_at = $2 WHERE message_id = $1", message_id, now)
    response = await S.http.post(S.url, json={"messaging_product": "whatsapp", "recipient_type": "individual",
                                              "to": sender, "type": "text", "text": {"body": reply}})
    if response.status_code == 200:
        await S.pool.execute("UPDATE outbox SET sent_at = $2 WHERE id = $1", outbox_id, datetime.now(timezone.utc))


async def purchase(user: str, code: str, qty: int, message_id: str) -> str:
    now = datetime.now(timezone.utc)
    order_id = "TRX" + hashlib.sha256(message_id.encode()).hexdigest()[:20].upper()
    async with S.pool.acquire() as conn, conn.transaction():
        product = await conn.fetchrow("SELECT id, nama, harga, stok, uses_items FROM produk WHERE id = $1 FOR UPDATE", code)
        saldo = await conn.fetchval("SELECT saldo FROM users WHERE user_id = $1 FOR UPDATE", user)
        unit = product["harga"]
        price = unit * qty
        if product["stok"] < qty or saldo is None or saldo < price:
            return "Maaf, stok habis atau saldo tidak cukup."
        for order in await conn.fetch("SELECT produk_id, qty, status, kind, created_at FROM transaksi WHERE user_id = $1 "
                                      "ORDER BY created_at DESC, id DESC LIMIT 3", user):
            if (order["kind"] == "purchase" and order["produk_id"] == code and order["qty"] == qty
                    and order["status"] in ("PAID", "PENDING") and now - order["created_at"] < timedelta(seconds=60)):
                return f"Kamu baru saja membeli {qty}x {product['nama']}. Beli lagi?"
        item = None
        if product["uses_items"]:
            item = await conn.fetchval(
                "UPDATE stock_items SET order_id = $2 WHERE id = (SELECT id FROM stock_items WHERE produk_id = $1 "
                "AND order_id IS NULL ORDER BY id LIMIT 1) RETURNING content", code, order_id)
        await conn.execute("INSERT INTO ledger (user_id, delta, balance_after, reason, reference, created_at) "
                           "VALUES ($1, $2, $3, 'purchase', $4, $5) ON CONFLICT DO NOTHING",
                           user, -price, saldo - price, order_id, now)
        await conn.execute("UPDATE users SET saldo = $2 WHERE user_id = $1", user, saldo - price)
        await conn.execute("UPDATE produk SET stok = stok - $2 WHERE id = $1", code, qty)
        await conn.execute(
            "INSERT INTO transaksi (id, user_id, produk_id, status, kind, method, qty, unit_price, total, created_at, "
            "paid_at, updated_at, meta) VALUES ($1, $2, $3, 'PAID', 'purchase', 'saldo', $7, $4, $8, $5, $5, $5, $6)",
            order_id, user, code, unit, now, json.dumps({"product_name": product["nama"]}), qty, price)
    return (f"Pembelian berhasil. Order {order_id}: {qty}x {product['nama']} Rp{price:,}. Sisa saldo Rp{saldo - price:,}."
            + (f"\n\n{item}" if item else ""))
