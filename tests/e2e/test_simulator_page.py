"""The simulator chat page in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright;
never a downloaded browser), against a real `tokowa serve` on the embedded default: pick a
number, open the product list, pick a product, tap buy, pay on the simulator's pay page, and see
the goods arrive in the chat."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import CHROMIUM_ARGS as ARGS
from tests.support.processes import chromium as _chromium
from tests.support.processes import free_port as _free_port

# Nothing from the developer's environment may pick another transport, database or payment provider.
CLEARED_PREFIXES = ("WHATSAPP_", "GOWA_", "MIDTRANS_", "TOKOWA_", "DATABASE_URL", "REDIS_URL")

pytestmark = pytest.mark.slow
ADMIN = "6281299990000"


def _tokowa() -> str:
    script = Path(sys.executable).with_name("tokowa")
    assert script.exists(), "the tokowa console script is not installed (pip install -e .)"
    return str(script)


@pytest.fixture
def served_shop(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED_PREFIXES)}
    env.update({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/shop.db", "TOKOWA_HOST": "127.0.0.1",
                "TOKOWA_PORT": str(port), "TOKOWA_SERVER_JOBS": "false", "TOKOWA_ADMIN_NUMBERS": ADMIN})
    demo = subprocess.run([_tokowa(), "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert demo.returncode == 0, demo.stderr
    server = subprocess.Popen([_tokowa(), "serve"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"tokowa serve exited: {server.stderr.read() if server.stderr else ''}")
            try:
                if httpx.get(f"{url}/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "tokowa serve did not start within 60 s"
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_a_customer_buys_a_product_through_the_chat_page(served_shop: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.goto(served_shop)
            page.fill("#user", "0812-3456-7890")
            page.press("#user", "Tab")

            page.fill("#text", ".produk")
            page.press("#text", "Enter")
            page.locator(".msg.in .list-button").last.click()
            page.locator(".sheet .row", has_text="DEMO1").click()

            expect(page.locator(".msg.in").last).to_contain_text("Netflix Premium 1 Bulan")
            page.locator(".msg.in .choice", has_text="DEMO1").last.click()

            pay_button = page.locator(".msg.in a.link-button").last
            expect(pay_button).to_be_visible()
            with page.expect_popup() as popup:
                pay_button.click()
            pay_page = popup.value
            pay_page.wait_for_load_state()
            expect(pay_page.locator(".amount")).to_contain_text("35")
            pay_page.click("button.pay")
            expect(pay_page.locator("#result")).to_have_text("Pembayaran berhasil.")

            # The delivery arrives in the chat by itself (long polling): the order and its item.
            log = page.locator("#log")
            expect(log).to_contain_text("Pesanan INV-")
            expect(log).to_contain_text("netflix.demo1@tokowa.test")
            expect(page.locator("#status")).to_contain_text("0812-3456-7890")
        finally:
            browser.close()


def test_a_customer_pays_a_qris_code_shown_in_the_chat_page(served_shop: str) -> None:
    """`.buy DEMO1 qris`: the QR picture shows in the chat, decodes to the order's QRIS string,
    and "scanning" it (a click) opens the pay simulator, whose payment takes the webhook's path."""
    import base64

    from playwright.sync_api import expect, sync_playwright

    from tests.support.qr import decode_qr

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.goto(served_shop)
            page.fill("#user", "0812-5555-0001")
            page.press("#user", "Tab")
            page.fill("#text", ".buy DEMO1 qris")
            page.press("#text", "Enter")

            picture = page.locator(".msg.in img.qr").last
            expect(picture).to_be_visible()
            assert picture.evaluate("img => img.complete && img.naturalWidth") >= 800  # drawn, full size
            bubble = page.locator(".msg.in").last
            expect(bubble).to_contain_text("Bayar dengan QRIS sebelum")
            order_id = bubble.inner_text().split("Order ", 1)[1].split()[0]
            src = picture.get_attribute("src") or ""
            assert src.startswith("data:image/png;base64,")
            [code] = decode_qr(base64.b64decode(src.split(",", 1)[1]))
            assert order_id.startswith("INV-") and order_id in code and code.startswith("000201")

            with page.expect_popup() as popup:
                picture.click()
            pay_page = popup.value
            pay_page.wait_for_load_state()
            expect(pay_page.locator(".amount")).to_contain_text("35")
            pay_page.click("button.pay")
            expect(pay_page.locator("#result")).to_have_text("Pembayaran berhasil.")

            log = page.locator("#log")
            expect(log).to_contain_text(f"Pesanan {order_id}")
            expect(log).to_contain_text("netflix.demo1@tokowa.test")
        finally:
            browser.close()


