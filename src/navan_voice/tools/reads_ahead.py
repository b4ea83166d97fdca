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
one's reads; and reads older than ``ttl_s`` are not used. Our own code: a memo of in-flight
tasks with these rules is a few lines, and no caching library knows "taken once".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

Key = tuple[Any, ...]


def _retrieve(task: asyncio.Task[Any]) -> None:
    # a read no turn took is dropped quietly, not logged as "exception never retrieved"
    if not task.cancelled():
        task.exception()


class ReadsAhead:
    """The reads one call's look-ahead started for the turn in progress."""

    def __init__(
        self,
        ttl_s: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        enabled: bool = True,  # off: reads run but are not kept (NAVAN_LOOKAHEAD_READS)
    ) -> None:
        self._ttl_s = ttl_s
        self._enabled = enabled
        self._clock = clock
        self._reads: dict[Key, tuple[float, asyncio.Task[Any]]] = {}
        self.taken = 0  # reads the real turns did not have to make

    @staticmethod
    def key(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Key:
        # repr: the arguments are ids, strings, dates and enums, not all of them hashable
        return (fn, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))

    def start(self, key: Key, read: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Start a read for the look-ahead and keep it for the real turn."""
        task = asyncio.ensure_future(read)
        task.add_done_callback(_retrieve)
        if self._enabled:
            self._reads[key] = (self._clock(), task)
        return task

    def take(self, key: Key) -> Awaitable[Any] | None:
        """The read kept for ``key`` (once), or None; a miss drops every other kept read."""
        kept = self._reads.pop(key, None)
        if kept is None or self._clock() - kept[0] > self._ttl_s:
            self.clear()
            return None
        self.taken += 1
        return kept[1]

    def clear(self) -> None:
        self._reads.clear()

    def __len__(self) -> int:
        return len(self._reads)
