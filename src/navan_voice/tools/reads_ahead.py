"""Reads the look-ahead made, handed to the real turn that follows it.

The look-ahead (agents/lookahead.py) plays a turn through before the turn is committed and
reads the database through the same tools; then the real turn asks the same questions again.
In a call that second read took 30-60 ms after the commit (a 2 ms query; the rest is the
thread hop and the call's other threads), all of it inside the caller's wait (bench/REPORT.md,
session 15). So a read started ahead is kept here, keyed by the service and its arguments,
and the real turn takes it, finished or still running, instead of reading again.

It stays correct because only the look-ahead stores, and the look-ahead stops before any tool
that writes; each read is taken once; a read the real turn asks for that was not stored means
the turn went another way, and everything kept is dropped; each new look-ahead drops the last
one's reads; and reads older than ``ttl_s`` are not used. Our own code: a memo of reads in
flight with these rules is a few lines, and no caching library knows "taken once".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

T = TypeVar("T")
Key = tuple[Any, ...]
_GONE = object()  # the look-ahead was cancelled before its read came back


def _retrieve(kept: asyncio.Future[Any]) -> None:
    # a failed read no turn took is dropped quietly, not logged as "exception never retrieved"
    if not kept.cancelled():
        kept.exception()


class ReadsAhead:
    """The reads one call's look-ahead made for the turn in progress."""

    def __init__(
        self,
        ttl_s: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        enabled: bool = True,  # off: reads run but are not kept (NAVAN_LOOKAHEAD_READS)
    ) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._enabled = enabled
        self._reads: dict[Key, tuple[float, asyncio.Future[Any]]] = {}
        self.taken = 0  # reads the real turns did not have to make

    @staticmethod
    def key(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Key:
        # repr: the arguments are ids, strings, dates and enums, not all of them hashable
        return (fn, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))

    async def ahead(self, key: Key, read: Awaitable[T]) -> T:
        """The look-ahead's read: awaited in the look-ahead's own task (no task of its own: on
        a busy event loop each extra hop costs milliseconds) and kept, as it runs, for the
        real turn."""
        kept: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        kept.add_done_callback(_retrieve)
        if self._enabled:
            self._reads[key] = (self._clock(), kept)
        try:
            value = await read
        except asyncio.CancelledError:
            kept.set_result(_GONE)  # a real turn waiting on it reads for itself
            raise
        except Exception as e:
            kept.set_exception(e)  # the same answer (a speakable ToolError) for the real turn
            raise
        kept.set_result(value)
        return value

    async def behind(self, key: Key, read: Callable[[], Awaitable[T]]) -> T:
        """The real turn's read: the one kept for ``key`` (once), else ``read()``. A read not
        kept drops every other kept read: the turn went another way than the look-ahead."""
        kept = self._reads.pop(key, None)
        if kept is None or self._clock() - kept[0] > self._ttl_s:
            self.clear()
            return await read()
        value = await kept[1]
        if value is _GONE:
            return await read()
        self.taken += 1
        return cast(T, value)

    def clear(self) -> None:
        self._reads.clear()

    def __len__(self) -> int:
        return len(self._reads)
