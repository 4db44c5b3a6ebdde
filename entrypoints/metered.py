"""The application's objects with metrics around them, chosen by the composition root.

The application layer knows nothing of Prometheus: these subclasses and wrappers count what
passes through the pipeline, the commands, the payment use case and the messenger.
"""

from __future__ import annotations

import time
from typing import Any

from application.chat.commands import ChatContext, Commands, Usage
from application.chat.parser import ParsedCommand
from application.chat.pipeline import ChatPipeline, IncomingMessage
from application.errors import MessengerUnavailable
from application.ports import Messenger, PaymentStatus
from application.replies import Reply
from application.use_cases.payments import ApplyPaymentStatus, Outcome
from domain.errors import DomainError
from entrypoints.metrics import Metrics


class _Children:
    """A labelled metric's children, each resolved once (`labels()` validates and locks on every
    call) and only when first counted, so /metrics lists the same label values as before."""

    def __init__(self, metric: Any) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> Any:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


class MeteredChatPipeline(ChatPipeline):
    """Counts messages in (new or redelivered) and times their processing."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._metrics = metrics
        self._messages_in = _Children(metrics.messages_in)

    async def accept(self, message: IncomingMessage) -> bool:
        first = await super().accept(message)
        self._messages_in("accepted" if first else "redelivered").inc()
        return first

    async def process(self, message: IncomingMessage, *, rerun: bool = False) -> list[Reply]:
        started = time.perf_counter()
        try:
            return await super().process(message, rerun=rerun)
        finally:
            self._metrics.processing.observe(time.perf_counter() - started)
            self._metrics.after_message()


class MeteredCommands(Commands):
    """Counts each command run by operation: ok, refused (a business rule), usage or error."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._transactions = _Children(metrics.transactions)

    async def run(self, cmd: ParsedCommand, ctx: ChatContext) -> Reply:
        result = "error"
        try:
            reply = await super().run(cmd, ctx)
            result = "ok"
            return reply
        except Usage:
            result = "usage"
            raise
        except DomainError:
            result = "refused"
            raise
        finally:
            self._transactions(cmd.name, result).inc()


class MeteredApplyPaymentStatus(ApplyPaymentStatus):
    """Counts payment statuses applied, by the provider's state and what it did to the order."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._metrics = metrics

    async def __call__(self, status: PaymentStatus, *, trusted_amount: bool = False, local: bool = False) -> Outcome:
        outcome = await super().__call__(status, trusted_amount=trusted_amount, local=local)
        self._metrics.payments.labels(status.state.value, outcome.value).inc()
        return outcome


class MeteredMessenger:
    """A Messenger that counts sent and failed messages of the one it wraps."""

    def __init__(self, inner: Messenger, metrics: Metrics) -> None:
        self.inner, self._metrics = inner, metrics
        self._messages_out = _Children(metrics.messages_out)

    async def send(self, to: str, reply: Reply) -> str | None:
        try:
            provider_id = await self.inner.send(to, reply)
        except MessengerUnavailable:
            self._messages_out("failed").inc()
            raise
        self._messages_out("sent").inc()
        return provider_id
