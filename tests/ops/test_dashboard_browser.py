"""The seller's dashboard in headless Chromium (Debian's /usr/bin/chromium, never a
downloaded browser): paste the token once, see today's sales, orders, low stock, payment
outcomes, the chart, the alerts and the messages given up; a wrong token is refused."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.processes import CHROMIUM_ARGS as ARGS
from tests.support.processes import chromium as _chromium
from tests.support.processes import free_port as _free_port
import uvicorn

from entrypoints.web.app import create_app
from tests.ops.conftest import TOKEN, seed
from tests.support.shop import ADMIN, BOB, Shop, settings


pytestmark = pytest.mark.slow


@pytest.fixture
def server() -> Iterator[str]:
    config = settings(TOKOWA_ADMIN_TOKEN=TOKEN, TOKOWA_SERVER_JOBS="false")
    shop = Shop(config=config)
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


def test_the_dashboard_shows_the_days_figures_after_the_token_is_pasted(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(f"{server}/dashboard")
            page.fill("#token", "wrong-token")
            page.click("#login button")
            expect(page.locator("#error")).to_contain_text("refused")
            expect(page.locator("#dashboard")).to_be_hidden()

            page.fill("#token", TOKEN)
            page.click("#login button")
            expect(page.locator("#dashboard")).to_be_visible()
            expect(page.locator("#revenue")).to_have_text("Rp 40.000")
            expect(page.locator("#order-count")).to_have_text("2")
            expect(page.locator("#order-rows tr")).to_have_count(2)
            expect(page.locator("#order-rows")).to_contain_text("PAID")
            expect(page.locator("#order-rows")).to_contain_text("6281****0002")
            expect(page.locator("#low-stock-rows")).to_contain_text("NF1")
            expect(page.locator("#outcome-rows")).to_contain_text("PAID")
            expect(page.locator("#chart rect.bar")).to_have_count(7)
            expect(page.locator("#chart rect.bar").last).to_have_attribute("data-revenue", "40000")
            expect(page.locator("#alert-rows")).to_contain_text("tinggal 3")
            page.click("#alert-rows button.ack")  # acknowledged: gone from the open alerts, for every worker
            expect(page.locator("#alert-rows")).not_to_contain_text("tinggal 3")
            expect(page.locator("#dead-letter-rows tr")).to_have_count(1)
            expect(page.locator("#dead-letter-rows")).to_contain_text(".riwayat")
            expect(page.locator("#dead-letter-rows")).to_contain_text("6281****0003")
            # A manual order waits with the buyer's number as a wa.me link, and is delivered from here.
            waiting = page.locator("#waiting-rows form.deliver")
            expect(waiting).to_have_count(1)
            expect(waiting.locator("a")).to_have_attribute("href", f"https://wa.me/{BOB}")
            waiting.locator("textarea").fill("Undangan: https://canva.example/invite/1")
            waiting.locator("button").click()
            expect(page.locator("#waiting-rows form.deliver")).to_have_count(0)
            assert page.evaluate("sessionStorage.getItem('tokowa.adminToken')") == TOKEN

            page.reload()
            expect(page.locator("#revenue")).to_have_text("Rp 40.000")
            page.click("#logout")
            expect(page.locator("#login")).to_be_visible()
            assert page.evaluate("sessionStorage.getItem('tokowa.adminToken')") is None
        finally:
            browser.close()
