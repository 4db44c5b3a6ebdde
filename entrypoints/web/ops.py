"""Operating endpoints: `/healthz`, `/readyz`, `/metrics`, the seller's `/dashboard`, and the
periodic consistency check the server runs beside its other jobs.

- `/healthz`: the process answers (200).
- `/readyz`: 200 when the database answers (`degraded` when Redis does not: it fails open),
  503 when the database does not.
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

from application.use_cases.doctor import CheckConsistency
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
        if database == "down":
            status, code = "unavailable", 503
        else:
            status, code = ("degraded" if redis == "down" else "ready"), 200
        return Response({"status": status, "database": database, "redis": redis}, status_code=code)

    @get("/metrics")
    async def metrics(self, ops_metrics: NamedDependency[Metrics]) -> Response[bytes]:
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


def watch_adapters(container: Application) -> Metrics:
    """Hook the adapters' counters and the database engine into the app's metrics."""
    metrics: Metrics = container.metrics()
    adapters: Any = container.adapters
    metrics.watch_coordination(adapters.coordination().stats)
    metrics.watch_deliveries(adapters.delivery_stats())
    if "storage" in adapters.providers:
        metrics.watch_storage(adapters.storage())
    return metrics


async def run_doctor_forever(doctor: CheckConsistency, interval: float) -> None:
    """The periodic consistency check: new findings go to the log and the admins."""
    while True:
        await asyncio.sleep(interval)
        try:
            findings = await doctor(only_new=True)
            if findings:
                log.warning("consistency check found %d problems", len(findings))
        except Exception:
            log.exception("consistency check failed")


def ops_router(container: Application) -> Router:
    """The ops routes with their dependencies; the adapters' counters are watched from here on."""
    metrics = watch_adapters(container)
    return Router(path="/", route_handlers=[OpsController], dependencies={
        "ops_container": Provide(lambda: container, sync_to_thread=False),
        "ops_metrics": Provide(lambda: metrics, sync_to_thread=False),
    })
