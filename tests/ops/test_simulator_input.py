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
    assert too_long.status_code == 201 and len(too_long.json()["messages"]) == 2
