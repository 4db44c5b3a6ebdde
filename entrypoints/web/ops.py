"""Operating endpoints: `/healthz`, `/readyz`, `/metrics` and the seller's `/dashboard`.

- `/healthz`: the process answers (200).
- `/readyz`: 200 when the database answers (`degraded` when Redis does not: it fails open, or
  when the WhatsApp transport is down: messages wait in the outbox), 503 when the database does not.
- `/metrics`: Prometheus text format, no token (keep it on an internal network).
- `/dashboard`: a static page; it asks the seller for the admin token and calls the admin API.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from litestar import Controller, Response, Router, get
from litestar.di import NamedDependency, Provide

from entrypoints.container import Application
from entrypoints.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger("tokowa.ops")

DB_PING_TIMEOUT = 2.0
_DASHBOARD = Path(__file__).parent / "static" / "dashboard.html"


class OpsController(Controller):
    """Health, readiness, metrics and the dashboard page; none needs the admin token."""

    include_in_schema = False

    @get("/healthz")
    async def healthz(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/readyz")
    async def readyz(self, ops_container: NamedDependency[Any]) -> Response[dict[str, str]]:
        database = await _database_state(ops_container)
        redis = await _redis_state(ops_container)
        whatsapp = await _whatsapp_state(ops_container)
        if database == "down":
            status, code = "unavailable", 503
        else:
            status, code = ("degraded" if "down" in (redis, whatsapp) else "ready"), 200
        return Response({"status": status, "database": database, "redis": redis, "whatsapp": whatsapp},
                        status_code=code)

    @get("/metrics")
    async def metrics(self, ops_container: NamedDependency[Any],
                      ops_metrics: NamedDependency[Metrics]) -> Response[bytes]:
        await _read_backlog(ops_container, ops_metrics)
        return Response(ops_metrics.render(), media_type=CONTENT_TYPE)

    @get("/dashboard", media_type="text/html")
    async def dashboard(self) -> str:
        return _DASHBOARD.read_text(encoding="utf-8")


async def _database_state(container: Application) -> str:
    adapters: Any = container.adapters
    if "storage" not in adapters.providers:
        return "memory"
    try:
        async with asyncio.timeout(DB_PING_TIMEOUT):
            answered = await adapters.storage().ping()
    except TimeoutError:
        answered = False
    return "up" if answered else "down"


async def _redis_state(container: Application) -> str:
    answered = await container.adapters.coordination().ready()
    return "not_configured" if answered is None else "up" if answered else "down"


async def _whatsapp_state(container: Application) -> str:
    """What the transport watch found last; before its first round, one look of our own.
    Down is not unready: messages wait in the outbox until the transport is back."""
    connected = container.watch_transport().last
    if connected is None:
        try:
            async with asyncio.timeout(DB_PING_TIMEOUT):
                connected = await container.adapters.transport_health().connected()
        except TimeoutError:
            connected = None
    return "down" if connected is False else "up"


async def _read_backlog(container: Any, metrics: Metrics) -> None:
    """The outbox's backlog into the gauges; with the database slow or down they keep their last
    values (readiness says the database is down, not the metrics)."""
    async def read() -> tuple[int, int]:
        async with container.adapters.unit_of_work() as uow:
            return await uow.outbox.pending_count(), await uow.outbox.held_count()

    try:
        pending, held = await asyncio.wait_for(read(), DB_PING_TIMEOUT)
    except Exception:
        log.debug("outbox backlog not read for /metrics", exc_info=True)
        return
    metrics.outbox_pending.set(pending)
    metrics.outbox_held.set(held)


def watch_adapters(container: Application) -> Metrics:
    """Hook the adapters' counters and the database engine into the app's metrics."""
    metrics: Metrics = container.metrics()
    adapters: Any = container.adapters
    metrics.watch_coordination(adapters.coordination().stats)
    metrics.watch_deliveries(adapters.delivery_stats())
    if "storage" in adapters.providers:
        metrics.watch_storage(adapters.storage())
    return metrics


def ops_router(container: Application) -> Router:
    """The ops routes with their dependencies; the adapters' counters are watched from here on."""
    metrics = watch_adapters(container)
    return Router(path="/", route_handlers=[OpsController], dependencies={
        "ops_container": Provide(lambda: container, sync_to_thread=False),
        "ops_metrics": Provide(lambda: metrics, sync_to_thread=False),
    })
