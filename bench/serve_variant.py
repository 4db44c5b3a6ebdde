"""`tokowa serve` with what-if changes applied, to measure a proposed change before making it.

BENCH_TWEAKS is a comma-separated list:
- `quiet_httpx`: the `httpx` logger at WARNING (no INFO line per Graph API request);
- `no_litestar_logging`: Litestar keeps the CLI's logging (no queue handler and listener thread);
- `keepalive`: the messenger's httpx pool keeps up to 100 idle connections (default 20), so bursts
  of concurrent sends do not open and close connections;
- `poolN` (e.g. `pool8`): the messenger's httpx pool holds at most N connections;
- TOKOWA_DB_POOL_PRE_PING=false is a plain setting (one round trip less per transaction);
- what the 2026-11 features cost (each turns one off; for measuring only, never a product setting):
  `no_repeat` (no double-tap check in the purchase transaction), `no_beat` (no lease-renewal task
  per message and per delivery), `no_crypt` (inbox bodies and outbox payloads stored unencrypted);
- `prebuilt_recent`: `OrderRepository.recent_of` as a statement compiled once (`direct.prebuilt`).

    BENCH_TWEAKS=quiet_httpx,keepalive .venv/bin/python bench/serve_variant.py serve --port N
"""

from __future__ import annotations

import functools
import logging
import os
import sys

import httpx

import adapters.messaging.cloud_api as cloud_api
import entrypoints.web.app as web_app
from entrypoints.cli import main

tweaks = set(filter(None, os.environ.get("BENCH_TWEAKS", "").split(",")))
if "quiet_httpx" in tweaks:
    logging.getLogger("httpx").setLevel(logging.WARNING)
if "no_litestar_logging" in tweaks:
    web_app.Litestar = functools.partial(web_app.Litestar, logging_config=None)  # type: ignore[misc]
if "keepalive" in tweaks:
    class _KeepAliveClient(httpx.AsyncClient):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(limits=httpx.Limits(max_connections=100, max_keepalive_connections=100), **kwargs)  # type: ignore[arg-type]

    cloud_api.httpx = type("httpx", (), {"AsyncClient": _KeepAliveClient, "Timeout": httpx.Timeout})  # type: ignore[assignment]

pools = [t for t in tweaks if t.startswith("pool")]
if pools:
    size = int(pools[0].removeprefix("pool"))

    class _SmallPoolClient(httpx.AsyncClient):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(limits=httpx.Limits(max_connections=size, max_keepalive_connections=size), **kwargs)  # type: ignore[arg-type]

    cloud_api.httpx = type("httpx", (), {"AsyncClient": _SmallPoolClient, "Timeout": httpx.Timeout})  # type: ignore[assignment]

if "no_repeat" in tweaks:
    import application.use_cases.shopping as shopping

    async def _no_repeat(*_: object) -> None:
        return None

    shopping.refuse_repeat = _no_repeat  # type: ignore[assignment]
if "no_beat" in tweaks:
    import contextlib

    import application.chat.pipeline as pipeline
    import application.outbox as outbox

    @contextlib.asynccontextmanager
    async def _unleased(*_: object, **__: object):  # type: ignore[no-untyped-def]
        yield

    pipeline.kept_leased = outbox.kept_leased = _unleased  # type: ignore[assignment]
if "no_crypt" in tweaks:
    from adapters.storage.cipher import StockCipher

    StockCipher.encrypt = lambda self, content: content  # type: ignore[method-assign,assignment,misc]
    StockCipher.decrypt = lambda self, token: token  # type: ignore[method-assign,assignment,misc]
if "prebuilt_recent" in tweaks:
    from sqlalchemy import Integer, bindparam, select

    import adapters.storage.orders as orders
    from adapters.storage.direct import prebuilt

    _RECENT = prebuilt(select(orders.transaksi).where(orders.transaksi.c.user_id == bindparam("user_id"))
                       .order_by(*orders._NEWEST_FIRST).limit(bindparam("limit", type_=Integer)))

    async def _recent_of(self, user_id: str, limit: int = 10):  # type: ignore[no-untyped-def]
        rows = await self._tx.execute(_RECENT, {"user_id": user_id, "limit": limit})
        return [orders._to_order(row, self._tx.cipher) for row in rows]

    orders.SqlAlchemyOrderRepository.recent_of = _recent_of  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
