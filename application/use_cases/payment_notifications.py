"""A verified payment notification from the provider: keep it, confirm it, act on it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.errors import ApplicationError, PaymentProviderUnavailable, StorageUnavailable
from application.ports import Clock, PaymentGateway, UnitOfWorkFactory
from application.use_cases.payments import ApplyPaymentStatus, Outcome

log = logging.getLogger("tokowa.payments")


@dataclass(frozen=True)
class PaymentNotification:
    """A notification whose signature has been checked.

    `event_key` is the same for a redelivery of the same event and differs for a new status;
    `raw` is the body as received."""

    order_id: str
    event_key: str
    raw: str


class NotificationDeferred(ApplicationError):
    """The database or the provider's status API is unreachable: answer so that the provider
    sends the notification again later (HTTP 503). The raw notification may already be stored."""


class HandlePaymentNotification:
    """Act on a verified notification.

    - The raw notification is stored once per event key and committed first, whatever happens next.
    - The state acted on is what the provider's status API says now, never the body's
      `transaction_status` (the signature does not cover it); this also puts out-of-order
      notifications right.
    - A repeat is confirmed and applied again: ApplyPaymentStatus changes nothing and sends
      nothing the second time, and a notification answered 503 before works when it returns.
    - Unknown to the provider: nothing happens. Unknown order, amount or currency mismatch:
      nothing changes, admins are told (ApplyPaymentStatus).
    - Database or status API unreachable: NotificationDeferred.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, gateway: PaymentGateway, apply: ApplyPaymentStatus,
                 clock: Clock) -> None:
        self._uow_factory, self._gateway, self._apply, self._clock = uow_factory, gateway, apply, clock

    async def __call__(self, notification: PaymentNotification) -> Outcome:
        try:
            async with self._uow_factory() as uow:
                first = await uow.payments.record(notification.order_id, notification.event_key, notification.raw,
                                                  self._clock.now())
                await uow.commit()
            status = await self._gateway.status(notification.order_id)
            if status is None:
                log.info("notification for an order the provider does not know", extra={"order_id": notification.order_id})
                return Outcome.UNCHANGED
            if status.order_id != notification.order_id:
                log.error("status API answered for another order", extra={"order_id": notification.order_id})
                return Outcome.MISMATCH
            outcome = await self._apply(status)
        except (StorageUnavailable, PaymentProviderUnavailable) as error:
            log.warning("payment notification deferred: %s", type(error).__name__,
                        extra={"order_id": notification.order_id})
            raise NotificationDeferred(str(error)) from error
        log.info("payment notification handled", extra={
            "order_id": notification.order_id, "outcome": outcome.value, "repeat": not first})
        return outcome