def test_a_double_tap_on_buy_asks_before_spending_again(served_shop: str) -> None:
    """Two taps on "Beli DEMO1" 1.2 s apart: one purchase, then a question the customer can drop."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.goto(served_shop)

            def say(user: str, text: str) -> None:
                page.fill("#user", user)
                page.press("#user", "Tab")
                page.fill("#text", text)
                page.press("#text", "Enter")

            say("0" + ADMIN[2:], ".addsaldo 0812-7777-0001 100rb")
            expect(page.locator(".msg.in").last).to_contain_text("100.000")
            say("0812-7777-0001", ".produk DEMO1")
            buy = page.locator(".msg.in .choice", has_text="DEMO1").last
            buy.click()
            expect(page.locator(".msg.in").last).to_contain_text("Pembelian berhasil")
            page.wait_for_timeout(1200)
            buy.click()
            question = page.locator(".msg.in").last
            expect(question).to_contain_text("baru saja membeli 1x DEMO1")
            page.locator(".msg.in .choice", has_text="Batal").last.click()
            expect(page.locator(".msg.in").last).to_contain_text("tidak jadi")
            say("0812-7777-0001", ".saldo")
            expect(page.locator(".msg.in").last).to_contain_text("Rp 65.000")  # one purchase of Rp 35.000
        finally:
            browser.close()


def _payment_link(shop_url: str, user: str, text: str) -> str:
    """The pay simulator's address from the bot's answer to TEXT (sent through the chat page's API)."""
    sent = httpx.post(f"{shop_url}/sim/messages", json={"user": user, "text": text}, timeout=30).json()
    links = [m["link"]["url"] for m in sent["messages"] if m.get("link")]
    assert links, sent
    return str(links[-1])


@pytest.mark.parametrize("button, outcome", [("fail", "Pembayaran gagal."), ("expire", "Pembayaran kedaluwarsa.")])
def test_the_pay_page_says_how_the_payment_ended_and_stays_final_after_a_reload(
        served_shop: str, button: str, outcome: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    url = _payment_link(served_shop, "081234567891", ".buy DEMO1 link")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.goto(url)
            buttons = page.locator("#f button")
            expect(buttons).to_have_count(3)
            for i in range(3):
                expect(buttons.nth(i)).to_be_enabled()
            page.click(f"button.{button}")
            expect(page.locator("#result")).to_have_text(outcome)
            page.reload()
            expect(page.locator("#result")).to_have_text(outcome)
            for i in range(3):
                expect(buttons.nth(i)).to_be_disabled()
            back = page.get_by_role("link", name="Kembali ke chat")
            expect(back).to_have_attribute("href", "/")
            back.click()
            expect(page).to_have_url(served_shop + "/")
        finally:
            browser.close()


def test_the_pay_page_speaks_the_shops_language(served_shop: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    httpx.post(f"{served_shop}/sim/messages", json={"user": ADMIN, "text": ".setting language en"}, timeout=30)
    url = _payment_link(served_shop, "081234567892", ".buy DEMO1 link")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.goto(url)
            page.click("button.pay")
            expect(page.locator("#result")).to_have_text("Payment successful.")
            expect(page.get_by_role("link", name="Back to the chat")).to_have_attribute("href", "/")
        finally:
            browser.close()


def test_the_chat_page_on_a_phone_remembers_the_number_and_its_conversation(served_shop: str) -> None:
    """At 390x844: nothing scrolls sideways, the number and the conversation (both sides) come back
    after a reload, the input grows for a multi-line message, and a send that fails shows as failed."""
    from playwright.sync_api import Route, expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.set_default_timeout(20_000)
            page.goto(served_shop)
            page.fill("#user", "0812-5555-0001")
            page.press("#user", "Tab")
            page.fill("#text", ".saldo")
            page.press("#text", "Enter")
            expect(page.locator(".msg.in").last).to_contain_text("Saldo")
            expect(page.locator(".msg.out.sent")).to_have_count(1)

            one_line = page.locator("#text").bounding_box()
            page.type("#text", ".admin halo")
            for line in ("baris dua", "baris tiga"):
                page.keyboard.press("Shift+Enter")
                page.keyboard.type(line)
            grown = page.locator("#text").bounding_box()
            assert one_line is not None and grown is not None and grown["height"] > one_line["height"]
            expect(page.locator("#text")).to_have_value(".admin halo\nbaris dua\nbaris tiga")
            page.keyboard.press("Enter")
            expect(page.locator(".msg.out.sent")).to_have_count(2)
            expect(page.locator(".msg.out").last).to_have_text(re.compile(r"^\.admin halo\nbaris dua\nbaris tiga"))

            for i in range(2):
                page.reload() if i == 0 else page.goto(served_shop)
                expect(page.locator("#user")).to_have_value("0812-5555-0001")
                expect(page.locator(".msg.out")).to_have_count(2)
                expect(page.locator(".msg.out").first).to_contain_text(".saldo")
                expect(page.locator(".msg.in").first).to_contain_text("Saldo")
                assert page.evaluate("document.documentElement.scrollWidth") <= 390
                for visible in ("header", "#user", "#text"):
                    box = page.locator(visible).bounding_box()
                    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, visible

            def refuse(route: Route) -> None:
                route.abort() if route.request.method == "POST" else route.continue_()

            page.route("**/sim/messages", refuse)
            page.fill("#text", ".menu")
            page.press("#text", "Enter")
            expect(page.locator(".msg.out.failed")).to_have_count(1)
            expect(page.locator(".msg.out.failed")).not_to_have_class(re.compile(r"\bsent\b"))
            expect(page.locator(".msg.in.error").last).to_contain_text("gagal terkirim")
            page.unroute("**/sim/messages")

            page.fill("#user", "12345")
            page.press("#user", "Tab")
            expect(page.locator("#user-error")).to_have_text("Nomor tidak valid. Gunakan 08..., +62... atau 62....")
            page.fill("#text", ".menu")
            page.press("#text", "Enter")
            expect(page.locator(".msg.out")).to_have_count(0)
            expect(page.locator("#text")).to_have_value(".menu")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        finally:
            browser.close()


def test_the_api_page_renders_offline_and_every_page_has_the_favicon(served_shop: str) -> None:
    """/schema draws the admin API with Redoc served by Tokowa itself: the browser asks no other host."""
    from playwright.sync_api import Request, expect, sync_playwright

    pay_url = _payment_link(served_shop, "081234567893", ".buy DEMO1 link")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            asked: list[str] = []

            def record(request: Request) -> None:
                asked.append(request.url)

            page.on("request", record)
            page.goto(f"{served_shop}/schema")
            expect(page.locator("h1", has_text="Tokowa admin API")).to_be_visible()
            expect(page.get_by_text("/api/v1/products").first).to_be_attached()
            outside = [u for u in asked if not u.startswith((served_shop + "/", "data:", "blob:", "about:"))]
            assert outside == [] and f"{served_shop}/static/redoc.standalone.js" in asked

            for url in (f"{served_shop}/schema", served_shop + "/", f"{served_shop}/dashboard", pay_url):
                page.goto(url)
                expect(page.locator("link[rel=icon]")).to_have_attribute("href", "/favicon.ico")
            icon = page.request.get(f"{served_shop}/favicon.ico")
            assert icon.ok and icon.headers["content-type"] == "image/x-icon" and icon.body()[:4] == b"\0\0\1\0"
        finally:
            browser.close()


def _start(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    """`tokowa serve` on the demo shop in tmp_path (loaded on the first start), ready to answer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED_PREFIXES)}
    env.update({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/shop.db", "TOKOWA_HOST": "127.0.0.1",
                "TOKOWA_PORT": str(port), "TOKOWA_SERVER_JOBS": "false", "TOKOWA_ADMIN_NUMBERS": ADMIN})
    if not (tmp_path / "shop.db").exists():
        demo = subprocess.run([_tokowa(), "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert demo.returncode == 0, demo.stderr
    server = subprocess.Popen([_tokowa(), "serve"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            pytest.fail(f"tokowa serve exited: {server.stderr.read() if server.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "tokowa serve did not start within 60 s"
        time.sleep(0.2)


def _stop(server: subprocess.Popen[str]) -> None:
    server.terminate()
    try:
        server.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def test_the_chat_page_shows_the_conversation_from_the_database_after_a_restart(tmp_path: Path) -> None:
    """Both sides of a number's conversation come from the database: after a restart of the
    server a reload, a fresh browser re-entering the number, and a page left open all show it,
    lists included; the page then speaks the shop's language."""
    from playwright.sync_api import expect, sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _start(tmp_path, port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=_chromium(), args=ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 390, "height": 844})
                page.set_default_timeout(20_000)
                page.goto(url)
                page.fill("#user", "0812-6666-0001")
                page.press("#user", "Tab")
                for text, answer in ((".saldo", "Saldo"), (".produk", "Daftar produk")):
                    page.fill("#text", text)
                    page.press("#text", "Enter")  # each answered before the next (else their replies may cross)
                    expect(page.locator(".msg.in").last).to_contain_text(answer)
                expect(page.locator(".msg.in .list-button")).to_have_count(1)
                expect(page.locator(".msg.out.sent")).to_have_count(2)

                _stop(server)
                server = _start(tmp_path, port)

                # The page left open finds the restarted server and shows what is said from now on.
                httpx.post(f"{url}/sim/messages", json={"user": "081266660001", "text": ".riwayat"}, timeout=30)
                expect(page.locator(".msg.out")).to_have_count(3)
                expect(page.locator(".msg.out").last).to_contain_text(".riwayat")

                page.reload()
                expect(page.locator("#user")).to_have_value("0812-6666-0001")
                expect(page.locator(".msg.out")).to_have_count(3)
                outs = page.locator(".msg.out")
                for i, text in enumerate((".saldo", ".produk", ".riwayat")):
                    expect(outs.nth(i)).to_contain_text(text)
                expect(page.locator(".msg.in").first).to_contain_text("Saldo")
                page.locator(".msg.in .list-button").click()  # the list itself came back, not only its text
                expect(page.locator(".sheet .row", has_text="DEMO1")).to_be_visible()
                assert page.evaluate("document.documentElement.scrollWidth") <= 390

                other = browser.new_context().new_page()  # another browser: nothing remembered there
                other.set_default_timeout(20_000)
                other.goto(url)
                other.fill("#user", "+62 812 6666 0001")
                other.press("#user", "Tab")
                expect(other.locator(".msg.out")).to_have_count(3)
                expect(other.locator(".msg.in")).to_have_count(3)

                httpx.post(f"{url}/sim/messages", json={"user": ADMIN, "text": ".setting language en"}, timeout=30)
                page.reload()
                expect(page.locator("html")).to_have_attribute("lang", "en")
                expect(page.locator("#text")).to_have_attribute("placeholder", "Type a message")
                expect(page.locator("#status")).to_contain_text("0812-6666-0001")
                expect(page.locator(".hint")).to_contain_text("This is a WhatsApp simulator")
            finally:
                browser.close()
    finally:
        _stop(server)


def test_a_message_sent_while_the_history_loads_stays_in_the_chat(served_shop: str) -> None:
    """On a slow line the number's history can arrive after the customer has already sent a
    message: the message stays, once, marked sent, with its reply after the history."""
    from playwright.sync_api import Response, Route, expect, sync_playwright

    held: list[tuple[Route, Response]] = []

    def hold_history(route: Route) -> None:
        held.append((route, route.fetch()))  # the history as the server has it now, answered later

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.set_default_timeout(20_000)
            page.route(lambda url: "history=true" in url, hold_history)
            page.goto(served_shop)
            page.fill("#user", "0812-5555-0002")
            page.press("#user", "Tab")
            while not held:
                page.wait_for_timeout(50)
            page.fill("#text", ".saldo")
            page.press("#text", "Enter")
            expect(page.locator(".msg.out")).to_have_count(1)
            route, response = held.pop()
            route.fulfill(response=response)
            expect(page.locator(".msg.in").last).to_contain_text("Saldo")
            expect(page.locator(".msg.out.sent")).to_have_count(1)
            expect(page.locator(".msg.out")).to_have_count(1)
            expect(page.locator(".msg.in", has_text="Saldo")).to_have_count(1)
        finally:
            browser.close()
