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
from typing import Any

import pytest
from tests.integration.conftest import PausedRequest

from navan_voice.stack.processes import ManagedProcess

WorkerFactory = Callable[[int], ManagedProcess]
IndexedCall = Callable[[str], Awaitable[Any]]

pytestmark = pytest.mark.integration

FIRST = "Can I move my Denver flight"
REST = "to next Tuesday?"
PAUSE_S = 1.2  # past the VAD's 0.45 s: the agent is starting its reply when the caller goes on


async def test_a_request_split_by_a_pause_is_answered_whole(
    workers: WorkerFactory,
    paused_request: PausedRequest,
    indexed_call: IndexedCall,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NAVAN_TURN_DETECTION", "vad")  # the pause ends the first turn
    workers(0)
    caller, _ = await paused_request(FIRST, PAUSE_S, REST)
    detail = await indexed_call(caller.room_name)
    turns = [(turn.user_text, turn.agent_text, turn.interrupted) for turn in detail.turns]
    answers = [turn.agent_text for turn in detail.turns if turn.user_text]
    assert answers, turns
    # the last answer offers flights on the Tuesday: it was given to the whole request
    assert "tuesday" in answers[-1].lower() and "option" in answers[-1].lower(), turns
