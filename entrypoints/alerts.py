"""Admin alerts kept for the dashboard: an in-process ring buffer of the most recent ones.

Each worker process keeps its own buffer (and loses it on restart); the alerts also go to the
log and to the admins on WhatsApp, which are the durable records.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from application.chat.catalog import text
from application.services import Notifier

_KEEP = 100


@dataclass(frozen=True)
class RecordedAlert:
    at: datetime
    key: str
    message: str
    order_id: str | None


class AlertLog:
    """The last `size` admin alerts of this process, newest first when listed."""

    def __init__(self, size: int = _KEEP) -> None:
        self._alerts: deque[RecordedAlert] = deque(maxlen=size)
        self._lock = threading.Lock()

    def record(self, alert: RecordedAlert) -> None:
        with self._lock:
            self._alerts.append(alert)

    def recent(self, limit: int = 20) -> list[RecordedAlert]:
        with self._lock:
            return list(reversed(self._alerts))[:limit]


class AlertLoggingNotifier(Notifier):
    """A Notifier that also keeps every admin alert in an AlertLog for the dashboard."""

    def __init__(self, *args: Any, alerts: AlertLog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._alert_log = alerts

    def on_alert(self, key: str, params: dict[str, object]) -> None:
        order_id = params.get("order_id")
        try:
            message = text(key, "en", **params)
        except (KeyError, IndexError):
            message = key
        self._alert_log.record(RecordedAlert(datetime.now(UTC), key, message,
                                             str(order_id) if order_id is not None else None))
