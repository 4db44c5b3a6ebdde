from __future__ import annotations

import pytest

from tests.support.shop import Shop


@pytest.fixture
async def shop() -> Shop:
    s = Shop()
    await s.stock_products()
    return s


@pytest.fixture
def empty_shop() -> Shop:
    return Shop()
