"""The raw reference app: a purchase by WhatsApp webhook with plain asyncpg + redis-py and no
framework layers, written to do the work with as little as it can. It does the database and Redis
work Tokowa does for a `.buy` paid with saldo, on Tokowa's own schema, and the same outbound Graph
API POST. Round trips per purchase (PostgreSQL 8, Redis 2):

  webhook: check the signature, parse; ONE statement (no BEGIN/COMMIT): inbox row ON CONFLICT DO
           NOTHING and, for a new message, the customer row; answer 200; then in a background task:
  Redis, ONE pipelined round trip: rate limit INCR + EXPIRE NX, lock SET NX PX;
  the purchase, one transaction of 5 round trips:
    BEGIN;
    the wallet row locked (FOR NO KEY UPDATE) and the product read, one statement;
    ONE statement after the lock (so its snapshot sees another tap's committed order): the
      customer's last three orders (Tokowa asks before the same product and quantity is bought
      again within 60 s), and only when that is no repeat: the ledger row, the debit and the order row;
    the stock taken LAST by a guarded `UPDATE produk ... WHERE stok >= qty` (the hot row's lock is
      held only while the transaction commits; no row: rolled back, sold out);
    COMMIT;
  Redis: the lock released (compare-and-delete script);
  ONE statement: outbox row + inbox row finished; the POST to the Graph API; ONE statement: sent.

HTTP client for the Graph API: aiohttp (RAW_HTTP=aiohttp, the default) or httpx (RAW_HTTP=httpx);
server: any ASGI server (the bench runs uvicorn or granian), see bench/README.md for the figures.

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
import redis.asyncio as aioredis

RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"

ACCEPT = """
WITH message AS (
    INSERT INTO inbox (message_id, received_at, sender, body, lease_until) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT DO NOTHING RETURNING sender
), customer AS (
    INSERT INTO users (user_id, saldo, role, data, created_at) SELECT sender, 0, 'bronze', '{}', $2 FROM message
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM message"""

LOCK_AND_READ = """
SELECT u.saldo, p.nama, p.harga, p.stok, p.uses_items FROM users u, produk p
WHERE u.user_id = $1 AND p.id = $2 FOR NO KEY UPDATE OF u"""

# $1 user, $2 product, $3 qty, $4 price, $5 now, $6 balance after, $7 order id, $8 unit price, $9 order meta
DEBIT_AND_ORDER = """
WITH recent AS (
    SELECT produk_id, qty, status, kind, created_at FROM transaksi WHERE user_id = $1
    ORDER BY created_at DESC, id DESC LIMIT 3
), repeat AS (
    SELECT 1 FROM recent WHERE kind = 'purchase' AND produk_id = $2 AND qty = $3
    AND status IN ('PAID', 'PENDING') AND created_at > $5::timestamptz - interval '60 seconds'
), entry AS (
    INSERT INTO ledger (user_id, delta, balance_after, reason, reference, created_at)
    SELECT $1, -$4::bigint, $6::bigint, 'purchase', $7, $5 WHERE NOT EXISTS (SELECT 1 FROM repeat)
    ON CONFLICT DO NOTHING RETURNING user_id
), debit AS (
    UPDATE users SET saldo = $6 WHERE user_id = (SELECT user_id FROM entry) RETURNING saldo
), orders AS (
    INSERT INTO transaksi (id, user_id, produk_id, status, kind, method, qty, unit_price, total, created_at,
                           paid_at, updated_at, meta)
    SELECT $7, $1, $2, 'PAID', 'purchase', 'saldo', $3, $8, $4, $5, $5, $5, $9 FROM debit RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM repeat), EXISTS (SELECT 1 FROM orders)"""

TAKE_ITEM = """
UPDATE stock_items SET order_id = $2 WHERE id = (SELECT id FROM stock_items WHERE produk_id = $1
AND order_id IS NULL ORDER BY id LIMIT 1) RETURNING content"""

TAKE_STOCK = "UPDATE produk SET stok = stok - $2 WHERE id = $1 AND stok >= $2 RETURNING stok"

QUEUE_AND_FINISH = """
WITH queued AS (
    INSERT INTO outbox (recipient, payload, created_at, lease_until, attempts) VALUES ($1, $2, $3, $4, 0) RETURNING id
), finished AS (
    UPDATE inbox SET finished_at = $3 WHERE message_id = $5
)
SELECT id FROM queued"""

MARK_SENT = "UPDATE outbox SET sent_at = $2 WHERE id = $1"


class Rollback(Exception):
    def __init__(self, reply: str) -> None:
        self.reply = reply


class AiohttpPoster:
    def __init__(self, url: str, token: str) -> None:
        import aiohttp
        self.url = url
        self.session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"},
                                             timeout=aiohttp.ClientTimeout(total=10.0),
                                             connector=aiohttp.TCPConnector(limit=100))

    async def post(self, body: dict[str, Any]) -> int:
        async with self.session.post(self.url, json=body) as response:
            await response.read()
            return response.status

    async def aclose(self) -> None:
        await self.session.close()


class HttpxPoster:
    def __init__(self, url: str, token: str) -> None:
        import httpx
        self.url = url
        self.client = httpx.AsyncClient(timeout=10.0, headers={"Authorization": f"Bearer {token}"})

    async def post(self, body: dict[str, Any]) -> int:
        return (await self.client.post(self.url, json=body)).status_code

    async def aclose(self) -> None:
        await self.client.aclose()


class State:
    pool: asyncpg.Pool
    redis: aioredis.Redis
    http: AiohttpPoster | HttpxPoster
    release: Any
    secret: bytes
    prefix: str
    tasks: set[asyncio.Task[None]] = set()


S = State()


async def startup() -> None:
    # RAW_POOL_SIZE: the most connections of this process (`uvicorn --workers N` shares 20 out, as Tokowa does).
    size = int(os.environ.get("RAW_POOL_SIZE", "20"))
    S.pool = await asyncpg.create_pool(os.environ["RAW_DSN"], min_size=max(1, size // 2), max_size=size)
    S.redis = aioredis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    S.release = S.redis.register_script(RELEASE)
    url = f"{os.environ['WHATSAPP_API_URL']}/{os.environ['WHATSAPP_PHONE_NUMBER_ID']}/messages"
    poster = HttpxPoster if os.environ.get("RAW_HTTP", "aiohttp") == "httpx" else AiohttpPoster
    S.http = poster(url, os.environ["WHATSAPP_ACCESS_TOKEN"])
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
    signature = b""
    for name, value in scope["headers"]:
        if name == b"x-hub-signature-256":
            signature = value
    expected = "sha256=" + hmac.new(S.secret, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature):
        return await respond(send, 401, b'{"error":"bad signature"}')
    value = json.loads(body)["entry"][0]["changes"][0]["value"]
    message = value["messages"][0]
    sender, message_id, text = message["from"], message["id"], message["text"]["body"]
    now = datetime.now(timezone.utc)
    first = await S.pool.fetchval(ACCEPT, message_id, now, sender, json.dumps({"text": text, "business_user_id": None}),
                                  now + timedelta(seconds=120))
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
    limit_key, lock_key, token = f"{S.prefix}ratelimit:{sender}:buy", f"{S.prefix}lock:buy:{sender}", secrets.token_hex(8)
    pipe = S.redis.pipeline(transaction=False)
    pipe.incr(limit_key)
    pipe.expire(limit_key, 60, nx=True)
    pipe.set(lock_key, token, nx=True, px=30_000)
    count, _, locked = await pipe.execute()
    if not locked:
        return
    try:
        reply = await purchase(sender, code, qty, message_id) if count <= 10_000 else "Terlalu banyak pesan."
    finally:
        await S.release(keys=[lock_key], args=[token])
    now = datetime.now(timezone.utc)
    outbox_id = await S.pool.fetchval(QUEUE_AND_FINISH, sender, json.dumps({"text": reply}), now,
                                      now + timedelta(seconds=60), message_id)
    status = await S.http.post({"messaging_product": "whatsapp", "recipient_type": "individual",
                                "to": sender, "type": "text", "text": {"body": reply}})
    if status == 200:
        await S.pool.execute(MARK_SENT, outbox_id, datetime.now(timezone.utc))


async def purchase(user: str, code: str, qty: int, message_id: str) -> str:
    now = datetime.now(timezone.utc)
    order_id = "TRX" + hashlib.sha256(message_id.encode()).hexdigest()[:20].upper()
    try:
        async with S.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(LOCK_AND_READ, user, code)
            if row is None:
                return "Produk tidak ditemukan."
            saldo, name, unit = row["saldo"], row["nama"], row["harga"]
            price = unit * qty
            if row["stok"] < qty or saldo < price:
                return "Maaf, stok habis atau saldo tidak cukup."
            repeat, ordered = await conn.fetchrow(DEBIT_AND_ORDER, user, code, qty, price, now, saldo - price, order_id,
                                                  unit, json.dumps({"product_name": name}))
            if repeat:
                return f"Kamu baru saja membeli {qty}x {name}. Beli lagi?"
            if not ordered:
                return "Pesanan ini sudah diproses."
            item = await conn.fetchval(TAKE_ITEM, code, order_id) if row["uses_items"] else None
            if await conn.fetchval(TAKE_STOCK, code, qty) is None:
                raise Rollback("Maaf, stok habis.")
    except Rollback as refused:
        return refused.reply
    return (f"Pembelian berhasil. Order {order_id}: {qty}x {name} Rp{price:,}. Sisa saldo Rp{saldo - price:,}."
            + (f"\n\n{item}" if item else ""))
