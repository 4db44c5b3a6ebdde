"""The ASGI app factory for worker processes (`tokowa serve --workers N`, or any ASGI server:
`uvicorn --factory entrypoints.web.asgi:create --workers 4`). Each worker reads the same
environment and builds its own container; the database is migrated before they start."""

from __future__ import annotations

from litestar import Litestar

from entrypoints.bootstrap import build_application
from entrypoints.observability import configure_logging
from entrypoints.settings import Settings
from entrypoints.web.app import create_app


def create() -> Litestar:
    settings = Settings()
    configure_logging(settings.log_format)
    settings.check_serving()
    return create_app(settings, build_application(settings))
