"""The in-memory `AlertRepository`: one open alert per kind and subject, like the partial unique
index of the SQL adapters."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from adapters.memory.records import MemoryData
from application.ports import Alert


class MemoryAlertRepository:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    async def raise_(self, alert: Alert) -> int | None:
        subject = alert.subject[:255]
        if any(a.kind == alert.kind and a.subject == subject and a.acknowledged_at is None
               for a in self.data.alerts.values()):
            return None
        alert_id = self.data.next_alert_id
        self.data.next_alert_id += 1
        self.data.alerts[alert_id] = replace(alert, id=alert_id, subject=subject, params=dict(alert.params),
                                             acknowledged_at=None)
        return alert_id

    async def open(self, limit: int = 100) -> list[Alert]:
        return [a for a in self._newest() if a.acknowledged_at is None][:limit]

    async def recent(self, limit: int = 50) -> list[Alert]:
        return self._newest()[:limit]

    async def acknowledge(self, alert_id: int, now: datetime) -> bool:
        alert = self.data.alerts.get(alert_id)
        if alert is None or alert.acknowledged_at is not None:
            return False
        self.data.alerts[alert_id] = replace(alert, acknowledged_at=now)
        return True

    async def resolve(self, kind: str, subject: str, now: datetime) -> bool:
        found = [a for a in self.data.alerts.values()
                 if a.kind == kind and a.subject == subject[:255] and a.acknowledged_at is None]
        for alert in found:
            assert alert.id is not None
            self.data.alerts[alert.id] = replace(alert, acknowledged_at=now)
        return bool(found)

    def _newest(self) -> list[Alert]:
        return sorted(self.data.alerts.values(), key=lambda a: (a.created_at, a.id or 0), reverse=True)


class MemoryJobLeaseRepository:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    async def claim(self, job: str, holder: str, now: datetime, until: datetime) -> bool:
        current = self.data.leases.get(job)
        if current is not None and current[1] > now and current[0] != holder:
            return False
        self.data.leases[job] = (holder, until)
        return True
