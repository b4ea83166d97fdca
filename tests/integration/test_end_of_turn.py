"""End of turn through a real livekit-server and the real worker (Whisper, piper, Silero).

A caller who stops mid-sentence ("I want to fly from Denver to ...") and goes on after a pause
longer than the VAD's silence must get one answer to the whole sentence: with the text turn
detection the words say the turn is not over, so the session waits for the rest. With VAD-only
turn detection the agent would answer the fragment during the pause (checked by hand:
``NAVAN_TURN_DETECTION=vad`` makes this test fail).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tests.integration.conftest import PausedRequest

from navan_voice.caller.audio import rms_dbfs
from navan_voice.caller.client import LOUD_DBFS
from navan_voice.stack.processes import ManagedProcess

WorkerFactory = Callable[[int], ManagedProcess]
IndexedCall = Callable[[str], Awaitable[Any]]

pytestmark = pytest.mark.integration

# Whisper writes it "...Denver to..." (see bench.speech.text_turn for fragments it closes)
FRAGMENT = "I want to fly from Denver to"
REST = "Boston on Friday."
PAUSE_S = 1.5  # well past the VAD's silence (0.45 s), well inside max_endpointing_delay


async def test_a_pause_mid_sentence_does_not_end_the_callers_turn(
    workers: WorkerFactory,
    paused_request: PausedRequest,
    indexed_call: IndexedCall,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NAVAN_TURN_DETECTION", "text")  # the worker reads it at start
    # the wait is counted from the caller's last word: on a starved machine Whisper's transcript
    # of the fragment came 3.2 s late, past the default 3 s, and livekit committed at once
    monkeypatch.setenv("NAVAN_MAX_ENDPOINTING_DELAY_S", "6")
    workers(0)
    caller, fragment_end = await paused_request(FRAGMENT, PAUSE_S, REST)
    # nothing from the agent while the caller paused
    in_pause = [
        at
        for at, samples in caller.listener.chunks
        if fragment_end < at < fragment_end + PAUSE_S and rms_dbfs(samples) > LOUD_DBFS
    ]
    detail = await indexed_call(caller.room_name)
    turns = [(turn.user_text, turn.agent_text) for turn in detail.turns]
    assert not in_pause, (
        f"the agent spoke {in_pause[0] - fragment_end:.2f}s into the pause: {turns}"
    )
    # one caller turn holds both halves; none holds the fragment alone. "Boston", the first
    # word after the pause, marks the second half: on a loaded machine Whisper once heard the
    # end of it, "on Friday", as "I'm afraid"
    said = [turn.user_text.lower() for turn in detail.turns if turn.user_text]
    assert any("denver" in text and "boston" in text for text in said), said
    assert not any("denver" in text and "boston" not in text for text in said), said
