"""The simulator page's chat endpoint takes the same edge as the WhatsApp transports: control
characters are cleaned out and texts cut to 4096 characters before anything is stored."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.support.shop import ALICE

Client = AsyncTestClient[Any]


async def test_a_text_with_control_characters_is_cleaned_and_answered(client: Client) -> None:
    response = await client.post("/sim/messages", json={"user": ALICE, "text": ".sal\u0000do\u001b"})
    assert response.status_code == 201
    assert response.json()["messages"][-1]["text"] == "Saldo kamu: *Rp 80.000*"
    too_long = await client.post("/sim/messages", json={"user": ALICE, "text": ".saldo\n" + "x" * 10_000})
    assert too_long.status_code == 201
    *_, mine, answer = too_long.json()["messages"]
    assert mine["from_user"] and mine["text"] == ".saldo\n" + "x" * 4089 and mine["seq"] == too_long.json()["seq"]
    assert not answer["from_user"] and answer["text"] == "Saldo kamu: *Rp 80.000*"


async def test_the_conversation_comes_back_with_both_sides_in_order(client: Client) -> None:
    await client.post("/sim/messages", json={"user": ALICE, "text": ".saldo"})
    history = (await client.get("/sim/messages", params={"user": "0" + ALICE[2:]})).json()["messages"]
    assert [(m["from_user"], m["text"]) for m in history] == [(True, ".saldo"), (False, "Saldo kamu: *Rp 80.000*")]
