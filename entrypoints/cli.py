"""The `tokowa` command: serve, migrate, chat, jobs, demo, doctor."""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import socket
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable

from dependency_injector import providers

from adapters.messaging.simulator import ConsoleMessenger
from adapters.storage.migrate import migrate
from application.chat.pipeline import IncomingMessage
from domain.errors import InvalidPhoneNumber
from domain.phone import normalize_msisdn
from entrypoints.bootstrap import build_application, close_adapters, migration_key, prepare_database
from entrypoints.observability import configure_logging
from entrypoints.settings import ConfigError, Settings
from entrypoints.workers import deliver_leftovers


def _fail(message: str) -> int:
    print(f"tokowa: {message}", file=sys.stderr)
    return 2


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from entrypoints.web.app import create_app

    host, port = args.host or settings.host, args.port or settings.port
    settings = settings.model_copy(update={"host": host, "port": port})
    settings.check_serving()
    if not _port_free(host, port):
        return _fail(f"port {port} on {host} is already in use; stop the other process or use --port")
    workers = args.workers
    if workers < 1:
        return _fail("--workers must be 1 or more")
    if workers > 1 and settings.demo_mode:
        return _fail("the simulator keeps its chats in one process: use --workers 1 in demo mode")
    asyncio.run(prepare_database(settings))
    banner = f"Tokowa is listening on http://{host}:{port}"
    if workers == 1:
        app = create_app(settings, build_application(settings))
        print(banner + ("  (demo mode: open it in a browser)" if settings.demo_mode else ""), flush=True)
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return 0
    build_application(settings)  # fail here, once, on a configuration no worker could start with
    os.environ.update({"TOKOWA_HOST": host, "TOKOWA_PORT": str(port)})
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="tokowa-metrics-"))
    print(f"{banner} with {workers} worker processes", flush=True)
    uvicorn.run("entrypoints.web.asgi:create", factory=True, host=host, port=port, log_level="warning",
                workers=workers)
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(migrate(settings.database_url, migration_key(settings)))
    print("database schema is up to date")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    async def run() -> int:
        await prepare_database(settings)
        container = build_application(settings)
        try:
            return await container.load_demo()()
        finally:
            await close_adapters(container)

    loaded = asyncio.run(run())
    print(f"{loaded} demo products loaded" if loaded else "the shop already has products; nothing loaded")
    return 0


def cmd_jobs(settings: Settings, args: argparse.Namespace) -> int:
    async def run() -> None:
        await prepare_database(settings)
        container = build_application(settings)
        expire = container.use_cases().expire_stale
        try:
            while True:
                changed = await expire()
                if changed:
                    print(f"{changed} stale orders settled or expired", flush=True)
                delivered = await deliver_leftovers(container)
                if delivered:
                    print(f"{delivered} left-over messages processed or sent", flush=True)
                if args.once:
                    return
                await asyncio.sleep(settings.jobs_interval_seconds)
        finally:
            await close_adapters(container)

    asyncio.run(run())
    return 0


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    """Run the consistency checks once; exit 1 when something is wrong (admins are alerted)."""
    async def run() -> int:
        await prepare_database(settings)
        container = build_application(settings)
        try:
            findings = await container.doctor()()
        finally:
            await close_adapters(container)
        for f in findings:
            print(f"{f.check}: {f.subject}: expected {f.expected}, found {f.actual}")
        print(f"{len(findings)} problems found" if findings else "no problems found")
        return 1 if findings else 0

    return asyncio.run(run())


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    try:
        user = normalize_msisdn(args.user)
    except InvalidPhoneNumber:
        return _fail(f"--user {args.user!r} is not a WhatsApp number (08..., +62..., 62...)")

    async def run() -> None:
        await prepare_database(settings)
        container = build_application(settings)
        container.adapters.messenger.override(providers.Object(ConsoleMessenger()))
        pipeline = container.pipeline()
        print(f"Chatting as {user}. Type .menu; a line with only \"\"\" starts/ends a multi-line message; Ctrl-D quits.\n")
        try:
            async for message in _read_messages():
                await pipeline.handle(IncomingMessage(f"cli-{uuid.uuid4().hex}", user, message))
        finally:
            await close_adapters(container)

    asyncio.run(run())
    return 0


async def _read_messages() -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    buffer: list[str] | None = None
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        line = line.rstrip("\n")
        if line.strip() == '"""':
            if buffer is None:
                buffer = []
                continue
            message, buffer = "\n".join(buffer), None
            yield message
        elif buffer is not None:
            buffer.append(line)
        elif line.strip():
            yield line


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "serve": cmd_serve, "migrate": cmd_migrate, "chat": cmd_chat, "jobs": cmd_jobs, "demo": cmd_demo,
    "doctor": cmd_doctor,
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tokowa", description="Tokowa, the WhatsApp shop bot.")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web app (webhooks, admin API, pages)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (PostgreSQL and Redis recommended)")
    sub.add_parser("migrate", help="bring the database schema up to date")
    chat = sub.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--user", required=True, help="your WhatsApp number, e.g. 6281234567890")
    jobs = sub.add_parser("jobs", help="run the periodic jobs (order expiry, payment reconciliation, left-over messages)")
    jobs.add_argument("--once", action="store_true", help="run one round and exit")
    sub.add_parser("demo", help="load demo products into an empty shop")
    sub.add_parser("doctor", help="check ledgers, stock items and deliveries; alert the admins about problems")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings()
        configure_logging(settings.log_format)
        return COMMANDS[args.command](settings, args)
    except ConfigError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
