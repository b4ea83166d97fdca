"""Scale-out on the existing engine: two worker processes, four simultaneous calls; the
server spreads the jobs over both workers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from navan_voice.caller.client import Caller
from navan_voice.config import Settings
from navan_voice.stack.processes import ManagedProcess

pytestmark = pytest.mark.integration

WorkerFactory = Callable[[int], ManagedProcess]


async def _join(settings: Settings, all_answered: asyncio.Barrier) -> str:
    caller = Caller(settings)
    try:
        await caller.connect()
        await caller.wait_for_agent(timeout=120)
        # stay on the line until every call is answered: the calls must overlap, or a worker
        # whose first call already ended has room again and may rightly take a third
        await asyncio.wait_for(all_answered.wait(), 150)
    finally:
        await caller.close()
    return caller.room_name


async def test_two_workers_share_four_calls(
    stack_settings: Settings, workers: WorkerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # each worker takes at most two calls at once; the server must send the rest elsewhere
    monkeypatch.setenv("NAVAN_WORKER_MAX_CALLS", "2")
    procs = [workers(0), workers(1)]
    all_answered = asyncio.Barrier(4)
    rooms = await asyncio.gather(*(_join(stack_settings, all_answered) for _ in range(4)))
    assert len(set(rooms)) == 4
    await asyncio.sleep(1.0)  # let the workers' logs catch up

    # each worker logs "call <job> in room <room>" for the calls it took
    taken = {
        proc.name: [room for room in rooms if f"in room {room}" in proc.log_path.read_text()]
        for proc in procs
    }
    assert sum(len(r) for r in taken.values()) == 4, taken  # every call was taken exactly once
    assert sorted(len(r) for r in taken.values()) == [2, 2], taken
