"""The QR part of a reply: kept whole through the outbox's JSON, printed in the terminal, the
payment_method setting, and the caption's deadline."""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest

from adapters.messaging.simulator import ConsoleMessenger
from application.chat.render import until
from application.replies import Choice, LinkButton, QrImage, Reply
from application.serialization import reply_from_json, reply_to_json
from domain.errors import InvalidSetting
from domain.money import Rupiah
from domain.order import Order
from domain.settings import ShopSettings

QR = Reply("Bayar dengan QRIS", image=QrImage("000201ABC", "Buka link ini:\nhttps://x.test/qr", "https://x.test/qr"))


def test_a_reply_with_a_picture_survives_the_outbox_json() -> None:
    assert reply_from_json(reply_to_json(QR)) == QR


def test_a_reply_without_a_picture_is_stored_as_before() -> None:
    plain = Reply("hi", choices=(Choice(".produk A", "A"),), link=LinkButton("Bayar", "https://x.test"))
    assert '"image"' not in reply_to_json(plain) and reply_from_json(reply_to_json(plain)) == plain


def test_every_part_of_a_reply_survives_the_outbox_json_exactly_as_before() -> None:
    full = Reply("teks\n\"kutip\" é 😀", choices=(Choice(".buy A 1", "A", "satu"), Choice(".buy B", "B")),
                 choices_title="Pilih", choices_button="Menu", link=LinkButton("Bayar", "https://x.test/p"),
                 image=QrImage("000201", "link", "https://x.test/qr"), as_template=True)
    assert reply_from_json(reply_to_json(full)) == full
    # The stored text itself (rows written before stay readable, and rows written now by older code).
    assert reply_to_json(full) == json.dumps(asdict(full), separators=(",", ":"), ensure_ascii=False)


async def test_the_terminal_prints_the_code_above_its_caption() -> None:
    out = io.StringIO()
    await ConsoleMessenger(out).send("62812", QR)
    printed = out.getvalue()
    assert printed.index("█") < printed.index("Bayar dengan QRIS") < printed.index("-> https://x.test/qr")


@pytest.mark.parametrize(("raw", "value"), [("qris", "qris"), ("LINK", "link"), (" Qris ", "qris")])
def test_payment_method_takes_link_or_qris(raw: str, value: str) -> None:
    assert ShopSettings().payment_method == "link"
    assert ShopSettings().with_value("payment_method", raw).payment_method == value


@pytest.mark.parametrize("raw", ["saldo", "transfer", ""])
def test_payment_method_refuses_anything_else(raw: str) -> None:
    with pytest.raises(InvalidSetting):
        ShopSettings().with_value("payment_method", raw)


def test_the_deadline_shows_the_date_only_when_it_is_another_day() -> None:
    made = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 10:00 WIB
    order = Order.topup("INV-1", "62812", Rupiah(50_000), made, made + timedelta(minutes=15))
    assert until(order) == "10:15 WIB"
    order.expires_at = made + timedelta(hours=14, minutes=30)  # 00:30 WIB the next day
    assert until(order) == "29-11-2026 00:30 WIB"
