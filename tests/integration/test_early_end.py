"""The early end of turn in a real call (real livekit-server, real worker with the local models):
a finished question ends the caller's speech at the STT's first pass over it, not after the VAD's
silence, and the agent answers it. It is switched on here (``NAVAN_EARLY_END_OF_TURN=true``;
off by default); without it the worker logs no count and this test fails (checked by hand).
The VAD's silence is lengthened to 1.5 s here so that the STT's first pass is sure to be ready
before the VAD would end the speech on its own: at the default 0.45 s, a loaded machine (the full
suite on 2 cores) can finish that pass after the VAD and there is nothing left to end early."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from navan_voice.caller.client import run_call
from navan_voice.config import Settings
from navan_voice.stack.processes import ManagedProcess

WorkerFactory = Callable[[int], ManagedProcess]

pytestmark = pytest.mark.integration

COUNT = re.compile(r"early end of turn: (\d+) turns ended early, the caller went on after (\d+)")


async def early_end_count(log: Path, timeout: float = 30.0) -> tuple[int, int]:
    """The line the worker logs when the call's job ends."""
    for _ in range(int(timeout / 0.5)):
        if found := COUNT.search(log.read_text(encoding="utf-8", errors="replace")):
            ended, resumed = (int(n) for n in found.groups())
            return ended, resumed
        await asyncio.sleep(0.5)
    raise AssertionError(f"the worker logged no early-end count in {timeout:.0f} s: {log}")


async def test_a_finished_question_ends_the_turn_at_the_first_pause(
    stack_settings: Settings,
    workers: WorkerFactory,
    caller_wav: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NAVAN_EARLY_END_OF_TURN", "true")  # the worker inherits the environment
    monkeypatch.setenv("NAVAN_VAD_MIN_SILENCE_S", "1.5")  # see the module
    worker = workers(0)
    question = caller_wav("When does my flight to New York leave?")
    report = await run_call(stack_settings, [question], phone="+14155550123", reply_timeout=90)
    answer = " ".join(line.text for line in report.transcript if line.speaker == "agent")
    assert "1542" in answer, report.transcript  # answered, and answered whole
    ended, resumed = await early_end_count(worker.log_path)
    # the question's turn ended early, and the caller, who had finished, did not go on
    assert ended >= 1 and resumed == 0, (ended, resumed, report.transcript)
