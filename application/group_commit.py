"""Group commit: calls that arrive while one is in flight wait, and go together in the next step.

The first call runs at once, alone (no waiting when the process is quiet). Calls arriving while a
step is in flight are queued; when it ends they run together as one step (one round trip for N),
and so on until none is left. Each caller gets its own answer. A step that fails with
StorageUnavailable fails each of its callers with it (the database is away for all of them);
any other failure of a step of several runs each of them again alone, so one item the database
refuses never takes the others down with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from application.errors import StorageUnavailable

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger("tokowa.group_commit")


class GroupCommit(Generic[T, R]):
    def __init__(self, step: Callable[[list[T]], Awaitable[list[R]]]) -> None:
        """`step`: the items' answers, in order, in one round trip."""
        self._step = step
        self._busy = False
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def __call__(self, item: T) -> R:
        if self._busy:
            answer: asyncio.Future[R] = asyncio.get_running_loop().create_future()
            self._waiting.append((item, answer))
            return await answer
        self._busy = True
        try:
            return (await self._step([item]))[0]
        finally:
            self._hand_over()

    def _hand_over(self) -> None:
        if self._waiting:
            # The next steps run in a task of their own: this caller has its answer and goes on.
            self._drainer = asyncio.get_running_loop().create_task(self._drain())
        else:
            self._busy = False

    async def _drain(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                await self._run(batch)
        finally:
            for _, answer in batch:  # only when cancelled (the loop shutting down): none left hanging
                if not answer.done():
                    answer.cancel()
            self._busy, self._drainer = False, None
            if self._waiting:  # cancelled with calls queued: the next caller's turn starts them
                waiting, self._waiting = self._waiting, []
                for _, answer in waiting:
                    answer.cancel()

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            answers = await self._step([item for item, _ in batch])
        except StorageUnavailable as error:
            for _, answer in batch:
                _fail(answer, error)
            return
        except Exception as error:
            if len(batch) == 1:
                _fail(batch[0][1], error)
                return
            log.warning("a grouped step failed (%s); its %d items go one by one", type(error).__name__, len(batch))
            for one in batch:
                await self._run([one])
            return
        for (_, answer), value in zip(batch, answers, strict=True):
            if not answer.done():  # its caller may have been cancelled meanwhile
                answer.set_result(value)


def _fail(answer: asyncio.Future[R], error: BaseException) -> None:
    if not answer.done():
        answer.set_exception(error)
