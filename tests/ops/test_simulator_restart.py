"""Demo mode across a restart of `make run`: a new app and container on the same SQLite file
still knows the open payment links (the order row holds the amount) and each number's
conversation (the inbox and outbox hold it, encrypted)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from entrypoints.bootstrap import build_application, prepare_database
from entrypoints.settings import Settings
from entrypoints.web.app import create_app
from tests.support.shop import ADMIN, ALICE, settings


def _config(tmp_path: Path) -> Settings:
    return settings(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/shop.db", TOKOWA_SERVER_JOBS="false",
                    TOKOWA_HOST="127.0.0.1", TOKOWA_PUBLIC_URL="http://127.0.0.1:8000")


@asynccontextmanager
async def served(tmp_path: Path) -> AsyncIterator[Any]:
    """One run of the server on the shop's SQLite file (as `tokowa serve` builds it)."""
    config = _config(tmp_path)
    await prepare_database(config)
    async with AsyncTestClient(create_app(config, build_application(config))) as client:
        yield client


async def _say(client: Any, user: str, text: str) -> list[dict[str, Any]]:
    sent = await client.post("/sim/messages", json={"user": user, "text": text})
    assert sent.status_code == 201, sent.text
    return list(sent.json()["messages"])


async def _stocked_link_order(client: Any) -> str:
    await _say(client, ADMIN, ".addproduk NF1|Netflix 1 Bulan|35000|0")
    await _say(client, ADMIN, ".addstok NF1\nuser1@mail.test|pw1")
    answer = await _say(client, ALICE, ".buy NF1 link")
    [link] = [m["link"]["url"] for m in answer if m.get("link")]
    assert link.startswith("http://127.0.0.1:8000/pay/INV-")
    return str(link.rsplit("/", 1)[1])


async def test_a_payment_link_made_before_a_restart_can_be_paid_after_it(tmp_path: Path) -> None:
    async with served(tmp_path) as before:
        order_id = await _stocked_link_order(before)

    async with served(tmp_path) as after:
        page = await after.get(f"/pay/{order_id}")
        assert page.status_code == 200 and "Rp 35.000" in page.text and "unknown payment" not in page.text
        paid = await after.post(f"/pay/{order_id}", data={"action": "pay"})
        assert paid.status_code == 200, paid.text
        assert paid.json()["order_status"] == "PAID"
        order = await after.get("/sim/messages", params={"user": ALICE})
        assert any("user1@mail.test|pw1" in m["text"] for m in order.json()["messages"])
        # Final now: a second press changes nothing and the page shows it paid.
        assert '"PAID"' in (await after.get(f"/pay/{order_id}")).text


async def test_the_pay_page_knows_no_saldo_order_and_no_stranger_id(tmp_path: Path) -> None:
    async with served(tmp_path) as client:
        await _say(client, ADMIN, ".addproduk VC|Voucher|10000|5")
        await _say(client, ADMIN, f".addsaldo {ALICE} 50000")
        await _say(client, ALICE, ".buy VC saldo")
        history = await _say(client, ALICE, ".riwayat")
        order_id = next(w for m in history for w in m["text"].split() if w.startswith("INV-"))
        assert (await client.get(f"/pay/{order_id}")).status_code == 404
        assert (await client.post(f"/pay/{order_id}", data={"action": "pay"})).status_code == 404
        assert (await client.get("/pay/INV-20260101-AAAAAAAAAAAA")).status_code == 404


async def test_a_numbers_conversation_comes_back_from_the_database_after_a_restart(tmp_path: Path) -> None:
    async with served(tmp_path) as before:
        await _stocked_link_order(before)
        await _say(before, ALICE, ".saldo")

    async with served(tmp_path) as after:
        answer = (await after.get("/sim/messages", params={"user": "0812-0000-0002", "history": "true"})).json()
        history = answer["history"]
        assert [m["from_user"] for m in history] == [True, False, True, False]
        assert history[0]["text"] == ".buy NF1 link" and history[2]["text"] == ".saldo"
        assert history[1]["link"]["url"].endswith("/pay/" + history[1]["text"].split("Order ", 1)[1].split()[0])
        assert "Saldo" in history[3]["text"] and answer["cursor"] == 0
        # Only that number's: the admin's messages are the admin's.
        assert not any(".addproduk" in m["text"] for m in history)
        # A page still polling with the old server's numbering gets the history again.
        await _say(after, ALICE, ".menu")
        stale = (await after.get("/sim/messages", params={"user": ALICE, "after": 99})).json()
        assert [m["text"] for m in stale["history"] if m["from_user"]][-1] == ".menu" and stale["cursor"] == 2
