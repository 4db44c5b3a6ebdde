"""Demo mode (the simulator chat, where anyone may write as any number) only where it is safe:
the embedded SQLite default on a loopback host, or TOKOWA_DEMO=true said on purpose."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from entrypoints.settings import ConfigError
from entrypoints.web.app import create_app
from tests.support.shop import ALICE, Shop, settings

PG = "postgresql+asyncpg://tokowa@db.internal:5432/tokowa"
SQLITE = "sqlite+aiosqlite:///./tokowa.db"


@pytest.mark.parametrize("env, demo", [
    ({}, True),  # `make run`: the embedded default on 127.0.0.1
    ({"TOKOWA_HOST": "localhost"}, True),
    ({"TOKOWA_HOST": "::1"}, True),
    ({"TOKOWA_HOST": "0.0.0.0"}, False),
    ({"TOKOWA_HOST": "::"}, False),
    ({"TOKOWA_HOST": "192.168.1.20"}, False),
    ({"DATABASE_URL": PG}, False),
    ({"DATABASE_URL": PG, "TOKOWA_DEMO": "true"}, True),
    ({"TOKOWA_HOST": "0.0.0.0", "TOKOWA_DEMO": "true"}, True),
    ({"TOKOWA_DEMO": "false"}, True),
    ({"GOWA_API_URL": "http://127.0.0.1:3000", "GOWA_WEBHOOK_SECRET": "g", "TOKOWA_DEMO": "true"}, False),
])
def test_where_the_simulator_may_serve(env: dict[str, str], demo: bool) -> None:
    config = settings(**{"DATABASE_URL": SQLITE, **env})
    assert config.demo_mode is demo
    if demo or config.gowa_api_url:
        config.check_serving()
    else:
        with pytest.raises(ConfigError) as refused:
            config.check_serving()
        assert all(name in str(refused.value) for name in ("WHATSAPP_ACCESS_TOKEN", "GOWA_API_URL", "TOKOWA_DEMO"))


async def _answers(**env: str) -> list[int]:
    shop = Shop()
    async with AsyncTestClient(create_app(settings(TOKOWA_SERVER_JOBS="false", **env), shop.app)) as client:
        client_any: Any = client
        return [
            (await client_any.get("/")).status_code,
            (await client_any.post("/sim/messages", json={"user": ALICE, "text": ".saldo"})).status_code,
            (await client_any.get("/sim/messages", params={"user": ALICE})).status_code,
            (await client_any.get("/pay/INV-20260101-AAAAAAAAAAAA")).status_code,
            (await client_any.get("/healthz")).status_code,
        ]


async def test_simulator_routes_are_not_there_outside_demo_mode() -> None:
    assert await _answers(DATABASE_URL=PG) == [404, 404, 404, 404, 200]
    assert await _answers(DATABASE_URL=SQLITE, TOKOWA_HOST="0.0.0.0") == [404, 404, 404, 404, 200]


async def test_simulator_routes_answer_in_demo_mode() -> None:
    answers = await _answers(DATABASE_URL=PG, TOKOWA_DEMO="true")
    assert answers[:3] == [200, 201, 200] and answers[4] == 200
