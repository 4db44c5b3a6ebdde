"""Counters of what the WhatsApp transports saw, for logs now and `/metrics` later."""

from __future__ import annotations

import logging
from collections import Counter

from adapters.messaging.cloud_api_payload import DeliveryStatus

log = logging.getLogger("tokowa.whatsapp")


class DeliveryStats:
    """Delivery statuses by kind, failures by Meta error code, and webhook outcomes."""

    def __init__(self) -> None:
        self.statuses: Counter[str] = Counter()
        self.failures: Counter[int] = Counter()
        self.webhooks: Counter[str] = Counter()

    def record_status(self, status: DeliveryStatus) -> None:
        self.statuses[status.status] += 1
        if status.status == "failed":
            for code in status.error_codes or (0,):
                self.failures[code] += 1
            # 131047: outside the 24-hour window; only a template (WHATSAPP_ALERT_TEMPLATE) gets through.
            log.warning("whatsapp delivery failed", extra={
                "wa_message_id": status.message_id, "error_codes": list(status.error_codes),
            })

    def record_webhook(self, outcome: str) -> None:
        self.webhooks[outcome] += 1
