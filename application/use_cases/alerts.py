"""The alert board: what admins were told and what still needs them, for the dashboard and API."""

from __future__ import annotations

from dataclasses import dataclass

from application.chat.catalog import text
from application.ports import Alert, Clock, UnitOfWorkFactory
from application.services import ShopSettingsReader


@dataclass(frozen=True)
class ShownAlert:
    alert: Alert
    message: str  # in the shop's language, as the admins received it


class AlertBoard:
    def __init__(self, uow_factory: UnitOfWorkFactory, settings: ShopSettingsReader, clock: Clock) -> None:
        self._uow_factory, self._settings, self._clock = uow_factory, settings, clock

    async def list(self, *, open_only: bool = False, limit: int = 20) -> list[ShownAlert]:
        lang = (await self._settings.get()).language
        async with self._uow_factory() as uow:
            found = await (uow.alerts.open(limit) if open_only else uow.alerts.recent(limit))
        return [ShownAlert(alert, _render(alert, lang)) for alert in found]

    async def acknowledge(self, alert_id: int) -> bool:
        async with self._uow_factory() as uow:
            done = await uow.alerts.acknowledge(alert_id, self._clock.now())
            await uow.commit()
        return done


def _render(alert: Alert, lang: str) -> str:
    try:
        return text(alert.kind, lang, **alert.params)
    except (KeyError, IndexError):  # an alert of an older version whose text changed
        return f"{alert.kind}: {alert.subject}"
