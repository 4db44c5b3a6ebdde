"""A whole shop on SQLite or PostgreSQL, driven like customers and admins would, for the tests
of data at rest."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from application.ports import PaymentState
from entrypoints.web.midtrans import receive_notification
from tests.fixtures.storage import truncate_all
from tests.support.shop import ADMIN, ALICE, BOB, Shop
from tests.support.wiring import close, production_adapters

SECRETS = ["alpha.sekret@mail.test|Pw-Alpha-9137", "bravo.sekret@mail.test|Pw-Bravo-2281",
           "charlie.sekret@mail.test|Pw-Charlie-5512"]
MANUAL_SECRET = "https://canva.example/invite/Zx81-Sekret-4471"  # what a seller delivers by hand
# A product's delivery text that is itself a secret: one login every buyer of the product gets.
TEXT_SECRET = "Login keluarga: family.sekret@mail.test Pw-Family-3318"


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
        return
    url: str = request.getfixturevalue("pg_url")
    await truncate_all(url)
    yield url
    await truncate_all(url)


async def open_shop(database_url: str, key: str) -> Shop:
    return Shop(production_adapters(database_url, TOKOWA_SECRET_KEY=key))


async def close_shop(shop: Shop) -> None:
    await close(shop.adapters)


async def pay_by_link(shop: Shop, order_id: str) -> None:
    """The customer pays on the payment page; the signed notification reaches the webhook."""
    shop.gateway.customer_acts(order_id, PaymentState.PAID)
    body = shop.gateway.notification(order_id)
    assert body is not None
    answer = await receive_notification(body, shop.adapters.payment_verifier(), shop.app.handle_notification())
    assert answer.status_code == 200


async def full_flow(shop: Shop) -> None:
    """An admin stocks items; Alice buys with saldo, Bob by payment link; Alice asks again."""
    await shop.say(ADMIN, ".addproduk NF1|Netflix 1 Bulan|35000|0|Akun premium")
    await shop.say(ADMIN, ".addstok NF1\n" + "\n".join(SECRETS))
    await shop.say(ADMIN, f".setproduk NF1 teks {TEXT_SECRET}")
    await shop.say(ADMIN, f".addsaldo {ALICE} 100rb")
    assert TEXT_SECRET not in await shop.say(ALICE, ".produk NF1")  # browsing (cached) never shows it
    bought = await shop.say(ALICE, ".buy NF1")
    assert SECRETS[0] in bought and TEXT_SECRET in bought
    await shop.say(BOB, ".buy NF1")
    order = await shop.last_order_of(BOB)
    await pay_by_link(shop, order.id)
    assert any(SECRETS[1] in text for text in shop.inbox(BOB))
    assert SECRETS[0] in await shop.say(ALICE, ".kirimulang")
    # A product the seller delivers by hand: Bob pays from saldo, the admin delivers the invite.
    await shop.say(ADMIN, ".addproduk CANVA|Canva Pro|20000|5")
    await shop.say(ADMIN, ".setproduk CANVA kirim manual")
    await shop.say(ADMIN, f".addsaldo {BOB} 20rb")
    shop.clock.advance(seconds=1)  # Bob's last order is this one
    await shop.say(BOB, ".buy CANVA")
    manual = await shop.last_order_of(BOB)
    await shop.say(ADMIN, f".kirim {manual.id}\nUndangan: {MANUAL_SECRET}")
    assert any(MANUAL_SECRET in text for text in shop.inbox(BOB))
    assert MANUAL_SECRET in await shop.say(BOB, f".kirimulang {manual.id}")
