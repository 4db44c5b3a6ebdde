"""The `tokowa` command: serve, migrate, chat, jobs, demo, doctor, and the data commands
(rotate-key, backup, restore, forget, export)."""

from __future__ import annotations

import argparse
import logging
import asyncio
import errno
import json
import os
import re
import socket
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from dependency_injector import providers

from adapters.messaging.simulator import ConsoleMessenger
from adapters.payments.simulator import SimulatedPaymentGateway
from adapters.storage.keys import rotate_keys, unreadable_rows
from adapters.storage.migrate import migrate
from application.chat.catalog import text
from application.chat.pipeline import IncomingMessage
from application.ports import PaymentState
from application.use_cases.admin_reads import CustomerNotFound
from application.use_cases.customer_data import CustomerStillActive
from domain.errors import InvalidPhoneNumber, OrderNotFound
from domain.order import OrderStatus, PaymentMethod
from domain.phone import normalize_msisdn
from entrypoints.bootstrap import build_application, close_adapters, migration_key, prepare_database
from entrypoints.container import Application
from entrypoints.embedded import backup, hold_embedded_database, restore
from entrypoints.observability import configure_logging
from entrypoints.settings import ConfigError, Settings
from entrypoints.simulated_payments import act_on_simulated_payment
from entrypoints.workers import cluster_jobs, deliver_leftovers

log = logging.getLogger("tokowa.cli")


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
    with hold_embedded_database(settings):
        return _serve(settings, host, port, workers)


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    import uvicorn

    from entrypoints.web.app import create_app

    asyncio.run(prepare_database(settings))
    banner = f"Tokowa is listening on http://{host}:{port}"
    if workers == 1:
        app = create_app(settings, build_application(settings))
        print(banner + ("  (demo mode: open it in a browser)" if settings.demo_mode else ""), flush=True)
        # access_log=False: at "warning" no access line is ever written, but uvicorn would still
        # build each one's arguments (client address, path) for every response.
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        return 0
    build_application(settings)  # fail here, once, on a configuration no worker could start with
    os.environ.update({"TOKOWA_HOST": host, "TOKOWA_PORT": str(port), **_pool_share(settings, workers)})
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="tokowa-metrics-"))
    print(f"{banner} with {workers} worker processes", flush=True)
    uvicorn.run("entrypoints.web.asgi:create", factory=True, host=host, port=port, log_level="warning",
                access_log=False, workers=workers)
    return 0


