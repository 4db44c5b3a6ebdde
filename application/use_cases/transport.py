"""Watching the WhatsApp transport: a session logged out or disconnected (GOWA), or a token Meta
refuses (Cloud API), raises the durable `alert.transport_down` (dashboard, admin API); when it
is back, the alert closes and the admins are told (their messages waited in the outbox)."""

from __future__ import annotations

import logging

from application.ports import Clock, TransportHealth, UnitOfWorkFactory
from application.services import Notifier

log = logging.getLogger("tokowa.transport")

TRANSPORT_DOWN = "alert.transport_down"


class WatchTransport:
    def __init__(self, health: TransportHealth, uow_factory: UnitOfWorkFactory, notifier: Notifier, clock: Clock,
                 name: str) -> None:
        self._health, self._uow_factory, self._notifier, self._clock = health, uow_factory, notifier, clock
        self._name = name
        self.last: bool | None = None  # what the last look found (None: nothing known)

    async def __call__(self) -> bool | None:
        connected = await self._health.connected()
        self.last = connected
        if connected is False:
            log.error("whatsapp transport down", extra={"transport": self._name})
            await self._notifier.alert_admins(TRANSPORT_DOWN, subject=self._name, transport=self._name)
        elif connected:
            async with self._uow_factory() as uow:
                queued = []
                if await uow.alerts.resolve(TRANSPORT_DOWN, self._name, self._clock.now()):
                    queued = await self._notifier.tell_admins(uow, "transport.back", transport=self._name)
                await uow.commit()
            await self._notifier.deliver(queued)
        return connected
