"""What the WhatsApp webhooks share: accept messages (recorded in the database, so a redelivery is
dropped even after a restart), answer, and process them in the background.

Meta and GOWA only need to know the message is safe with us; the reply may take seconds (the
database, the payment provider, Meta's own send API). Background tasks are kept in a set so they
are not garbage-collected mid-flight, and drained when the server stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from typing import Any

from application.chat.pipeline import ChatPipeline, IncomingMessage
from application.errors import StorageUnavailable

log = logging.getLogger("tokowa.web.intake")


class BackgroundTasks:
    """Tasks started after a webhook answered; `drain` waits for them (shutdown, tests)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for every task (including ones they start); after `timeout` s cancel the rest."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._tasks:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                break
            await asyncio.wait(set(self._tasks), timeout=remaining)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            log.warning("%d message(s) still processing at shutdown were cancelled", len(self._tasks))
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def accept_and_schedule(pipeline: ChatPipeline, messages: Iterable[IncomingMessage],
                              background: BackgroundTasks) -> int:
    """Record each message on its own, then process the new ones in the background, one task per
    sender so a customer's messages are handled in the order they came.

    One message failing to be recorded never keeps the others of the batch from it. One the
    database refused for good (a bug, not an outage) is logged and dropped: answering an error
    would only make the provider send the same batch again forever. When the database was
    unreachable for any, StorageUnavailable is raised after all were tried (the webhook answers
    503, the provider retries, and those recorded now are dropped then as redeliveries)."""
    by_sender: dict[str, list[IncomingMessage]] = {}
    unavailable: StorageUnavailable | None = None
    try:
        for message in messages:
            try:
                if await pipeline.accept(message):
                    by_sender.setdefault(message.sender, []).append(message)
            except StorageUnavailable as error:
                unavailable = error
            except Exception:
                log.exception("a message could not be recorded and is dropped",
                              extra={"message_id": message.message_id})
    finally:
        # Whatever was recorded before a failure must still run: a redelivery will be dropped.
        for queue in by_sender.values():
            background.spawn(_process_in_order(pipeline, queue))
    if unavailable is not None:
        raise unavailable
    return sum(len(queue) for queue in by_sender.values())


async def _process_in_order(pipeline: ChatPipeline, messages: list[IncomingMessage]) -> None:
    for message in messages:
        try:
            await pipeline.process(message)
        except Exception:
            log.exception("processing a message failed", extra={"message_id": message.message_id})
