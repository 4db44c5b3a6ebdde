"""The app factory: settings read once, the container built, routes and lifespan wired."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.response import Response

from entrypoints.bootstrap import close_adapters
from entrypoints.container import Application
from entrypoints.settings import Settings, Transport
from entrypoints.web.gowa import GowaWebhook
from entrypoints.web.gowa import PATH as GOWA_PATH
from entrypoints.web.hot_path import TokowaApp, Webhook
from entrypoints.web.intake import BackgroundTasks
from entrypoints.web.admin_api import admin_router
from entrypoints.web.admin_common import openapi_config
from entrypoints.web.assets import AssetsController
from entrypoints.web.midtrans import MidtransWebhookController
from entrypoints.web.ops import ops_router
from entrypoints.web.simulator import SimulatorController
from entrypoints.web.whatsapp import MAX_BODY_BYTES, CloudApiWebhook, whatsapp_router
from entrypoints.web.whatsapp import PATH as WHATSAPP_PATH
from entrypoints.workers import cluster_jobs, deliver_leftovers, repeat

log = logging.getLogger("tokowa.web")

SHUTDOWN_GRACE_SECONDS = 10.0


def _internal_error(_: Any, exc: Exception) -> Response[dict[str, str]]:
    log.exception("unhandled error", exc_info=exc)
    return Response({"error": "temporarily unavailable"}, status_code=503)


def create_app(settings: Settings, container: Application) -> TokowaApp:
    adapters = container.adapters
    demo = settings.demo_mode
    background = BackgroundTasks()

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        tasks = []
        if settings.run_jobs_in_server:
            tasks = [
                asyncio.create_task(repeat(container.use_cases().expire_stale, settings.jobs_interval_seconds, "expiry")),
                asyncio.create_task(repeat(lambda: deliver_leftovers(container), settings.delivery_interval_seconds,
                                           "delivery")),
                # Every instance asks; one per round (an hour) in the whole cluster prunes.
                asyncio.create_task(repeat(container.prune(), settings.jobs_interval_seconds, "retention")),
            ] + [asyncio.create_task(repeat(job, every, name)) for job, every, name in
                 cluster_jobs(container, settings.jobs_interval_seconds, settings.doctor_interval_seconds)]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await background.drain(timeout=SHUTDOWN_GRACE_SECONDS)
            await close_adapters(container)

    dependencies = {
        "pipeline": Provide(lambda: container.pipeline(), sync_to_thread=False),
        "messenger": Provide(lambda: adapters.messenger(), sync_to_thread=False),
        "gateway": Provide(lambda: adapters.gateway(), sync_to_thread=False),
        "apply_payment": Provide(lambda: container.apply_payment(), sync_to_thread=False),
        "payment_verifier": Provide(lambda: adapters.payment_verifier(), sync_to_thread=False),
        "handle_notification": Provide(lambda: container.handle_notification(), sync_to_thread=False),
        "shop_queries": Provide(lambda: container.queries(), sync_to_thread=False),
    }
    routes: list[Any] = [ops_router(container), admin_router(settings.admin_token, container), MidtransWebhookController,
                         AssetsController]
    if demo:
        routes.append(SimulatorController)
    # The webhooks' POSTs are answered in front of Litestar's routing (hot_path.py).
    webhooks: dict[str, tuple[Webhook, int]] = {}
    if settings.transport is Transport.CLOUD_API:
        routes.append(whatsapp_router(settings))
        webhooks[WHATSAPP_PATH] = (CloudApiWebhook(settings.whatsapp_app_secret, container.pipeline, background,
                                                   adapters.delivery_stats(), container.outbox), MAX_BODY_BYTES)
    if settings.transport is Transport.GOWA:
        webhooks[GOWA_PATH] = (GowaWebhook(settings.gowa_webhook_secret, settings.gowa_groups, container.pipeline,
                                           background), MAX_BODY_BYTES)
    return TokowaApp(
        webhooks=webhooks,
        route_handlers=routes,
        dependencies=dependencies,
        lifespan=[lifespan],
        openapi_config=openapi_config(),
        state=State({"background": background}),
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
        logging_config=None,  # the CLI configured logging (structlog) already; keep it
        debug=False,
    )


def _http_error(_: Any, exc: HTTPException) -> Response[dict[str, Any]]:
    return Response({"error": exc.detail, "status_code": exc.status_code}, status_code=exc.status_code)
