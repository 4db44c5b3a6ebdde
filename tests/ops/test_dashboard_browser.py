"""The seller's dashboard in headless Chromium (Debian's /usr/bin/chromium, never a downloaded
browser), as a seller uses it: paste the token once, read the day in the shop's language (WIB times,
`Rp 1.250.000`, buyers' numbers as wa.me links), and run the shop from it: add and edit a product,
paste stock items, set a counted stock, adjust a balance (a double submit or a retry credits once),
deliver a manual order, change settings, acknowledge an alert. Every effect is checked through the
admin API; at 390 x 844 the page never scrolls sideways, loaded or with a form open.

One server and one browser for the module: the tests share the shop and run in file order."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from adapters.clock import ManualClock
from entrypoints.web.app import create_app
from tests.ops.conftest import AUTH, TOKEN, seed
from tests.support.processes import CHROMIUM_ARGS as ARGS
from tests.support.processes import chromium as _chromium
from tests.support.processes import free_port as _free_port
from tests.support.shop import ADMIN, ALICE, BOB, Shop, settings

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}
# The shop's clock: 03:26 UTC is 10:26 in Jakarta (WIB).
START = datetime(2026, 11, 28, 3, 26, tzinfo=UTC)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    config = settings(TOKOWA_ADMIN_TOKEN=TOKEN, TOKOWA_SERVER_JOBS="false")
    shop = Shop(config=config, clock=ManualClock(START))
    asyncio.run(seed(shop))
    asyncio.run(_manual_order(shop))
    asyncio.run(shop.app.notifier().alert_admins("alert.low_stock", code="NF1", name="Netflix 1 Bulan", stock=3))
    asyncio.run(_dead_letter(shop))
    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(create_app(config, shop.app), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if uv.started:
            break
        time.sleep(0.05)
    assert uv.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=_chromium(), args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


async def _manual_order(shop: Shop) -> None:
    """Bob paid for a product the seller delivers by hand: it waits on the dashboard."""
    await shop.say(ADMIN, ".addproduk CANVA|Canva Pro|20000|5")
    await shop.say(ADMIN, ".setproduk CANVA kirim manual")
    await shop.say(ADMIN, f".addsaldo {BOB} 20rb")
    shop.clock.advance(seconds=1)
    assert "disiapkan admin" in await shop.say(BOB, ".buy CANVA")


async def _dead_letter(shop: Shop) -> None:
    """A message that kept failing and was given up."""
    from application.ports import IncomingMessage

    now = shop.clock.now()
    async with shop.adapters.unit_of_work() as uow:
        await uow.inbox.record(IncomingMessage("wamid.poison", "6281300000003", ".riwayat"), now, now)
        await uow.inbox.dead_letter("wamid.poison", now)
        await uow.commit()


def _open(browser: Any, server: str, viewport: dict[str, int]) -> Any:
    """A fresh tab on the dashboard, logged in with the token."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport=viewport)
    page.goto(f"{server}/dashboard")
    page.fill("#token", TOKEN)
    page.click("#login button")
    expect(page.locator("#dashboard")).to_be_visible()
    expect(page.locator("#revenue")).not_to_have_text("–")
    return page


def _api(page: Any, server: str, path: str) -> Any:
    response = page.request.get(f"{server}/api/v1{path}", headers=AUTH)
    assert response.ok, path
    return response.json()


def _fits(page: Any, shots: Path, name: str) -> None:
    """No sideways scrolling at this width, and a screenshot to look at."""
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{name}: the page is {width[0]} px wide in a {width[1]} px window"
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0


