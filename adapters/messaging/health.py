"""Is the WhatsApp transport able to send? The `TransportHealth` port on each transport.

- GOWA: `GET {GOWA_API_URL}/app/status` (Basic auth) answers `results.is_connected` and
  `results.is_logged_in`; both must be true.
- Cloud API: `GET {api_url}/{phone_number_id}` with the access token; Meta's error 190 (the
  token expired or was revoked) is down, a 2xx is up.
Anything else (timeouts, 5xx, an odd body) is "no answer" (None): one bad look says nothing.
"""

from __future__ import annotations

import logging

import httpx

from adapters.messaging.cloud_api import meta_error

log = logging.getLogger("tokowa.whatsapp")

TOKEN_REFUSED = 190


class GowaHealth:
    def __init__(self, api_url: str, username: str | None, password: str | None, *, timeout: float = 5.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._url = f"{api_url.rstrip('/')}/app/status"
        auth = httpx.BasicAuth(username, password or "") if username else None
        self._client = httpx.AsyncClient(timeout=timeout, auth=auth, transport=transport)

    async def connected(self) -> bool | None:
        try:
            response = await self._client.get(self._url)
            body = response.json() if response.status_code < 500 else None
        except (httpx.HTTPError, ValueError):
            return None
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, dict):
            return False if response.status_code in (401, 403) else None
        return results.get("is_connected") is True and results.get("is_logged_in") is True

    async def aclose(self) -> None:
        await self._client.aclose()


class CloudApiHealth:
    def __init__(self, api_url: str, phone_number_id: str, access_token: str, *, timeout: float = 5.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._url = f"{api_url.rstrip('/')}/{phone_number_id}"
        self._client = httpx.AsyncClient(timeout=timeout, headers={"Authorization": f"Bearer {access_token}"},
                                         transport=transport)

    async def connected(self) -> bool | None:
        try:
            response = await self._client.get(self._url, params={"fields": "id"})
        except httpx.HTTPError:
            return None
        if 200 <= response.status_code < 300:
            return True
        code, _ = meta_error(response)
        if code == TOKEN_REFUSED:
            log.error("cloud api refuses the access token (error 190)")
            return False
        return None

    async def aclose(self) -> None:
        await self._client.aclose()


class NoHealthCheck:
    """The simulator and console: nothing to watch."""

    async def connected(self) -> bool | None:
        return None
