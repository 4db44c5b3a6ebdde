"""Failures that are not business rules: a part of the system is unreachable."""

from __future__ import annotations


class ApplicationError(Exception):
    """Base of the infrastructure failures the use cases know about."""


class StorageUnavailable(ApplicationError):
    """The database could not be reached (after the adapter's bounded retries). Nothing was written."""


class PaymentProviderUnavailable(ApplicationError):
    """The payment provider did not answer or answered with an error. Retry later."""


class MessengerUnavailable(ApplicationError):
    """The WhatsApp transport refused or did not answer."""


class RecipientOutsideWindow(MessengerUnavailable):
    """WhatsApp refused a free-form message because its recipient has not written for 24 hours
    (Cloud API 131047): retrying is useless until they write again (or, for an admin, an approved
    template goes instead)."""


class DuplicateOrderId(Exception):
    """`OrderRepository.add`: an order with this id exists already. Not a broken rule but a
    collision of ids; a use case whose id was drawn at random draws another one."""