def test_the_day_is_shown_in_the_shops_words_and_alerts_and_orders_are_handled(
        server: str, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport=LAPTOP)
    page.goto(f"{server}/dashboard")
    page.fill("#token", "wrong-token")
    page.click("#login button")
    expect(page.locator("#error")).to_contain_text("ditolak")
    expect(page.locator("#dashboard")).to_be_hidden()

    page.fill("#token", TOKEN)
    page.click("#login button")
    expect(page.locator("#dashboard")).to_be_visible()
    expect(page.locator("#sales h2")).to_have_text("Penjualan hari ini")
    expect(page.locator("#revenue")).to_have_text("Rp 40.000")
    expect(page.locator("#order-count")).to_have_text("2")
    # Orders: WIB time, product, quantity, total, payment and delivery state, the buyer's full number.
    rows = page.locator("#order-rows tr")
    expect(rows).to_have_count(2)  # Bob's Canva, Alice's vouchers
    alice = rows.filter(has_text="Voucher 10rb")
    expect(alice).to_contain_text("28/11 10:26")
    expect(alice.locator("td[data-label=Jml]")).to_have_text("2")
    expect(alice).to_contain_text("Rp 20.000")
    expect(alice).to_contain_text("lunas")
    expect(alice).to_contain_text("otomatis")
    expect(alice.locator("a")).to_have_attribute("href", f"https://wa.me/{ALICE}")
    expect(alice.locator("a")).to_have_text(f"+{ALICE}")
    expect(rows.filter(has_text="Canva Pro")).to_contain_text("menunggu dikirim")
    # The chart: 7 days, each with its value written out.
    expect(page.locator("#chart .track")).to_have_count(7)
    expect(page.locator("#chart .track").last).to_have_attribute("data-revenue", "40000")
    expect(page.locator("#chart .value").last).to_have_text("Rp 40.000")
    expect(page.locator("#chart")).to_contain_text("Sab 28/11")
    expect(page.locator("#low-stock-rows")).to_contain_text("NF1")
    expect(page.locator("#outcome-rows")).to_contain_text("lunas")
    expect(page.locator("#dead-letter-rows")).to_contain_text(".riwayat")
    expect(page.locator("#dead-letter-rows a")).to_have_attribute("href", f"https://wa.me/{BOB}")
    _fits(page, tmp_path, "laptop")

    # The alert, in Indonesian as on WhatsApp, is acknowledged for every worker.
    expect(page.locator("#alert-rows")).to_contain_text("Stok NF1 (Netflix 1 Bulan) tinggal 3")
    page.locator("#alert-rows tr", has_text="tinggal 3").locator("button.ack").click()
    expect(page.locator("#alert-rows")).not_to_contain_text("tinggal 3")
    assert [a["key"] for a in _api(page, server, "/alerts")] == ["alert.manual_order"]

    # The manual order waits with the buyer's number as a wa.me link, and is delivered from here (on a phone).
    page.set_viewport_size(PHONE)
    _fits(page, tmp_path, "phone-waiting")
    waiting = page.locator("#waiting-rows form.deliver")
    expect(waiting).to_have_count(1)
    expect(waiting.locator("a")).to_have_attribute("href", f"https://wa.me/{BOB}")
    waiting.locator("button").click()  # nothing typed: said inline, nothing sent
    expect(waiting.locator(".msg.error")).to_be_visible()
    waiting.locator("textarea").fill("Undangan: https://canva.example/invite/1")
    waiting.locator("button").click()
    expect(page.locator("#waiting-rows form.deliver")).to_have_count(0)
    expect(page.locator("#waiting-done")).to_contain_text("terkirim")
    assert _api(page, server, "/orders/waiting") == []
    expect(page.locator("#order-rows tr", has_text="Canva Pro")).to_contain_text("terkirim")

    _fits(page, tmp_path, "phone")
    page.reload()  # the token stays for the tab
    expect(page.locator("#revenue")).to_have_text("Rp 40.000")
    page.click("#logout")
    expect(page.locator("#login")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('tokowa.adminToken')") is None
    page.close()


def test_products_and_stock_are_managed_from_a_phone(server: str, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = _open(browser, server, PHONE)
    _fits(page, tmp_path, "products-loaded")

    # Add a product: the form goes on to its other fields.
    page.click("#add-product")
    form = page.locator("#product-form")
    _fits(page, tmp_path, "product-add")
    form.locator("#pf-code").fill("yt1")
    form.locator("#pf-name").fill("YouTube Premium 1 Bulan")
    form.locator("#pf-price").fill("1250000")
    form.locator("#pf-description").fill("Akun famili")
    form.locator("button[type=submit]").click()
    expect(form.locator(".msg")).to_contain_text("YT1 ditambahkan")
    assert _api(page, server, "/products/YT1") == {"code": "YT1", "name": "YouTube Premium 1 Bulan",
                                                    "price": 1250000, "stock": 0, "active": True}
    expect(page.locator("#product-rows tr", has_text="YT1")).to_contain_text("Rp 1.250.000")

    # Edit every .setproduk field.
    _fits(page, tmp_path, "product-edit")
    form.locator("#pf-name").fill("YouTube Premium")
    form.locator("#pf-price").fill("60000")
    form.locator("#pf-price-silver").fill("55000")
    form.locator("#pf-price-gold").fill("50000")
    form.locator("#pf-min-stock").fill("2")
    form.locator("#pf-terms").fill("Garansi 30 hari")
    form.locator("#pf-delivery-text").fill("Login di youtube.com")
    form.locator("#pf-item-format").fill("email|password")
    form.locator("button[type=submit]").click()
    expect(form.locator(".msg")).to_contain_text("disimpan")
    details = _api(page, server, "/products/YT1/details")
    assert details == {**details, "name": "YouTube Premium", "price": 60000, "price_silver": 55000, "price_gold": 50000,
                       "min_stock": 2, "terms": "Garansi 30 hari", "delivery_text": "Login di youtube.com",
                       "item_format": "email|password", "fulfilment": "otomatis", "description": "Akun famili"}

    # A refused value is said inline in the shop's language and changes nothing.
    page.locator("#product-rows tr", has_text="NF1").locator("button.edit").click()
    expect(form.locator("#pf-code")).to_have_value("NF1")
    form.locator("#pf-fulfilment").select_option("manual")
    form.locator("#pf-name").fill("Netflix Premium")
    form.locator("button[type=submit]").click()
    expect(form.locator(".msg.error")).to_contain_text("item stok")
    assert _api(page, server, "/products/NF1/details")["name"] == "Netflix 1 Bulan"
    page.locator("#product-form [data-close]").click()

    # Paste stock items: only the count comes back, never the items.
    page.locator("#product-rows tr", has_text="YT1").locator("button.stock").click()
    _fits(page, tmp_path, "stock-items")
    page.fill("#items-text", "a@yt.test|pw-a\nb@yt.test|pw-b\n\nc@yt.test|pw-c\n")
    page.click("#items-form button[type=submit]")
    expect(page.locator("#items-form .msg")).to_have_text("3 item ditambahkan. Stok YT1 sekarang 3.")
    expect(page.locator("#items-text")).to_have_value("")
    assert _api(page, server, "/products/YT1/stock") == {"code": "YT1", "stock": 3, "uses_items": True}
    page.fill("#items-text", "d@yt.test|pw-d\nd@yt.test|pw-d")
    page.click("#items-form button[type=submit]")
    expect(page.locator("#items-form .msg.error")).to_contain_text("baris 2")
    assert "pw-d" not in page.locator("#stock-panel").inner_text()
    assert _api(page, server, "/products/YT1/stock")["stock"] == 3
    expect(page.locator("#count-form")).to_be_hidden()  # an item product has no counted stock

    # Set a counted stock.
    page.locator("#product-rows tr", has_text="VC").locator("button.stock").click()
    expect(page.locator("#count-form")).to_be_visible()
    _fits(page, tmp_path, "stock-count")
    page.fill("#count-value", "42")
    page.click("#count-form button[type=submit]")
    expect(page.locator("#count-form .msg")).to_have_text("Stok VC sekarang 42.")
    assert _api(page, server, "/products/VC")["stock"] == 42

    # Deactivate, with a second click to be sure.
    page.locator("#product-rows tr", has_text="YT1").locator("button.edit").click()
    page.click("#deactivate")
    assert _api(page, server, "/products/YT1")["active"] is True
    page.click("#deactivate")
    expect(form.locator(".msg")).to_contain_text("dinonaktifkan")
    assert _api(page, server, "/products/YT1")["active"] is False
    expect(page.locator("#product-rows")).not_to_contain_text("YT1")
    # Listed apart, and sold again as it was: its price, fields and stock items kept.
    page.locator("#product-form [data-close]").click()
    page.click("#inactive-title")
    _fits(page, tmp_path, "products-inactive")
    page.locator("#inactive-rows tr", has_text="YT1").locator("button.reactivate").click()
    expect(page.locator("#inactive-box .msg")).to_have_text("Produk YT1 dijual lagi.")
    assert _api(page, server, "/products/YT1") == {"code": "YT1", "name": "YouTube Premium", "price": 60000,
                                                    "stock": 3, "active": True}
    assert _api(page, server, "/products/YT1/details")["terms"] == "Garansi 30 hari"
    expect(page.locator("#product-rows tr", has_text="YT1")).to_contain_text("Rp 60.000")
    expect(page.locator("#inactive-products")).to_be_hidden()
    _fits(page, tmp_path, "products-done")
    page.close()


def test_a_balance_is_credited_once_and_settings_change_with_their_ranges_shown(
        server: str, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = _open(browser, server, PHONE)
    before = _api(page, server, f"/wallets/{ALICE}")["balance"]

    # A double click is one submission: credited once.
    page.fill("#wf-number", "0" + ALICE[2:])
    page.fill("#wf-amount", "25000")
    _fits(page, tmp_path, "wallet")
    page.dblclick("#wallet-form button[type=submit]")
    expect(page.locator("#wallet-form .msg")).to_contain_text(f"+{ALICE} sekarang {_rp(before + 25000)}")
    assert _api(page, server, f"/wallets/{ALICE}")["balance"] == before + 25000

    # The answer is lost on the way back: the seller presses again, the same submission is not counted twice.
    lost = {"done": False}

    def drop_the_answer(route: Any) -> None:
        route.fetch()  # the server credits...
        lost["done"] = True
        route.abort()  # ...but the page never hears it

    page.route("**/adjustments", drop_the_answer)
    page.fill("#wf-amount", "5000")
    page.click("#wallet-form button[type=submit]")
    expect(page.locator("#wallet-form .msg.error")).to_be_visible()
    assert lost["done"]
    page.unroute("**/adjustments")
    page.click("#wallet-form button[type=submit]")
    expect(page.locator("#wallet-form .msg")).to_contain_text("tidak dihitung dua kali")
    assert _api(page, server, f"/wallets/{ALICE}")["balance"] == before + 30000
    assert [e["delta"] for e in _api(page, server, f"/wallets/{ALICE}/ledger")][:3] == [5000, 25000, -20000]

    # Settings: the allowed range is shown, a value out of it refused inline in Indonesian.
    setting = page.locator("#setting-rows form[data-key=max_qty]")
    expect(setting).to_contain_text("angka 1 sampai 1.000")
    setting.locator("input").fill("0")
    _fits(page, tmp_path, "settings")
    setting.locator("button").click()
    expect(setting.locator(".msg.error")).to_contain_text("harus angka 1 sampai 1000")
    assert _api(page, server, "/settings")["max_qty"] == "10"
    setting.locator("input").fill("5")
    setting.locator("button").click()
    expect(setting.locator(".msg")).to_have_text("max_qty disimpan.")
    assert _api(page, server, "/settings")["max_qty"] == "5"

    # English when the shop says so: labels, states and the bot's refusals.
    page.locator("#setting-rows form[data-key=language] select").select_option("en")
    page.locator("#setting-rows form[data-key=language] button").click()
    expect(page.locator("#sales h2")).to_have_text("Today's sales")
    expect(page.locator("#order-rows")).to_contain_text("paid")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    setting = page.locator("#setting-rows form[data-key=max_qty]")
    expect(setting).to_contain_text("a number from 1 to 1.000")
    setting.locator("input").fill("0")
    setting.locator("button").click()
    expect(setting.locator(".msg.error")).not_to_contain_text("harus")
    _fits(page, tmp_path, "english")
    page.close()


def _rp(value: int) -> str:
    return "Rp " + f"{value:,}".replace(",", ".")
