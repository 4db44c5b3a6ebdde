"""Prometheus metrics: the seed's list, in one registry per app, multi-process aware.

With several worker processes set `PROMETHEUS_MULTIPROC_DIR` to an empty, writable directory
before the processes start (prometheus-client reads it at import time): every process then
writes its samples there and `/metrics`, whichever worker answers, sums counters and
histograms over all of them. Gauges say how they combine (`livesum`, `livemax`, `min`).

Counters the coordination adapters keep (`CoordinationStats`) and the database pool state
are copied into the metrics by `refresh()`: at every scrape, and, with several processes, at most
`REFRESH_EVERY` seconds after a processed message, so the numbers of workers that do not answer the
scrape stay current too (one process answers every scrape itself: no copy per message then).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, fields
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from sqlalchemy import Engine, event

from adapters.coordination.stats import CoordinationStats
from adapters.messaging.stats import DeliveryStats
from adapters.storage.storage import SqlStorage

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_COUNTED = ("cache_hits", "cache_misses", "lock_acquired", "lock_contended", "lock_failed_open",
            "rate_limited", "redis_errors")


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")

REFRESH_EVERY = 1.0  # seconds: far below any scrape interval


class Metrics:
    """Every metric Tokowa exports. One instance per app; tests make as many as they like."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages_in = Counter("tokowa_messages_received", "Incoming WhatsApp messages",
                                   ["result"], registry=r)
        self.messages_out = Counter("tokowa_messages_sent", "Outgoing WhatsApp messages", ["result"], registry=r)
        self.processing = Histogram("tokowa_message_processing_seconds", "Time to process one accepted message",
                                    registry=r, buckets=_FAST_BUCKETS)
        self.transactions = Counter("tokowa_transactions", "Chat commands run, by operation and result",
                                    ["operation", "result"], registry=r)
        self.payments = Counter("tokowa_payment_outcomes", "Payment statuses applied to orders",
                                ["state", "outcome"], registry=r)
        self.query_time = Histogram("tokowa_db_query_seconds", "Time of one database statement",
                                    registry=r, buckets=_FAST_BUCKETS)
        self.cache = Counter("tokowa_cache_requests", "Cache reads", ["result"], registry=r)
        self.locks = Counter("tokowa_lock_acquisitions", "Per-user lock attempts", ["result"], registry=r)
        self.rate_limited = Counter("tokowa_rate_limit_violations", "Refused hits over a rate limit", registry=r)
        self.redis_errors = Counter("tokowa_redis_errors", "Failed Redis calls", registry=r)
        self.redis_breaker_open = Gauge("tokowa_redis_breaker_open", "1 while Redis is skipped (circuit open)",
                                        registry=r, multiprocess_mode="livemax")
        self.db_pool_size = Gauge("tokowa_db_pool_size", "Database connections the pool keeps",
                                  registry=r, multiprocess_mode="livesum")
        self.db_pool_checked_out = Gauge("tokowa_db_pool_checked_out", "Database connections in use",
                                         registry=r, multiprocess_mode="livesum")
        self.db_pool_overflow = Gauge("tokowa_db_pool_overflow", "Connections opened beyond the pool size",
                                      registry=r, multiprocess_mode="livesum")
        self.start_time = Gauge("tokowa_start_time_seconds", "Unix time the first live process started",
                                registry=r, multiprocess_mode="livemin")
        self.uptime = Gauge("tokowa_uptime_seconds", "Seconds since this process started",
                            registry=r, multiprocess_mode="livemax")
        # The database's own backlog, read when /metrics is scraped (every process reads the same rows).
        self.outbox_pending = Gauge("tokowa_outbox_pending", "Outgoing messages waiting to be sent",
                                    registry=r, multiprocess_mode="livemax")
        self.outbox_held = Gauge("tokowa_outbox_held", "Outgoing messages held until their recipient writes "
                                 "again (WhatsApp's 24-hour window)", registry=r, multiprocess_mode="livemax")
        self._started = time.monotonic()
        self.start_time.set(time.time())
        self.delivery_statuses = Counter("tokowa_whatsapp_delivery_statuses", "Delivery statuses WhatsApp reported",
                                         ["status"], registry=r)
        self.delivery_failures = Counter("tokowa_whatsapp_delivery_failures", "Failed deliveries by Meta error code",
                                         ["code"], registry=r)
        self._multiprocess = multiprocess_dir() is not None
        self._refresh_due: asyncio.TimerHandle | None = None
        self._stats: list[_StatsSource] = []
        self._storages: list[SqlStorage] = []
        self._deliveries: list[tuple[DeliveryStats, dict[str, int], dict[int, int]]] = []

    def watch_coordination(self, stats: CoordinationStats) -> None:
        """Export the counters of this coordination adapter set."""
        self._stats.append(_StatsSource(stats))

    def watch_deliveries(self, stats: DeliveryStats) -> None:
        """Export the delivery statuses and failure codes a WhatsApp transport received."""
        self._deliveries.append((stats, {}, {}))

    def watch_storage(self, storage: SqlStorage) -> None:
        """Time every statement (SQLAlchemy's by engine events, the direct path's by its timer)
        and export the pool state."""
        self._storages.append(storage)
        for engine in storage.timed_engines():
            _time_queries(engine, self.query_time)
        storage.statement_timer = self.query_time.observe

    def after_message(self) -> None:
        """`refresh()` soon when another process may answer the scrape (multi-process mode): one
        copy per `REFRESH_EVERY` seconds for all the messages in between, not one per message
        (a copy writes every changed sample to this process's file)."""
        if self._multiprocess and self._refresh_due is None:
            self._refresh_due = asyncio.get_running_loop().call_later(REFRESH_EVERY, self._refresh_now)

    def _refresh_now(self) -> None:
        self._refresh_due = None
        self.refresh()

    def refresh(self) -> None:
        """Copy what the adapters counted since the last call into the metrics."""
        for source in self._stats:
            delta = source.take_delta()
            self.cache.labels("hit").inc(delta.get("cache_hits", 0))
            self.cache.labels("miss").inc(delta.get("cache_misses", 0))
            self.locks.labels("acquired").inc(delta.get("lock_acquired", 0))
            self.locks.labels("contended").inc(delta.get("lock_contended", 0))
            self.locks.labels("failed_open").inc(delta.get("lock_failed_open", 0))
            self.rate_limited.inc(delta.get("rate_limited", 0))
            self.redis_errors.inc(delta.get("redis_errors", 0))
            self.redis_breaker_open.set(1 if source.stats.breaker_open else 0)
        for storage in self._storages:
            size, in_use, overflow = storage.pool_usage()
            self.db_pool_size.set(size)
            self.db_pool_checked_out.set(in_use)
            self.db_pool_overflow.set(overflow)
        for delivery, seen_statuses, seen_codes in self._deliveries:
            for status, count in list(delivery.statuses.items()):
                self.delivery_statuses.labels(status).inc(count - seen_statuses.get(status, 0))
                seen_statuses[status] = count
            for code, count in list(delivery.failures.items()):
                self.delivery_failures.labels(str(code)).inc(count - seen_codes.get(code, 0))
                seen_codes[code] = count
        self.uptime.set(time.monotonic() - self._started)

    def render(self) -> bytes:
        """The Prometheus text exposition: of all processes in multi-process mode."""
        self.refresh()
        directory = multiprocess_dir()
        if directory is None:
            return generate_latest(self.registry)
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(combined)


@dataclass
class _StatsSource:
    stats: CoordinationStats

    def __post_init__(self) -> None:
        self._seen = {name: 0 for name in _COUNTED}

    def take_delta(self) -> dict[str, int]:
        now = {f.name: getattr(self.stats, f.name) for f in fields(self.stats) if f.name in _COUNTED}
        delta = {name: max(0, value - self._seen[name]) for name, value in now.items()}
        self._seen = now
        return delta


def _time_queries(engine: Engine, histogram: Histogram) -> None:
    # Two perf_counter calls and one observe per statement: cheap next to the round trip.
    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any, executemany: bool) -> None:
        conn.info.setdefault("tokowa_query_start", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _stop(conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any, executemany: bool) -> None:
        started = conn.info.get("tokowa_query_start")
        if started:
            histogram.observe(time.perf_counter() - started.pop())
