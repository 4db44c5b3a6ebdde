"""One shared Redis connection on which the commands of concurrent messages travel together.

redis-py sends each command alone: it takes a connection from its pool, writes the command,
reads the reply and gives the connection back. Under load many messages reach Redis in the same
turn of the event loop, so `RedisPipe.call` only queues its command; the queue is written in one
go by a pump task that runs once the callers of that turn have queued theirs, and a reader task
hands the replies out in order. The building blocks are redis-py's (`Connection` for the
handshake, `pack_commands`, `read_response`): no RESP code of our own.

What the adapters rely on:
- A caller that stops waiting (RedisHealth's deadline cancels it) leaves its reply to be read
  and dropped, so the connection never gets out of step; a command whose caller left before it
  was written is not sent at all.
- A connection error fails every call written on that connection (each caller fails open); the
  next call opens a new connection. Replies are never matched across two connections: each
  connection has its own queue of waiting callers.
- `reset()` drops the connection and fails everything pending: RedisHealth calls it when its
  breaker opens, so a Redis that stopped answering (or a connection that hangs in its handshake)
  is not waited on again after the cool-down.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

__all__ = ["RedisPipe", "PipedScript"]


class _Link:
    """One connection and the callers waiting for its replies, oldest first."""

    __slots__ = ("connection", "waiting", "reader", "alive")

    def __init__(self, connection: AbstractConnection) -> None:
        self.connection = connection
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.reader: asyncio.Task[None] | None = None
        self.alive = True

    def fail(self, error: BaseException) -> None:
        self.alive = False
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)


class RedisPipe:
    """Auto-pipelining over one connection made by `make_connection` (e.g. a redis-py pool's
    `make_connection`, so the URL's host, database, password and protocol apply)."""

    def __init__(self, make_connection: Callable[[], AbstractConnection]) -> None:
        self._make_connection = make_connection
        self._link: _Link | None = None
        self._queued: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._pump: asyncio.Task[None] | None = None
        self._opening: AbstractConnection | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False
        self.writes = 0
        """Batches written so far (one write each); tests read it."""

    def call(self, *args: Any) -> asyncio.Future[Any]:
        """Queue one command; the future gets its reply (or the error reply / connection error)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._closed:
            future.set_exception(RedisConnectionError("the Redis pipe is closed"))
            return future
        self._queued.append((args, future))
        if self._pump is None:
            self._pump = asyncio.get_running_loop().create_task(self._run_pump())
        return future

    async def _run_pump(self) -> None:
        # Started by the first call of a turn; by the time it runs, the other callers of that turn
        # have queued theirs too, and all of them go out in one write.
        try:
            while self._queued:
                link = self._link
                if link is None or not link.alive or not link.connection.is_connected:
                    if link is not None:  # closed under us: never let redis-py reconnect it behind its reader's back
                        link.fail(RedisConnectionError("the Redis connection was closed"))
                    try:
                        link = await self._open()
                    except Exception as exc:
                        self._opening = None
                        self._fail_queued(exc)
                        return
                batch = [(args, future) for args, future in self._queued if not future.done()]
                self._queued = []
                if not batch:
                    continue
                connection = link.connection
                link.waiting.extend(future for _, future in batch)
                self.writes += 1
                try:
                    await connection.send_packed_command(
                        connection.pack_commands(args for args, _ in batch), check_health=False)
                except Exception as exc:  # redis-py has closed the connection
                    link.fail(exc)
        finally:
            if self._pump is asyncio.current_task():  # not a newer pump started after a reset
                self._pump = None

    async def _open(self) -> _Link:
        connection = self._opening = self._make_connection()
        await connection.connect()  # type: ignore[no-untyped-call]  # HELLO / AUTH / SELECT / CLIENT SETINFO, as in redis-py's pool
        self._opening = None
        link = self._link = _Link(connection)
        link.reader = asyncio.get_running_loop().create_task(self._read(link))
        return link

    async def _read(self, link: _Link) -> None:
        # Reads for as long as the connection lives, so a connection Redis closed is seen at
        # once (and the next call opens a new one) rather than by the next command written on it.
        connection, waiting = link.connection, link.waiting
        try:
            while True:
                try:
                    reply = await connection.read_response()
                except ResponseError as error:  # an error reply: it belongs to its caller
                    if waiting:
                        future = waiting.popleft()
                        if not future.done():
                            future.set_exception(error)
                    continue
                if waiting:
                    future = waiting.popleft()
                    if not future.done():  # a caller that gave up: its reply is dropped
                        future.set_result(reply)
        except asyncio.CancelledError:
            link.fail(RedisConnectionError("the Redis connection was reset"))
            raise
        except Exception as exc:  # read_response has closed the connection
            link.fail(exc if isinstance(exc, RedisConnectionError) else RedisConnectionError(repr(exc)))

    def _fail_queued(self, error: BaseException) -> None:
        queued, self._queued = self._queued, []
        for _, future in queued:
            if not future.done():
                future.set_exception(error)

    def reset(self) -> None:
        """Drop the connection and fail every pending call; the next call opens a new one."""
        error = RedisConnectionError("the Redis connection was reset")
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None
        self._fail_queued(error)
        link, self._link = self._link, None
        connections = [] if self._opening is None else [self._opening]
        self._opening = None
        if link is not None:
            link.fail(error)
            if link.reader is not None:
                link.reader.cancel()
            connections.append(link.connection)
        for connection in connections:  # reset runs in synchronous code: closed by a task
            task = asyncio.get_running_loop().create_task(connection.disconnect(nowait=True))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        self._closed = True
        self.reset()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


class PipedScript:
    """A Lua script run by EVALSHA through a RedisPipe. NOSCRIPT (Redis restarted, SCRIPT FLUSH)
    is answered by running it once with EVAL, which also caches it again on the server."""

    __slots__ = ("body", "sha")

    def __init__(self, body: str) -> None:
        self.body = body
        self.sha = hashlib.sha1(body.encode()).hexdigest()

    async def __call__(self, pipe: RedisPipe, keys: Sequence[str], args: Sequence[Any] = ()) -> Any:
        try:
            return await pipe.call("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await pipe.call("EVAL", self.body, len(keys), *keys, *args)
