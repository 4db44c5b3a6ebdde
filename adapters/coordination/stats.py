"""Counters the coordination adapters keep, for the metrics endpoint to export."""

from __future__ import annotations

import itertools
import os
import secrets
from dataclasses import dataclass

from application.ports import RateDecision


@dataclass
class CoordinationStats:
    """Plain counters shared by every coordination adapter of one process.

    `redis_errors` counts real failed Redis calls only: calls skipped while the breaker is
    open touch no network and are not counted. A cache read that failed open counts as a
    miss, a lock granted without Redis as `lock_failed_open` (not `lock_acquired`).
    """

    cache_hits: int = 0
    cache_misses: int = 0
    lock_acquired: int = 0
    lock_contended: int = 0
    lock_failed_open: int = 0
    rate_limited: int = 0
    redis_errors: int = 0
    breaker_open: bool = False


def rate_decision(count: int, limit: int, stats: CoordinationStats, remaining_ms: int | None = None) -> RateDecision:
    """The decision for the `count`-th hit of a window; warns only on the first refusal."""
    if count <= limit:
        return RateDecision(allowed=True, warn=False)
    stats.rate_limited += 1
    retry = max(1, -(-remaining_ms // 1000)) if remaining_ms is not None and remaining_ms > 0 else None
    return RateDecision(allowed=False, warn=count == limit + 1, retry_after=retry)


_TOKEN_PREFIX = f"{os.getpid():x}-{secrets.token_hex(8)}-"
_TOKEN_SERIAL = itertools.count(1)


def lock_token() -> str:
    """A lock token no other holder has: random per process, then a serial number (no system
    call per lock, unlike drawing fresh random bytes each time)."""
    return f"{_TOKEN_PREFIX}{next(_TOKEN_SERIAL):x}"
