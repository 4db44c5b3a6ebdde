"""`kept_leased_lazily` with the real clock: a timer until the first renewal is due, then renewals
every third of the lease until the work ends; nothing left running after it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from application.errors import StorageUnavailable
from application.leases import kept_leased_lazily


def _others() -> set[asyncio.Task[object]]:
    return asyncio.all_tasks() - {t for t in [asyncio.current_task()] if t is not None}


async def test_work_shorter_than_a_third_of_the_lease_renews_nothing_and_starts_no_task() -> None:
    renewals: list[int] = []

    async def renew() -> bool:
        renewals.append(1)
        return True

    before = _others()
    async with kept_leased_lazily(renew, timedelta(hours=1)):
        assert _others() == before  # no renewing task while the work runs
        await asyncio.sleep(0)
    assert renewals == []
    assert _others() == before


async def test_longer_work_is_renewed_again_and_again_until_it_ends() -> None:
    renewals = 0
    third_renewal = asyncio.Event()

    async def renew() -> bool:
        nonlocal renewals
        renewals += 1
        if renewals == 3:
            third_renewal.set()
        return True

    before = _others()
    async with kept_leased_lazily(renew, timedelta(milliseconds=15)):  # every 5 ms
        await third_renewal.wait()
    done = renewals
    assert done >= 3
    assert _others() == before  # the renewing task is gone with the work
    await asyncio.sleep(0.02)
    assert renewals == done


async def test_renewals_stop_when_nothing_is_left_to_hold_and_failures_do_not_break_the_work() -> None:
    answers = iter([StorageUnavailable("down"), RuntimeError("bug"), False])
    stopped = asyncio.Event()
    calls = 0

    async def renew() -> bool:
        nonlocal calls
        calls += 1
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        stopped.set()
        return answer

    async with kept_leased_lazily(renew, timedelta(milliseconds=15)):
        await stopped.wait()
        await asyncio.sleep(0.02)  # it asked no more once told there was nothing left
    assert calls == 3


async def test_a_cancelled_block_stays_cancelled() -> None:
    entered = asyncio.Event()

    async def renew() -> bool:
        return True

    async def work() -> None:
        async with kept_leased_lazily(renew, timedelta(milliseconds=3)):
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(work())
    await entered.wait()
    await asyncio.sleep(0.01)  # the renewing task has started
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
