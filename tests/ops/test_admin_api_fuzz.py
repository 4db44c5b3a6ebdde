"""Schemathesis fuzzes every admin API operation from the app's own OpenAPI document:
whatever it sends, with or without the token, the answer is never a 5xx."""

from __future__ import annotations

import asyncio
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from entrypoints.web.app import create_app
from tests.ops.conftest import AUTH, TOKEN, seed
from tests.support.shop import Shop
from tests.support.shop import settings as shop_settings


def _app() -> Any:
    config = shop_settings(TOKOWA_ADMIN_TOKEN=TOKEN, TOKOWA_SERVER_JOBS="false")
    shop = Shop(config=config)
    asyncio.run(seed(shop))
    return create_app(config, shop.app)


schema = schemathesis.openapi.from_asgi("/schema/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_admin_api_operation_answers_5xx(case: Any) -> None:
    authorised = case.call(headers=AUTH)
    assert authorised.status_code < 500, (case.method, case.formatted_path, authorised.text)
    anonymous = case.call(headers={"Authorization": "Bearer not-the-token"})
    # Schemathesis also tries methods the route does not have: those may get 405 before any auth.
    assert anonymous.status_code in (401, 405), (case.method, case.formatted_path, anonymous.status_code)
