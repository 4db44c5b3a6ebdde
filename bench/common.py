"""What the benchmarks share: a throw-away PostgreSQL database and Redis prefix, a fake Graph API
that timestamps every reply, a lean keep-alive HTTP client, signed Cloud API webhook bodies, the
`tokowa serve` subprocess, and percentiles.

Everything runs on 127.0.0.1. The load generator and the fake Graph API share one asyncio loop in
the bench process; they are written on bare asyncio streams so they take as little of the
machine's two cores as possible away from the server being measured.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
PG_ADMIN_DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
APP_SECRET = "bench-app-secret"
ACCESS_TOKEN = "EAAG-bench-token"
PHONE_NUMBER_ID = "100000000000001"
ADMIN_TOKEN = "bench-admin-token-" + secrets.token_hex(8)
GRAPH_OK = json.dumps({"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT.bench"}]}).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def customer(n: int) -> str:
    return f"62811{n:07d}"


# --- database and Redis -------------------------------------------------------------------------

class BenchDatabase:
    """A fresh database `tokowa_bench_<random>` migrated with `tokowa migrate`; dropped on exit."""

    def __init__(self, **extra_env: str) -> None:
        self.name = f"tokowa_bench_{secrets.token_hex(4)}"
        self.extra_env = extra_env
        base = PG_ADMIN_DSN.rsplit("/", 1)[0]
        self.dsn = f"{base}/{self.name}"
        self.sqlalchemy_url = self.dsn.replace("postgresql://", "postgresql+asyncpg://", 1)

    async def __aenter__(self) -> BenchDatabase:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await admin.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await admin.close()
        env = {**os.environ, "DATABASE_URL": self.sqlalchemy_url, **self.extra_env}
        subprocess.run([str(BIN / "tokowa"), "migrate"], env=env, check=True, capture_output=True)
        return self

    async def __aexit__(self, *_: object) -> None:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await admin.close()


async def clean_redis(prefix: str) -> None:
    client = aioredis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        for i in range(0, len(keys), 500):
            await client.delete(*keys[i:i + 500])
    finally:
        await client.aclose()


# --- the fake Graph API -------------------------------------------------------------------------

_ORDER_ID = re.compile(r"\b(?:INV-\d{8}-[A-Z0-9]+|TRX[0-9A-F]+)\b")


class FakeGraph:
    """`POST /{phone_number_id}/messages` answered 200 at once; each reply timestamped by recipient.
    Any other request (the app's transport check) is answered alike but not counted.

    `expect(to)` returns a future resolved with the arrival time of the next message to `to`;
    replies nobody waits for are only counted (and their times kept for open-loop matching)."""

    def __init__(self) -> None:
        self.received = 0
        self.by_recipient: dict[str, deque[float]] = defaultdict(deque)
        self.waiters: dict[str, deque[asyncio.Future[float]]] = defaultdict(deque)
        self.on_message: Callable[[str, float], None] | None = None
        self.openings: Counter[str] = Counter()
        """How many replies began with each text (to the first full stop or line end): what they were."""
        self.repeated = 0
        self.order_ids: Counter[str] = Counter()
        self.twice_named: list[str] = []
        """Replies naming an order an earlier reply named already (recipient and text)."""
        """Order ids named in replies (Tokowa's INV-..., the raw app's TRX...), to match with paid orders."""
        self._bodies: set[bytes] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeGraph:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    def expect(self, to: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[to].append(future)
        return future

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length) if length else b""
                arrived = time.perf_counter()
                if head.startswith(b"POST ") and head.split(b" ", 2)[1].endswith(b"/messages"):
                    self._record(body, arrived)  # not the app's other calls (its transport check once a minute)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(GRAPH_OK)).encode() + b"\r\n\r\n" + GRAPH_OK)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def _record(self, body: bytes, arrived: float) -> None:
        self.received += 1
        try:
            sent = json.loads(body)
        except ValueError:
            return
        to = str(sent.get("to", ""))
        content = sent.get("text") or (sent.get("interactive") or {}).get("body") or {}
        text = str(content.get("body", sent.get("type", "")))
        self.openings[re.split(r"[.!?\n]", text, maxsplit=1)[0][:40]] += 1
        named = _ORDER_ID.search(text)
        if named is not None:
            self.order_ids[named.group(0)] += 1
            if self.order_ids[named.group(0)] > 1:
                self.twice_named.append(f"{to} {text!r}")
        digest = hashlib.blake2b(body, digest_size=16).digest()
        if digest in self._bodies:
            self.repeated += 1  # the same message twice: a reply sent more than once
        self._bodies.add(digest)
        waiting = self.waiters.get(to)
        while waiting:
            future = waiting.popleft()
            if not future.done():
                future.set_result(arrived)
                return
        if self.on_message is not None:
            self.on_message(to, arrived)


# --- the load generator's HTTP client -----------------------------------------------------------

class HttpPool:
    """Keep-alive HTTP/1.1 connections to one server; `request` returns (status, body, seconds)."""

    def __init__(self, port: int, size: int) -> None:
        self._port, self._size = port, size
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
        self._opened = 0

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
                      ) -> tuple[int, bytes, float]:
        conn = await self._connection()
        reader, writer = conn
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        start = time.perf_counter()
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            status, payload, keep = await self._response(reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            self._opened -= 1
            raise
        elapsed = time.perf_counter() - start
        if keep:
            self._idle.put_nowait(conn)
        else:
            writer.close()
            self._opened -= 1
        return status, payload, elapsed

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._idle.empty() and self._opened < self._size:
            self._opened += 1
            return await asyncio.open_connection("127.0.0.1", self._port)
        return await self._idle.get()

    @staticmethod
    async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length, keep, chunked = 0, True, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                keep = False
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                data = await reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(data[:-2])
            return status, b"".join(chunks), keep
        return status, await reader.readexactly(length) if length else b"", keep

    async def close(self) -> None:
        while not self._idle.empty():
            _, writer = self._idle.get_nowait()
            writer.close()


def signed_message(sender: str, message_id: str, text: str) -> tuple[bytes, dict[str, str]]:
    """A Cloud API webhook body with one text message, and the headers Meta would send."""
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "200000000000001", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "6281100000000", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Bench"}, "wa_id": sender}],
            "messages": [{"from": sender, "id": message_id, "timestamp": str(int(time.time())), "type": "text",
                          "text": {"body": text}}]}}]}]}, separators=(",", ":")).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


# --- CPU accounting -----------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/PID/stat); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def process_tree(root: int) -> list[int]:
    """`root` and every process under it (uvicorn's or granian's worker processes)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children[ppid].append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


class CpuMeter:
    """CPU seconds spent for one app: its own processes (the server and its workers), the
    PostgreSQL backends connected to its database (pg_stat_activity) and redis-server.

    Redis is shared by everyone on the machine: its share is only the app's while the rounds run
    one app at a time and nothing else uses Redis hard. Backends that disconnect during a round
    are missed (the apps' pools keep their connections)."""

    def __init__(self, pid: int, database: str) -> None:
        self.pid, self.database = pid, database
        self.app = self.db = self.redis = 0.0
        self._start: tuple[dict[int, float], dict[int, float], float] | None = None

    async def _backends(self) -> list[int]:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", self.database)
        finally:
            await conn.close()
        return [row["pid"] for row in rows]

    async def _sample(self) -> tuple[dict[int, float], dict[int, float], float]:
        app = {pid: proc_cpu(pid) for pid in process_tree(self.pid)}
        db = {pid: proc_cpu(pid) for pid in await self._backends()}
        return app, db, proc_cpu(await redis_pid())

    async def start(self) -> None:
        self._start = await self._sample()

    async def stop(self) -> None:
        assert self._start is not None
        app0, db0, redis0 = self._start
        app1, db1, redis1 = await self._sample()
        self.app += sum(cpu - app0.get(pid, 0.0) for pid, cpu in app1.items())
        self.db += sum(cpu - db0.get(pid, 0.0) for pid, cpu in db1.items())
        self.redis += redis1 - redis0
        self._start = None

    @property
    def total(self) -> float:
        return self.app + self.db + self.redis


_REDIS_PID: list[int] = []


async def redis_pid() -> int:
    if not _REDIS_PID:
        client = aioredis.from_url(REDIS_URL)
        try:
            _REDIS_PID.append(int((await client.info("server"))["process_id"]))
        finally:
            await client.aclose()
    return _REDIS_PID[0]


# --- the server under test ----------------------------------------------------------------------

class TokowaServer:
    """`tokowa serve` in a subprocess on the Cloud API transport, PostgreSQL and Redis."""

    def __init__(self, db: BenchDatabase, graph_url: str, redis_prefix: str, tweaks: str = "", **extra_env: str) -> None:
        """`tweaks`: what-if changes for `serve_variant.py` (`no_pre_ping` turns the pool's pre-ping off)."""
        self.port = free_port()
        self.tweaks = tweaks
        sources = [t.removeprefix("src=") for t in tweaks.split(",") if t.startswith("src=")]
        if sources:  # another checkout's code (e.g. `git archive COMMIT`), run as plain `tokowa serve`
            extra_env["PYTHONPATH"] = sources[0]
            self.tweaks = tweaks = ",".join(t for t in tweaks.split(",") if not t.startswith("src="))
        self.workers = 1
        for tweak in tweaks.split(","):
            if tweak.startswith("workers") and tweak[7:].isdigit():  # `tokowa serve --workers N`
                self.workers = int(tweak[7:])
        self.tweaks = tweaks = ",".join(t for t in tweaks.split(",") if not t.startswith("workers"))
        if "no_pre_ping" in tweaks.split(","):
            extra_env["TOKOWA_DB_POOL_PRE_PING"] = "false"
        self.log_path = Path(f"/tmp/{db.name}-serve.log")
        self.env = {
            **os.environ,
            "DATABASE_URL": db.sqlalchemy_url, "REDIS_URL": REDIS_URL, "TOKOWA_REDIS_PREFIX": redis_prefix,
            "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN, "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID, "WHATSAPP_API_URL": graph_url,
            "TOKOWA_SECRET_KEY": Fernet.generate_key().decode(), "TOKOWA_ADMIN_TOKEN": ADMIN_TOKEN,
            "TOKOWA_LOG_FORMAT": "json", "BENCH_TWEAKS": tweaks, **extra_env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    async def __aenter__(self) -> TokowaServer:
        self._log = self.log_path.open("wb")
        command = [str(BIN / "python"), str(Path(__file__).parent / "serve_variant.py")] if self.tweaks else [str(BIN / "tokowa")]
        workers = ["--workers", str(self.workers)] if self.workers > 1 else []
        self.process = subprocess.Popen([*command, "serve", "--port", str(self.port), *workers], env=self.env,
                                        stdout=self._log, stderr=subprocess.STDOUT, cwd="/tmp")
        await wait_until_up(self.port, self.process)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()

    def rss_mb(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) of the server process in MiB."""
        assert self.process is not None
        return proc_memory(self.process.pid)


def proc_memory(pid: int) -> tuple[float, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


async def wait_until_up(port: int, process: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            pool = HttpPool(port, 1)
            status, _, _ = await pool.request("GET", path)
            await pool.close()
            if status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not come up in 30 s")


class Admin:
    """Seeding through the admin API (products, balances, settings)."""

    def __init__(self, port: int) -> None:
        self._pool = HttpPool(port, 16)
        self._auth = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}

    async def _call(self, method: str, path: str, data: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        status, body, _ = await self._pool.request(method, f"/api/v1{path}", json.dumps(data).encode(),
                                                   {**self._auth, **(extra or {})})
        if status >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {status} {body[:200]!r}")

    async def product(self, code: str, price: int, stock: int) -> None:
        await self._call("POST", "/products", {"code": code, "name": f"Bench {code}", "price": price, "stock": stock})

    async def setting(self, key: str, value: str) -> None:
        await self._call("PUT", f"/settings/{key}", {"value": value})

    async def credit(self, users: list[str], amount: int) -> None:
        async def one(user: str) -> None:
            await self._call("POST", f"/wallets/{user}/adjustments", {"amount": amount, "direction": "credit"},
                             {"Idempotency-Key": f"bench-{user}"})
        for i in range(0, len(users), 16):
            await asyncio.gather(*(one(u) for u in users[i:i + 16]))

    async def close(self) -> None:
        await self._pool.close()


async def seed_shop(port: int, users: list[str], products: int = 5) -> list[str]:
    """Products with a large counted stock, saldo for every user, limits out of the way."""
    admin = Admin(port)
    codes = [f"BENCH{i}" for i in range(1, products + 1)]
    try:
        for code in codes:
            await admin.product(code, 1000, 1_000_000)
        await admin.setting("buy_rate_limit_per_minute", "10000")
        await admin.setting("rate_limit_per_minute", "10000")
        await admin.credit(users, 100_000_000)
    finally:
        await admin.close()
    return codes


async def metrics_text(port: int) -> str:
    pool = HttpPool(port, 1)
    try:
        _, body, _ = await pool.request("GET", "/metrics")
    finally:
        await pool.close()
    return body.decode()


def metric(text: str, name: str, labels: str = "") -> float:
    """Sum of the samples of `name` whose label set contains `labels`."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (not labels or labels in line):
            head, _, value = line.rpartition(" ")
            if head.split("{")[0] == name:
                total += float(value)
    return total


def line(label: str, value: str) -> str:
    return f"  {label:<44} {value}"


def out(text: str) -> None:
    print(text, flush=True)
    sys.stdout.flush()
