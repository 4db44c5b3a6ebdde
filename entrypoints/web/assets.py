"""Files every page uses, served by Tokowa itself so no page needs the internet: the favicon and
the vendored Redoc bundle of the OpenAPI page (`static/redoc.LICENSE.txt`: MIT)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from litestar import Controller, get
from litestar.response import Response

REDOC_JS = "/static/redoc.standalone.js"
FAVICON = "/favicon.ico"
FAVICON_LINK = f"<link rel='icon' href='{FAVICON}'>"
_CACHED = {"Cache-Control": "public, max-age=86400"}


@cache
def _asset(name: str) -> bytes:
    return resources.files("entrypoints.web.static").joinpath(name).read_bytes()


class AssetsController(Controller):
    path = "/"
    include_in_schema = False

    @get(FAVICON, media_type="image/x-icon")
    async def favicon(self) -> Response[bytes]:
        return Response(_asset("favicon.ico"), media_type="image/x-icon", headers=_CACHED)

    @get(REDOC_JS, media_type="text/javascript")
    async def redoc(self) -> Response[bytes]:
        return Response(_asset("redoc.standalone.js"), media_type="text/javascript; charset=utf-8", headers=_CACHED)
