"""A caller who pauses mid-request long enough for the agent to answer the first half, then goes
on, gets an answer to the whole request (real livekit-server and worker: Whisper, piper, Silero,
the rules dialogue engine).

With silence-only turn detection the first half ("Can I move my flight") is taken as a turn and
the agent starts a reply to it; the rest ("to next Tuesday?") cuts that reply off in its first
words. The dialogue engine joins the halves (speech/dialogue/context.py); without that it hears
"to next Tuesday?" alone and does not look for flights on that day.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from navan_voice.caller.audio import load_audio
from navan_voice.caller.client import SAMPLE_RATE, Caller
from navan_voice.config import Settings
from navan_voice.db.seed import DEMO_PHONE
from navan_voice.stack.processes import ManagedProcess

WorkerFactory = Callable[[int], ManagedProcess]
IndexedCall = Callable[[str], Awaitable[Any]]

pytestmark = pytest.mark.integration

FIRST = "Can I move my Denver flight"
REST = "to next Tuesday?"
PAUSE_S = 1.2  # past the VAD's 0.45 s: the agent is starting its reply when the caller goes on


async def test_a_request_split_by_a_pause_is_answered_whole(
    stack_settings: Settings,
    workers: WorkerFactory,
    caller_wav: Callable[[str], Path],
    indexed_call: IndexedCall,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NAVAN_TURN_DETECTION", "vad")  # the pause ends the first turn
    workers(0)
    first = load_audio(caller_wav(FIRST), SAMPLE_RATE).samples
    rest = load_audio(caller_wav(REST), SAMPLE_RATE).samples
    pause = np.zeros(int(PAUSE_S * SAMPLE_RATE), dtype=np.int16)
    caller = Caller(stack_settings, phone=DEMO_PHONE)
    try:
        await caller.connect()
        await caller.wait_for_agent(90)
        await caller.greet(90)
        await caller.speak(np.concatenate([first, pause, rest]))
        assert await caller.wait_until_agent_talks(60), "no answer"
        await caller.wait_agent_done(60)
    finally:
        await caller.close()
    detail = await indexed_call(caller.room_name)
    turns = [(turn.user_text, turn.agent_text, turn.interrupted) for turn in detail.turns]
    answers = [turn.agent_text for turn in detail.turns if turn.user_text]
    assert answers, turns
    # the last answer offers flights on the Tuesday: it was given to the whole request
    assert "tuesday" in answers[-1].lower() and "option" in answers[-1].lower(), turns
