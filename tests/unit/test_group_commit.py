"""Group commit: calls arriving while a step is in flight go together in the next step, and
each caller still gets its own answer or error."""

from __future__ import annotations

import asyncio

import pytest

from application.errors import StorageUnavailable
from application.group_commit import GroupCommit


class Steps:
    """A step the test lets finish: records each step's items; `refuse`: items whose presence
    fails a step (as a row the database refuses fails its statement)."""

    def __init__(self, refuse: frozenset[int] = frozenset(), down: bool = False) -> None:
        self.calls: list[list[int]] = []
        self.release = asyncio.Event()
        self.refuse, self.down = refuse, down

    async def __call__(self, items: list[int]) -> list[int]:
        self.calls.append(list(items))
        await self.release.wait()
        if self.down:
            raise StorageUnavailable("database down")
        if self.refuse & set(items):
            raise ValueError("refused")
        return [item * 10 for item in items]


async def started(group: GroupCommit[int, int], *items: int) -> list[asyncio.Task[int]]:
    tasks = []
    for item in items:
        tasks.append(asyncio.create_task(group(item)))
        await asyncio.sleep(0)  # let it reach its step (or its place in the queue)
    return tasks


async def test_calls_arriving_during_a_step_go_together_in_the_next_and_each_gets_its_answer() -> None:
    steps = Steps()
    group = GroupCommit(steps)
    tasks = await started(group, 1, 2, 3, 4)
    assert steps.calls == [[1]]  # the first runs at once, alone; the others wait
    steps.release.set()
    assert await asyncio.gather(*tasks) == [10, 20, 30, 40]
    assert steps.calls == [[1], [2, 3, 4]]


async def test_a_quiet_process_makes_one_step_per_call() -> None:
    steps = Steps()
    steps.release.set()
    group = GroupCommit(steps)
    assert [await group(1), await group(2)] == [10, 20]
    assert steps.calls == [[1], [2]]


async def test_a_database_outage_fails_every_caller_of_the_step() -> None:
    steps = Steps(down=True)
    group = GroupCommit(steps)
    tasks = await started(group, 1, 2, 3)
    steps.release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, StorageUnavailable) for r in results)
    assert steps.calls == [[1], [2, 3]]  # no retries one by one: the database is away for all


async def test_one_refused_item_fails_alone_the_others_of_its_step_are_answered() -> None:
    steps = Steps(refuse=frozenset({3}))
    group = GroupCommit(steps)
    tasks = await started(group, 1, 2, 3, 4)
    steps.release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[:2] == [10, 20] and isinstance(results[2], ValueError) and results[3] == 40
    assert steps.calls == [[1], [2, 3, 4], [2], [3], [4]]


async def test_a_cancelled_caller_leaves_the_others_their_answers() -> None:
    steps = Steps()
    group = GroupCommit(steps)
    tasks = await started(group, 1, 2, 3)
    tasks[1].cancel()
    steps.release.set()
    assert await tasks[0] == 10 and await tasks[2] == 30
    with pytest.raises(asyncio.CancelledError):
        await tasks[1]
    assert await group(5) == 50  # and the group is free again
