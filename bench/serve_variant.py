"""`tokowa serve` with what-if changes applied, to measure a proposed change before making it.

BENCH_TWEAKS is a comma-separated list:
- `quiet_httpx`: the `httpx` logger at WARNING (no INFO line per Graph API request);
- `no_litestar_logging`: Litestar keeps the CLI's logging (no queue handler and listener thread);
- `granian`: served by granian (ASGI, uvloop, HTTP/1) instead of uvicorn;
- TOKOWA_DB_POOL_PRE_PING=false is a plain setting (one round trip less per transaction);
- what the 2026-11 features cost (each turns one off; for measuring only, never a product setting):
  `no_repeat` (no double-tap check in the purchase transaction), `no_beat` (no lease-renewal timer
  per message and per delivery), `no_crypt` (inbox bodies and outbox payloads stored unencrypted);
- `prebuilt_recent`: `OrderRepository.recent_of` as a statement compiled once (`direct.prebuilt`).

    BENCH_TWEAKS=quiet_httpx,keepalive .venv/bin/python bench/serve_variant.py serve --port N
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import tempfile


import entrypoints.web.app as web_app
from entrypoints.cli import main

tweaks = set(filter(None, os.environ.get("BENCH_TWEAKS", "").split(",")))
if "quiet_httpx" in tweaks:
    logging.getLogger("httpx").setLevel(logging.WARNING)
if "no_litestar_logging" in tweaks:
    web_app.TokowaApp = functools.partial(web_app.TokowaApp, logging_config=None)  # type: ignore[attr-defined,assignment]
if "granian" in tweaks:
    # `tokowa serve` under granian instead of uvicorn (the app built by the worker factory, as with --workers).
    import uvicorn
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops

    def _granian_run(app: object, host: str = "127.0.0.1", port: int = 8000, workers: int = 1, **_: object) -> None:
        if workers > 1:
            os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="tokowa-metrics-"))
        Granian("entrypoints.web.asgi:create", address=host, port=port, interface=Interfaces.ASGI, workers=workers,
                loop=Loops.uvloop, http=HTTPModes.http1, websockets=False, factory=True).serve()

    uvicorn.run = _granian_run  # type: ignore[assignment]

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

    pipeline.kept_leased_lazily = outbox.kept_leased_lazily = _unleased  # type: ignore[assignment]
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
