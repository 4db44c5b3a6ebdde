"""Structured logs: the code's stdlib `extra` fields come out as fields, numbers masked,
secrets and stock items never printed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from entrypoints.observability import configure_logging, mask_number
from tests.ops.conftest import seed
from tests.support.shop import ALICE, Shop, settings


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buffer = io.StringIO()
    configure_logging("json", stream=buffer)
    yield buffer
    root.handlers[:], root.level = saved


def lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_numbers_are_masked_wherever_they_appear() -> None:
    assert mask_number("6281234567890") == "6281****7890"
    assert mask_number("to 6281234567890, cc 628119999000") == "to 6281****7890, cc 6281****9000"
    assert mask_number("INV-20250301-ABC234DEF567 total 1500000") == "INV-20250301-ABC234DEF567 total 1500000"


def test_extras_become_fields_and_secrets_are_redacted(json_log: io.StringIO) -> None:
    logging.getLogger("tokowa.test").warning(
        "reply to %s not sent", "6281234567890",
        extra={"message_id": "wamid.X1", "order_id": "INV-1", "user_id": "6281234567890",
               "access_token": "EAAG-secret", "password": "hunter2", "items": ["mail|pw"]})
    [record] = lines(json_log)
    assert record["event"] == "reply to 6281****7890 not sent"
    assert (record["message_id"], record["order_id"], record["user_id"]) == ("wamid.X1", "INV-1", "6281****7890")
    assert record["level"] == "warning" and record["logger"] == "tokowa.test"
    assert "EAAG-secret" not in json_log.getvalue() and "hunter2" not in json_log.getvalue()
    assert "mail|pw" not in json_log.getvalue()


async def test_a_whole_shop_day_logs_no_number_and_no_stock_item(json_log: io.StringIO) -> None:
    shop = Shop(config=settings())
    await seed(shop)
    await shop.say(ALICE, ".buy NF1 1 saldo")
    await shop.say(ALICE, ".kirimulang")
    logging.getLogger("tokowa.test").error("payment for %s", ALICE, extra={"user": ALICE})
    output = json_log.getvalue()
    assert output, "nothing was logged"
    assert ALICE not in output
    assert "pw1" not in output and "user1@mail.test" not in output


def test_console_format_is_readable_text() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buffer = io.StringIO()
    try:
        configure_logging("console", stream=buffer)
        logging.getLogger("tokowa.test").info("hello", extra={"order_id": "INV-9"})
    finally:
        root.handlers[:], root.level = saved
    assert "hello" in buffer.getvalue() and "order_id=INV-9" in buffer.getvalue()
    assert not buffer.getvalue().lstrip().startswith("{")