def _pool_share(settings: Settings, workers: int) -> dict[str, str]:
    """The database pool of each worker: the configured connections shared out between them.

    The pool settings size one server, whatever its worker count: more PostgreSQL backends would
    not make purchases faster (they queue on the same stock and wallet rows), only cost
    PostgreSQL CPU per purchase."""
    return {"TOKOWA_DB_POOL_SIZE": str(max(1, -(-settings.db_pool_size // workers))),
            "TOKOWA_DB_MAX_OVERFLOW": str(max(0, -(-settings.db_max_overflow // workers)))}


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
        prune = container.prune()
        rounds = cluster_jobs(container, settings.jobs_interval_seconds, settings.doctor_interval_seconds)
        try:
            while True:
                changed = await expire()
                if changed:
                    print(f"{changed} stale orders settled or expired", flush=True)
                pruned = await prune()
                if pruned is not None and (pruned.inbox or pruned.outbox or pruned.payment_events):
                    print(f"pruned {pruned.inbox} old messages, {pruned.outbox} sent messages, "
                          f"{pruned.payment_events} payment notifications", flush=True)
                delivered = await deliver_leftovers(container)
                if delivered:
                    print(f"{delivered} left-over messages processed or sent", flush=True)
                # Reminders of manual orders, the transport's health, the consistency check: each
                # runs when its round is due, on one of all the processes running jobs.
                for job, _every, name in rounds:
                    try:
                        await job()
                    except Exception:
                        log.exception("job %s failed", name)
                if args.once:
                    return
                await asyncio.sleep(settings.jobs_interval_seconds)
        finally:
            await close_adapters(container)

    with hold_embedded_database(settings):
        asyncio.run(run())
    return 0


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    """Run the consistency checks once; exit 1 when something is wrong (admins are alerted)."""
    async def run() -> int:
        await prepare_database(settings)
        container = build_application(settings)
        try:
            findings = await container.doctor()()
            unreadable = await unreadable_rows(container.adapters.storage())
        finally:
            await close_adapters(container)
        for f in findings:
            print(f"{f.check}: {f.subject}: expected {f.expected}, found {f.actual}")
        for table, key in unreadable:
            print(f"unreadable: {table} {key}: no key of TOKOWA_SECRET_KEY decrypts it")
        problems = len(findings) + len(unreadable)
        print(f"{problems} problems found" if problems else "no problems found")
        return 1 if problems else 0

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
        role = " (an admin: TOKOWA_ADMIN_NUMBERS)" if user in settings.admin_numbers else ""
        print(f"Chatting as {user}{role}. Type .menu; a line with only \"\"\" starts/ends a multi-line message; "
              "Ctrl-D quits.")
        if isinstance(container.adapters.gateway(), SimulatedPaymentGateway):
            print("Demo payments: .bayar [ORDER_ID] pays your waiting payment link here, "
                  f"or open it in a running `tokowa serve` on this database ({settings.public_url}).")
        print()
        try:
            async for message in _read_messages():
                wanted = _PAY_COMMAND.match(message)
                if wanted:
                    print(await _pay_in_terminal(container, user, wanted.group(1)) + "\n", flush=True)
                    continue
                await pipeline.handle(IncomingMessage(f"cli-{uuid.uuid4().hex}", user, message))
        finally:
            await close_adapters(container)

    with hold_embedded_database(settings):
        asyncio.run(run())
    return 0


# `.bayar [ORDER_ID]` in `tokowa chat`: the customer pays at the payment simulator (demo only).
_PAY_COMMAND = re.compile(r"^\s*[./!]bayar(?:\s+(\S+))?\s*$", re.IGNORECASE)


async def _pay_in_terminal(container: Application, user: str, order_arg: str | None) -> str:
    """Pay USER's waiting payment (or the one named) as the pay page's Bayar button does, so a
    `.deposit` or a link `.buy` typed in the terminal is not a dead end. Refused unless the
    payments are the simulator's (never with Midtrans, never with link payments off)."""
    queries = container.queries()
    lang = (await queries.shop_settings()).language
    gateway = container.adapters.gateway()
    if not isinstance(gateway, SimulatedPaymentGateway):
        return text("demo.pay_not_demo", lang)
    if order_arg is None:
        waiting = await queries.orders(OrderStatus.PENDING, user, 1)
        if not waiting:
            return text("demo.pay_nothing", lang)
        order = waiting[0]
    else:
        try:
            order = await queries.order(order_arg)
        except OrderNotFound:
            return text("demo.pay_unknown", lang, order_id=order_arg)
    if order.user_id != user or order.status is not OrderStatus.PENDING or order.method is not PaymentMethod.MIDTRANS:
        return text("demo.pay_unknown", lang, order_id=order.id)
    answer = await act_on_simulated_payment(order.id, PaymentState.PAID, gateway, queries,
                                            container.adapters.payment_verifier(), container.handle_notification())
    status = answer["order_status"] if answer else "UNKNOWN"
    if status != OrderStatus.PAID.value:
        return text("demo.pay_refused", lang, order_id=order.id, status=status)
    return text("demo.pay_done", lang, order_id=order.id, status=text("status.PAID", lang))



def cmd_rotate_key(settings: Settings, args: argparse.Namespace) -> int:
    """Re-encrypt every stored secret under the first key; safe while the shop runs."""
    async def run() -> int:
        await prepare_database(settings)
        container = build_application(settings)
        try:
            report = await rotate_keys(container.adapters.storage(), batch=args.batch)
        finally:
            await close_adapters(container)
        for table, count in report.rewritten.items():
            print(f"{table}: {count} rows re-encrypted under the first key")
        for table, key in report.unreadable:
            print(f"unreadable: {table} {key}: no key of TOKOWA_SECRET_KEY decrypts it", file=sys.stderr)
        if report.unreadable:
            print(f"{len(report.unreadable)} rows could not be read; keep every old key until they are dealt with",
                  file=sys.stderr)
            return 1
        print("every secret is under the first key now: older keys may be removed from TOKOWA_SECRET_KEY")
        return 0

    return asyncio.run(run())


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    done = backup(settings, Path(args.path))
    print(f"database copied to {done.database}")
    if done.key_file is not None:
        print(f"key file copied to {done.key_file}: keep this directory as secret as the key itself")
    else:
        print("WARNING: the secret key is NOT in this backup. It is TOKOWA_SECRET_KEY in your environment; "
              "without that exact value the backup's stock items and messages cannot be read. Keep it apart "
              "from the backup, somewhere safe.", file=sys.stderr)
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    done = restore(settings, Path(args.path))
    for path in done.set_aside:
        print(f"set aside: {path}")
    print(f"restored into {done.database}")
    if not done.key_restored:
        print("WARNING: the backup holds no key file: TOKOWA_SECRET_KEY must be the key the shop had when the "
              "backup was made (run `tokowa doctor` to check).", file=sys.stderr)
    return 0


def cmd_forget(settings: Settings, args: argparse.Namespace) -> int:
    async def run() -> int:
        await prepare_database(settings)
        container = build_application(settings)
        try:
            pseudonym = await container.forget_customer()(args.number)
        except CustomerNotFound:
            return _fail(f"{args.number} is not a customer of this shop")
        except CustomerStillActive as refused:
            if refused.details.get("reason") == "pending_order":
                return _fail(f"{args.number} has a payment waiting (order {refused.details.get('order_id')}): "
                             "cancel it or let it expire first")
            return _fail(f"{args.number} still has Rp {refused.details.get('saldo')} saldo: pay it out and "
                         "take it off with .kurangsaldo first")
        finally:
            await close_adapters(container)
        print(f"{args.number} forgotten: orders and ledger kept as {pseudonym}; messages and delivered items deleted")
        return 0

    return asyncio.run(run())


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    async def run() -> int:
        await prepare_database(settings)
        container = build_application(settings)
        try:
            data = await container.export_customer()(args.number)
        except CustomerNotFound:
            return _fail(f"{args.number} is not a customer of this shop")
        finally:
            await close_adapters(container)
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0

    return asyncio.run(run())


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
    "doctor": cmd_doctor, "rotate-key": cmd_rotate_key, "backup": cmd_backup, "restore": cmd_restore,
    "forget": cmd_forget, "export": cmd_export,
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tokowa", description="Tokowa, the WhatsApp shop bot.")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web app (webhooks, admin API, pages)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (PostgreSQL and Redis recommended)")
    sub.add_parser("migrate", help="bring the database schema up to date")
    chat = sub.add_parser("chat", help="talk to the bot in this terminal (an admin when --user is in "
                                       "TOKOWA_ADMIN_NUMBERS; in the demo, .bayar pays a waiting payment)")
    chat.add_argument("--user", required=True, help="your WhatsApp number, e.g. 6281234567890")
    jobs = sub.add_parser("jobs", help="run the periodic jobs (order expiry, payment reconciliation, left-over messages)")
    jobs.add_argument("--once", action="store_true", help="run one round and exit")
    sub.add_parser("demo", help="load demo products into an empty shop")
    sub.add_parser("doctor", help="check ledgers, stock items, deliveries and that every secret can be decrypted")
    rotate = sub.add_parser("rotate-key", help="re-encrypt every secret under the first key of TOKOWA_SECRET_KEY")
    rotate.add_argument("--batch", type=int, default=200, help="rows per transaction")
    backup_cmd = sub.add_parser("backup", help="copy the embedded database and its key into a new directory (while it runs)")
    backup_cmd.add_argument("path", help="a new (or empty) directory")
    restore_cmd = sub.add_parser("restore", help="put a backup back in place of the embedded database (shop stopped)")
    restore_cmd.add_argument("path", help="the directory `tokowa backup` wrote")
    forget = sub.add_parser("forget", help="forget a customer: number pseudonymised, messages and delivered items deleted")
    forget.add_argument("number", help="the customer's WhatsApp number (08..., +62..., 62...)")
    export = sub.add_parser("export", help="print what the shop holds about a customer, as JSON")
    export.add_argument("number", help="the customer's WhatsApp number (08..., +62..., 62...)")
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
