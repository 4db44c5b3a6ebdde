"""The `tokowa` command as an operator meets it: start-up checks, migrate, demo, chat, serve."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.support.processes import TOKOWA, free_port


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, stdin: str = "",
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TOKOWA_", "WHATSAPP_", "GOWA_", "MIDTRANS_"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("REDIS_URL", None)
    return subprocess.run([TOKOWA, *args], cwd=cwd, env={**clean, **(env or {})}, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def test_demo_then_chat_in_the_terminal(tmp_path: Path) -> None:
    assert "5 demo products loaded" in run(["demo"], tmp_path).stdout
    assert "already has products" in run(["demo"], tmp_path).stdout
    chat = run(["chat", "--user", "0812-3456-7890"], tmp_path, {"TOKOWA_SERVER_JOBS": "false"},
               stdin='.produk\n.buy DEMO3 2\n"""\n.setting max_qty 3\n"""\n')
    assert chat.returncode == 0, chat.stderr
    assert "Chatting as 6281234567890" in chat.stdout
    assert "DEMO1" in chat.stdout and "Rp 35.000" in chat.stdout
    assert "/pay/INV-" in chat.stdout
    assert (tmp_path / "tokowa.db").exists() and (tmp_path / "tokowa.key").exists()


def test_chat_is_an_admin_for_a_number_in_tokowa_admin_numbers(tmp_path: Path) -> None:
    env = {"TOKOWA_SERVER_JOBS": "false", "TOKOWA_ADMIN_NUMBERS": "081234567890"}
    admin = run(["chat", "--user", "+62 812-3456-7890"], tmp_path, env, stdin=".setting max_qty 3\n.setting max_qty\n")
    assert admin.returncode == 0, admin.stderr
    assert "Chatting as 6281234567890 (an admin: TOKOWA_ADMIN_NUMBERS)" in admin.stdout
    assert "max_qty" in admin.stdout and "3" in admin.stdout.split("max_qty", 2)[-1]
    customer = run(["chat", "--user", "081299998888"], tmp_path, env, stdin=".setting max_qty 5\n")
    assert "an admin" not in customer.stdout and "Perintah tidak dikenal" in customer.stdout
    again = run(["chat", "--user", "081234567890"], tmp_path, env, stdin=".setting max_qty\n")
    assert "5" not in again.stdout.split("max_qty", 1)[-1].split("\n", 1)[0]  # the customer changed nothing


def test_a_deposit_and_a_link_purchase_are_paid_with_bayar_in_the_same_terminal(tmp_path: Path) -> None:
    run(["demo"], tmp_path)
    env = {"TOKOWA_SERVER_JOBS": "false"}
    chat = run(["chat", "--user", "0812-3456-7890"], tmp_path, env, stdin=".deposit 50000\n.bayar\n.saldo\n")
    assert chat.returncode == 0, chat.stderr
    assert ".bayar [ORDER_ID]" in chat.stdout  # the start-up line tells how
    assert "sudah dibayar" in chat.stdout and "Rp 50.000" in chat.stdout.split(".bayar", 2)[-1]
    bought = run(["chat", "--user", "0812-3456-7890"], tmp_path, env, stdin=".buy DEMO1 link\n")
    order_id = bought.stdout.split("/pay/", 1)[1].split()[0]
    paid = run(["chat", "--user", "0812-3456-7890"], tmp_path, env,
               stdin=f".bayar {order_id}\n.bayar {order_id}\n.status {order_id}\n")
    assert paid.stdout.count("sudah dibayar") == 1
    assert "netflix.demo1@tokowa.test" in paid.stdout  # the goods, delivered in the terminal
    assert f"Tidak ada pembayaran menunggu dengan ID {order_id}" in paid.stdout  # paid already
    stranger = run(["chat", "--user", "081211112222"], tmp_path, env, stdin=f".bayar {order_id}\n.bayar\n")
    assert f"Tidak ada pembayaran menunggu dengan ID {order_id}" in stranger.stdout
    assert "Tidak ada pembayaran menunggu untuk nomor ini" in stranger.stdout


def test_the_demo_shop_delivers_codes_at_once_and_invitations_by_the_sellers_hand(tmp_path: Path) -> None:
    """The demo as a new seller meets it: a voucher is a code in the chat at once; an invitation
    waits for the admin, who is told, lists it, delivers it with .kirim, and the buyer has it."""
    run(["demo"], tmp_path)
    env = {"TOKOWA_SERVER_JOBS": "false", "TOKOWA_ADMIN_NUMBERS": "081200000001"}
    buyer = run(["chat", "--user", "081234567890"], tmp_path, env,
                stdin=".deposit 100000\n.bayar\n.buy DEMO3\n.buy DEMO5\n")
    assert buyer.returncode == 0, buyer.stderr
    assert "DIAMOND-DEMO-0001" in buyer.stdout
    assert "Admin mengirim undangan ke email kamu" in buyer.stdout
    admin = run(["chat", "--user", "081200000001"], tmp_path, env, stdin=".pesanan perlu\n")
    order_id = admin.stdout.split("YouTube Premium", 1)[0].rsplit("INV-", 1)[1].split()[0].rstrip(":,)")
    assert order_id, admin.stdout
    delivered = run(["chat", "--user", "081200000001"], tmp_path, env,
                    stdin=f'"""\n.kirim INV-{order_id}\nfamily.demo@tokowa.test diundang\n"""\n')
    assert delivered.returncode == 0, delivered.stderr
    again = run(["chat", "--user", "081234567890"], tmp_path, env, stdin=f".kirimulang INV-{order_id}\n")
    assert "family.demo@tokowa.test diundang" in again.stdout


def test_bayar_is_refused_when_payments_are_real(tmp_path: Path) -> None:
    env = {"TOKOWA_SERVER_JOBS": "false", "MIDTRANS_SERVER_KEY": "SB-Mid-server-test", "TOKOWA_LANGUAGE": "en"}
    chat = run(["chat", "--user", "081234567890"], tmp_path, env, stdin=".bayar INV-20260101-AAAAAAAAAAAA\n")
    assert chat.returncode == 0, chat.stderr
    assert ".bayar exists only in demo mode" in chat.stdout and "Demo payments" not in chat.stdout


def test_chat_refuses_a_bad_number(tmp_path: Path) -> None:
    result = run(["chat", "--user", "12345"], tmp_path)
    assert result.returncode != 0 and "not a WhatsApp number" in result.stderr


def test_postgres_without_secret_key_refuses_to_start_naming_the_variable(tmp_path: Path, pg_url: str) -> None:
    for command in (["jobs", "--once"], ["chat", "--user", "081234567890"]):
        result = run(command, tmp_path, {"DATABASE_URL": pg_url})
        assert result.returncode != 0 and "TOKOWA_SECRET_KEY" in result.stderr


def test_two_whatsapp_transports_refuse_to_start(tmp_path: Path) -> None:
    result = run(["jobs", "--once"], tmp_path, {"WHATSAPP_ACCESS_TOKEN": "x", "WHATSAPP_APP_SECRET": "s",
                                                "GOWA_API_URL": "http://127.0.0.1:3000", "GOWA_WEBHOOK_SECRET": "g"})
    assert result.returncode != 0 and "choose one WhatsApp transport" in result.stderr


def test_serve_without_a_transport_refuses_where_strangers_could_reach_the_simulator(
        tmp_path: Path, pg_url: str) -> None:
    for args, env in ((["serve"], {"DATABASE_URL": pg_url}),
                      (["serve", "--host", "0.0.0.0"], {})):
        result = run([*args, "--port", str(free_port())], tmp_path, env, timeout=30)
        assert result.returncode != 0, result.stdout
        assert all(name in result.stderr for name in ("WHATSAPP_ACCESS_TOKEN", "GOWA_API_URL", "TOKOWA_DEMO"))
    assert not (tmp_path / "tokowa.db").exists()  # refused before anything was created


def test_serve_with_tokowa_demo_opens_the_simulator_on_any_host(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKOWA_", "DATABASE_URL", "REDIS_URL"))}
    server = subprocess.Popen([TOKOWA, "serve", "--host", "0.0.0.0", "--port", str(port)], cwd=tmp_path,
                              env={**env, "TOKOWA_DEMO": "true"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        assert '"ok"' in _wait_for_health(port, server)
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read().decode()
        assert "/sim/messages" in page
    finally:
        server.terminate()
        server.communicate(timeout=10)


def _wait_for_health(port: int, server: subprocess.Popen[str]) -> str:
    for _ in range(100):
        if server.poll() is not None:
            return server.stderr.read() if server.stderr else ""
        try:
            return str(urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read().decode())
        except OSError:
            time.sleep(0.1)
    return ""


def test_serve_answers_health_and_the_chat_page_and_refuses_a_busy_port(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKOWA_", "DATABASE_URL", "REDIS_URL"))}
    server = subprocess.Popen([TOKOWA, "serve", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        body = ""
        for _ in range(100):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert '"ok"' in body
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read().decode()
        assert "Tokowa" in page and "/sim/messages" in page
        busy = run(["serve", "--port", str(port)], tmp_path)
        assert busy.returncode != 0 and f"port {port}" in busy.stderr and "already in use" in busy.stderr
    finally:
        server.terminate()
        server.communicate(timeout=10)
    assert server.returncode in (0, -15)


def test_jobs_run_the_consistency_check_too(tmp_path: Path) -> None:
    """With the jobs outside `serve` (`tokowa jobs`), the doctor's round still runs: a balance its
    ledger does not explain becomes an alert admins see."""
    import sqlite3

    assert run(["migrate"], tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "tokowa.db") as db:
        db.execute("INSERT INTO users (user_id, saldo, role, data) VALUES ('6281200000002', 5000, 'bronze', '{}')")
    result = run(["jobs", "--once"], tmp_path, {"TOKOWA_ADMIN_NUMBERS": "6281100000001"})
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "tokowa.db") as db:
        kinds = [row[0] for row in db.execute("SELECT kind FROM alerts")]
    assert kinds == ["alert.ledger_mismatch"]


def test_serve_with_several_workers_shares_the_database_pool_out_between_them() -> None:
    from entrypoints.cli import _pool_share
    from tests.support.shop import settings

    configured = settings(TOKOWA_DB_POOL_SIZE="10", TOKOWA_DB_MAX_OVERFLOW="10")
    assert _pool_share(configured, 2) == {"TOKOWA_DB_POOL_SIZE": "5", "TOKOWA_DB_MAX_OVERFLOW": "5"}
    assert _pool_share(configured, 3) == {"TOKOWA_DB_POOL_SIZE": "4", "TOKOWA_DB_MAX_OVERFLOW": "4"}
    assert _pool_share(settings(TOKOWA_DB_POOL_SIZE="2", TOKOWA_DB_MAX_OVERFLOW="0"), 4) == {
        "TOKOWA_DB_POOL_SIZE": "1", "TOKOWA_DB_MAX_OVERFLOW": "0"}
